/* SPDX-License-Identifier: BSD-3-Clause */
/* Names for TLS codes. Alerts are spelled as in the IANA registry and
 * the RFCs, which is also how OpenSSL and nginx log them, so that an
 * operator can match our output against the server's log. */
#include <stdio.h>

#include "tls.h"

/* Deprecated codes keep their names: old clients and servers still send
 * them, and "unassigned" would hide what they meant. */
static const char *const alert_names[256] = {
	[0] = "close_notify",
	[10] = "unexpected_message",
	[20] = "bad_record_mac",
	[21] = "decryption_failed",
	[22] = "record_overflow",
	[30] = "decompression_failure",
	[40] = "handshake_failure",
	[41] = "no_certificate",
	[42] = "bad_certificate",
	[43] = "unsupported_certificate",
	[44] = "certificate_revoked",
	[45] = "certificate_expired",
	[46] = "certificate_unknown",
	[47] = "illegal_parameter",
	[48] = "unknown_ca",
	[49] = "access_denied",
	[50] = "decode_error",
	[51] = "decrypt_error",
	[52] = "too_many_cids_requested",
	[60] = "export_restriction",
	[70] = "protocol_version",
	[71] = "insufficient_security",
	[80] = "internal_error",
	[86] = "inappropriate_fallback",
	[90] = "user_canceled",
	[100] = "no_renegotiation",
	[109] = "missing_extension",
	[110] = "unsupported_extension",
	[111] = "certificate_unobtainable",
	[112] = "unrecognized_name",
	[113] = "bad_certificate_status_response",
	[114] = "bad_certificate_hash_value",
	[115] = "unknown_psk_identity",
	[116] = "certificate_required",
	[117] = "general_error",
	[120] = "no_application_protocol",
	[121] = "ech_required",
};

static const char *const handshake_names[256] = {
	[0] = "HelloRequest",
	[1] = "ClientHello",
	[2] = "ServerHello",
	[3] = "HelloVerifyRequest",
	[4] = "NewSessionTicket",
	[5] = "EndOfEarlyData",
	[8] = "EncryptedExtensions",
	[9] = "RequestConnectionId",
	[10] = "NewConnectionId",
	[11] = "Certificate",
	[12] = "ServerKeyExchange",
	[13] = "CertificateRequest",
	[14] = "ServerHelloDone",
	[15] = "CertificateVerify",
	[16] = "ClientKeyExchange",
	[17] = "ClientCertificateRequest",
	[20] = "Finished",
	[21] = "CertificateURL",
	[22] = "CertificateStatus",
	[23] = "SupplementalData",
	[24] = "KeyUpdate",
	[25] = "CompressedCertificate",
	[26] = "EKTKey",
	[254] = "MessageHash",
};

const char *tls_alert_name(uint8_t code)
{
	return alert_names[code];
}

const char *tls_handshake_name(uint8_t type)
{
	return handshake_names[type];
}

const char *tls_version_str(uint16_t v, char buf[8])
{
	switch (v) {
	case TLS_V_SSL2:
		return "SSL 2.0";
	case TLS_V_SSL3:
		return "SSL 3.0";
	case TLS_V_TLS10:
		return "TLS 1.0";
	case TLS_V_TLS11:
		return "TLS 1.1";
	case TLS_V_TLS12:
		return "TLS 1.2";
	case TLS_V_TLS13:
		return "TLS 1.3";
	}
	snprintf(buf, 8, "0x%04x", v);
	return buf;
}

const char *tls_sniff_name(enum tls_sniff s)
{
	switch (s) {
	case SNIFF_NEED_MORE:
		return "need_more";
	case SNIFF_TLS:
		return "tls";
	case SNIFF_SSLV2:
		return "sslv2";
	case SNIFF_HTTP:
		return "http";
	case SNIFF_SSH:
		return "ssh";
	case SNIFF_PROXY:
		return "proxy";
	case SNIFF_UNKNOWN:
		break;
	}
	return "unknown";
}

/* From the IANA TLS cipher suite registry, by the property that rules
 * them out. Unlisted values count as not weak. */
static const uint16_t weak_ciphers[] = {
	/* NULL encryption */
	0x0000, 0x0001, 0x0002, 0x002c, 0x002d, 0x002e, 0x003b, 0x00b0,
	0x00b1, 0x00b4, 0x00b5, 0x00b8, 0x00b9, 0xc001, 0xc006, 0xc00b,
	0xc010, 0xc015, 0xc039, 0xc03a, 0xc03b,
	/* export */
	0x0003, 0x0006, 0x0008, 0x000b, 0x000e, 0x0011, 0x0014, 0x0017,
	0x0019, 0x0026, 0x0027, 0x0028, 0x0029, 0x002a, 0x002b, 0x0060,
	0x0061, 0x0062, 0x0063, 0x0064, 0x0065,
	/* anonymous key exchange */
	0x0018, 0x001a, 0x001b, 0x0034, 0x003a, 0x0046, 0x006c, 0x006d,
	0x0089, 0x009b, 0x00a6, 0x00a7, 0x00bf, 0x00c5, 0xc016, 0xc017,
	0xc018, 0xc019, 0xc046, 0xc047, 0xc05a, 0xc05b, 0xc084, 0xc085,
	/* RC4 */
	0x0004, 0x0005, 0x0020, 0x0024, 0x008a, 0x008e, 0x0092, 0xc002,
	0xc007, 0xc00c, 0xc011, 0xc033,
	/* single DES */
	0x0009, 0x000c, 0x000f, 0x0012, 0x0015, 0x001e, 0x0022,
};

bool tls_cipher_weak(uint16_t cipher)
{
	for (size_t i = 0; i < sizeof(weak_ciphers) / sizeof(weak_ciphers[0]); i++)
		if (weak_ciphers[i] == cipher)
			return true;
	return false;
}
