#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Regenerate the X.509 test certificates for tests/unit/test_x509.c.
# Keys and serials change on every run; subjects, issuers, SANs and dates do
# not, because `openssl ca` takes fixed -startdate/-enddate: the tests never
# depend on today's date. Run from anywhere; needs openssl 3.
#
# nginx.der and nginx-msg.bin are not made here: they are the server
# certificate and the whole Certificate handshake body (after its 4-byte
# header) of tests/golden/captures/cert-rejected-tls12-openssl.pcap, cut out
# with `tshark -Y tls.handshake.type==11 -T fields -e tls.handshake.certificate`
# and `-e tcp.payload` respectively.
set -eu
out=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# string_mask is per run: utf8only gives UTF8String for non-ASCII,
# "default" gives T61String (all chars < 256) or BMPString.
conf() {
	cat >ca.cnf <<CNF
[ca]
default_ca = tca
[tca]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
email_in_dn = yes
[anything]
commonName = optional
organizationName = optional
organizationalUnitName = optional
countryName = optional
stateOrProvinceName = optional
localityName = optional
emailAddress = optional
[req]
distinguished_name = dn
string_mask = $1
utf8 = yes
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:true
[leaf]
basicConstraints = CA:false
[san]
subjectAltName = DNS:www.example.com,IP:192.0.2.1,DNS:example.com,email:a@example.com,DNS:*.example.net
[nocn_san]
subjectAltName = DNS:nocn.example.org
CNF
	: >index.txt
	echo 1000 >serial
}

# sign NAME KEYALG SUBJ START END EXT [CA]: self-signed without CA.
sign() {
	name=$1 alg=$2 subj=$3 start=$4 end=$5 ext=$6 ca=${7:-}
	case $alg in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$name.key" 2>/dev/null ;;
	ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$name.key" ;;
	esac
	openssl req -config ca.cnf -new -key "$name.key" -subj "$subj" \
		-multivalue-rdn -utf8 -out "$name.csr"
	if [ -z "$ca" ]; then
		openssl ca -config ca.cnf -batch -notext -selfsign \
			-keyfile "$name.key" -in "$name.csr" -out "$name.pem" \
			-startdate "$start" -enddate "$end" -extensions "$ext" \
			-multivalue-rdn -utf8 -preserveDN 2>/dev/null
	else
		openssl ca -config ca.cnf -batch -notext -cert "$ca.pem" \
			-keyfile "$ca.key" -in "$name.csr" -out "$name.pem" \
			-startdate "$start" -enddate "$end" -extensions "$ext" \
			-multivalue-rdn -utf8 -preserveDN 2>/dev/null
	fi
	openssl x509 -in "$name.pem" -outform DER -out "$out/$name.der"
}

conf utf8only
sign rsa-self rsa "/C=US/ST=California/L=San Francisco/O=Example, Inc./OU=Web/CN=rsa.example.com" \
	20240101000000Z 20340101000000Z leaf
sign ec-self ec "/O=EC Test/CN=ec.example.com" \
	20240229120000Z 20260301000000Z leaf
sign ca ec "/C=GB/O=tlswatch tests/CN=Test CA" \
	20200101000000Z 20400101000000Z v3_ca
sign leaf-san ec "/C=GB/O=tlswatch tests/CN=www.example.com" \
	20250615083000Z 20260615083000Z san ca
sign utf8 ec "/C=FR/O=Café Été/CN=Ünïcødé 例え.example" \
	20240101000000Z 20340101000000Z leaf
sign nocn ec "/C=DE/O=No CN GmbH/OU=a+OU=b/emailAddress=hostmaster@example.org" \
	20240101000000Z 20340101000000Z nocn_san
# 1950-1999: UTCTime at both ends of the 50-year rule, long expired.
sign expired ec "/CN=expired.example" \
	19500101000000Z 19991231235959Z leaf
# 2050 and later: GeneralizedTime, up to RFC 5280's "no expiry" date.
sign future ec "/CN=future.example" \
	20500101000000Z 99991231235959Z leaf
conf default
sign bmp ec "/O=Café/CN=例え.example" \
	20240101000000Z 20340101000000Z leaf
