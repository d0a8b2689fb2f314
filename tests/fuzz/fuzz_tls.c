// SPDX-License-Identifier: BSD-3-Clause
/* libFuzzer target: the TLS decoder. The first byte picks what the rest
 * is handed to: one of the message parsers directly (ClientHello,
 * ServerHello, SSLv2 hello, Certificate in both forms, one DER
 * certificate), or, for the record layer and the classifier above it, a
 * whole handshake played through a session as chunks of either side.
 *
 * Chunk form (mode 0): repeated [side|flags byte][length byte][bytes];
 * flags: 0x02 a gap of `length` bytes instead of data, 0x04 a FIN of that
 * side after the chunk, 0x08 a truncated gap. The time moves 10 ms per
 * chunk, so the timeouts and the TLS 1.3 quiet rule fire too. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "check_output.h"
#include "diagnose.h"
#include "fingerprint.h"
#include "json.h"
#include "report.h"
#include "session.h"
#include "tls.h"
#include "x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use_hello(const struct tls_client_hello *ch)
{
	char s[JA3_STR_LEN], h[JA3_HASH_LEN], j4[JA4_LEN];

	if (ja3(ch, s, h) && strlen(h) != JA3_HASH_LEN - 1)
		__builtin_trap();
	if (ja4(ch, j4) && strlen(j4) != JA4_LEN - 1)
		__builtin_trap();
}

static void check_x509(const struct x509_info *x)
{
	/* Every string is NUL-terminated within its field. */
	if (!memchr(x->subject, 0, sizeof(x->subject)) ||
	    !memchr(x->issuer, 0, sizeof(x->issuer)) ||
	    !memchr(x->subject_cn, 0, sizeof(x->subject_cn)) ||
	    !memchr(x->issuer_cn, 0, sizeof(x->issuer_cn)) ||
	    !memchr(x->san_first, 0, sizeof(x->san_first)))
		__builtin_trap();
}

static void session_play(const uint8_t *p, size_t n)
{
	struct endpoint c = { .family = AF_INET, .addr = { 192, 0, 2, 1 },
			      .port = 50000 };
	struct endpoint sv = { .family = AF_INET, .addr = { 192, 0, 2, 2 },
			       .port = 443 };
	uint64_t ts = 1700000000000000ULL;
	/* Empty, made once: a fresh table per run costs more than the rest
	 * (fuzz_pcap covers learning). */
	static struct profiles *prof;
	struct diagnosis d;
	struct session s;
	struct json j;
	char line[2048], fp[JA4_LEN];
	struct report_extra x = {};

	session_init(&s, &c, &sv, ts, 10000000);
	while (n >= 2 && !session_ready(&s)) {
		enum side_id side = p[0] & 1 ? SIDE_SERVER : SIDE_CLIENT;
		uint8_t fl = p[0];
		uint32_t len = p[1];

		p += 2;
		n -= 2;
		ts += 10000;
		s.now = ts;
		session_tick(&s, ts);
		if (fl & 0x0a) {
			session_sink.gap(&s.side[side], len ? len : 1,
					 fl & 0x08 ? STREAM_GAP_TRUNCATED :
						     STREAM_GAP_MISSING);
		} else {
			if (len > n)
				len = n;
			session_sink.data(&s.side[side], p, len);
			p += len;
			n -= len;
		}
		if (fl & 0x04)
			session_close(&s, side, fl & 0x10 ? CLOSE_RST : CLOSE_FIN,
				      ts);
	}
	session_end(&s, ts + 60000000);
	/* The end of capture decides every connection. */
	if (s.outcome == OUTCOME_NONE || !outcome_name(s.outcome))
		__builtin_trap();

	if (!prof)
		prof = profiles_new();
	if (prof) {
		diagnose(prof, &s, &d);
		if (s.ch && ja4(s.ch, fp))
			x.ja4 = fp;
		json_init(&j);
		report_json(&j, &s, &d, &x);
		if (!j.failed && !json_valid(j.buf, j.len))
			__builtin_trap();
		json_free(&j);
		report_text(&s, &d, &x, line, sizeof(line));
		if (!text_printable(line))
			__builtin_trap();
	}
	if (s.cert)
		check_x509(s.cert);
	session_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tls_client_hello ch;
	struct tls_server_hello sh;
	struct x509_info xi;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	uint32_t rl;

	if (size < 1)
		return 0;
	switch (data[0] % 8) {
	case 0:
		session_play(p, n);
		break;
	case 1:
		if (tls_parse_client_hello(p, n, &ch) == TLS_OK)
			use_hello(&ch);
		break;
	case 2:
		tls_parse_server_hello(p, n, &sh);
		break;
	case 3:
		if (tls_sslv2_record_len(p, n, &rl) == TLS_OK && rl <= n) {
			tls_sslv2_msg_type(p, rl);
			if (tls_parse_sslv2_client_hello(p, rl, &ch) == TLS_OK)
				use_hello(&ch);
		}
		break;
	case 4:
	case 5:
		x509_from_certificate_msg(p, n, data[0] % 8 == 5, &xi);
		check_x509(&xi);
		break;
	case 6:
		x509_parse(p, n, &xi);
		check_x509(&xi);
		break;
	case 7: {
		struct tls_record_header h;
		uint8_t t;
		uint32_t bl;

		tls_sniff(p, n);
		tls_parse_record_header(p, n, &h);
		tls_parse_handshake_header(p, n, &t, &bl);
		break;
	}
	}
	return 0;
}
