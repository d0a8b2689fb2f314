#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian 12 packages tlswatch needs: "build" for building it,
# "test" for building and running every test. Does nothing when they are
# all present; needs root otherwise.
set -eu

build="gcc make pkg-config libpcap-dev clang llvm libbpf-dev bpftool
libelf-dev zlib1g-dev libssl-dev libmicrohttpd-dev"
test="$build libcmocka-dev jq nginx-light openssl gnutls-bin curl tcpdump
tshark python3 iproute2 haproxy nmap prometheus python3-yaml wrk
debootstrap cpio qemu-system-x86 libclang-rt-14-dev valgrind linux-perf"

case "${1:-}" in
build) pkgs=$build ;;
test) pkgs=$test ;;
*)
	echo "usage: $0 build|test" >&2
	exit 2
	;;
esac

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "tests/install-deps.sh: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# tshark asks whether non-root users may capture; the answer does not matter here.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
