/* SPDX-License-Identifier: BSD-3-Clause */
/* JA3 and JA4 against values other tools computed.
 *
 * ClientHellos come out of capture files through the project's own pcap
 * source, stream reassembly and record layer, so a vector checks the whole
 * path from packets to fingerprint. Captures in the repository are read
 * always; FoxIO's, which carry no licence of their own and so are not
 * copied here, are read from the shared corpora (TLSWATCH_CORPORA, default
 * /work/shared/corpora) and skipped when absent.
 *
 * Run with a capture file as argument, the binary prints the JA3 string,
 * JA3 hash and JA4 of every ClientHello in it instead of testing: that is
 * how the tables below were compared with tshark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fingerprint.h"
#include "table.h"
#include "pcap_src.h"
#include "records.h"
#include "stream.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define GOLDEN "tests/golden/corpora/"
#define FOXIO "foxio-ja4/pcap/"

/* ---- ClientHellos out of a capture ---- */

#define MAX_DIRS 256
#define MAX_HELLOS 128

struct dir {
	struct endpoint src, dst;
	struct stream s;
	struct records r;
	struct capture *cap;
};

struct hello {
	struct tls_client_hello ch;
	int ret;		/* what the decoder said */
};

struct capture {
	struct dir dirs[MAX_DIRS];
	int n_dirs;
	struct hello hellos[MAX_HELLOS];
	int n_hellos;
};

static void on_not_tls(void *ctx, enum tls_sniff what)
{
	(void)ctx;
	(void)what;
}

static void on_record(void *ctx, const struct tls_record_header *h)
{
	(void)ctx;
	(void)h;
}

static void on_alert(void *ctx, uint8_t level, uint8_t desc)
{
	(void)ctx;
	(void)level;
	(void)desc;
}

static void on_lost(void *ctx, const char *why)
{
	(void)ctx;
	(void)why;
}

static struct hello *next_hello(struct capture *c)
{
	if (c->n_hellos >= MAX_HELLOS)
		return NULL;
	return &c->hellos[c->n_hellos++];
}

static void on_handshake(void *ctx, uint8_t type, const uint8_t *body,
			 uint32_t len)
{
	struct dir *d = ctx;
	struct hello *h;

	if (type != TLS_HS_CLIENT_HELLO || !body)
		return;
	h = next_hello(d->cap);
	if (h)
		h->ret = tls_parse_client_hello(body, len, &h->ch);
}

static void on_sslv2(void *ctx, const uint8_t *rec, uint32_t len)
{
	struct dir *d = ctx;
	struct hello *h;

	if (tls_sslv2_msg_type(rec, len) != 1)
		return;
	h = next_hello(d->cap);
	if (h)
		h->ret = tls_parse_sslv2_client_hello(rec, len, &h->ch);
}

static const struct records_ops ops = {
	.not_tls = on_not_tls,
	.record = on_record,
	.handshake = on_handshake,
	.alert = on_alert,
	.sslv2 = on_sslv2,
	.lost = on_lost,
};

static bool same_ep(const struct endpoint *a, const struct endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* One direction per (source, destination): the test captures hold one
 * connection per port pair. */
static int on_segment(void *ctx, const struct segment *seg)
{
	struct capture *c = ctx;
	struct dir *d = NULL;
	int i;

	for (i = 0; i < c->n_dirs; i++)
		if (same_ep(&c->dirs[i].src, &seg->src) &&
		    same_ep(&c->dirs[i].dst, &seg->dst))
			d = &c->dirs[i];
	if (!d) {
		if (c->n_dirs == MAX_DIRS)
			return 0;
		d = &c->dirs[c->n_dirs++];
		d->src = seg->src;
		d->dst = seg->dst;
		d->cap = c;
		stream_init(&d->s);
		records_init(&d->r, &ops, d);
	}
	if (seg->flags & TCPF_SYN) {
		stream_start(&d->s, seg->seq + 1);
		return 0;
	}
	if (seg->len)
		stream_add(&d->s, seg->seq, seg->data, seg->caplen, seg->len,
			   &records_sink, &d->r);
	return 0;
}

/* Every ClientHello of the file, in the order their directions were first
 * seen and then in stream order. */
static int read_capture(const char *path, struct capture *c)
{
	char err[256];
	int i, ret;

	memset(c, 0, sizeof(*c));
	ret = pcap_src_run(path, on_segment, c, NULL, err, sizeof(err));
	for (i = 0; i < c->n_dirs; i++) {
		stream_flush(&c->dirs[i].s, &records_sink, &c->dirs[i].r);
		records_free(&c->dirs[i].r);
		stream_free(&c->dirs[i].s);
	}
	if (ret)
		fprintf(stderr, "%s: %s\n", path, err);
	return ret;
}

static struct capture cap;

/* ---- JA4 vectors from FoxIO's captures ---- */

struct ja4_case {
	const char *name;
	const char *file;	/* under the corpora's foxio-ja4/pcap/ */
	int index;		/* ClientHello number in read_capture() order */
	const char *ja4;
};

/* Expected values: FoxIO-LLC/ja4 commit 0e54bc8371de, python/test/testdata
 * /<file>.json, key "JA4.1" of the stream named; the Rust snapshots
 * rust/ja4/src/snapshots/ja4__insta@<file>.snap agree on each. */
static const struct ja4_case ja4_foxio[] = {
	{ "JA4 FoxIO: Chrome, TLS 1.3, GREASE, h2 (tls-sni stream 0)",
	  "tls-sni.pcapng", 0, "t13d1516h2_8daaf6152771_e5627efa2ab1" },
	{ "JA4 FoxIO: Chrome, http/1.1 only (tls-sni stream 5)",
	  "tls-sni.pcapng", 5, "t13d1516h1_8daaf6152771_e5627efa2ab1" },
	{ "JA4 FoxIO: Chrome, no ALPN (tls-sni stream 6)",
	  "tls-sni.pcapng", 6, "t13d151400_8daaf6152771_de4a06bb82e3" },
	{ "JA4 FoxIO: Chrome, 17 extensions (tls-sni stream 31)",
	  "tls-sni.pcapng", 31, "t13d1517h1_8daaf6152771_6cdcb247c39b" },
	{ "JA4 FoxIO: Chrome, 15 extensions (tls-sni stream 38, 2nd hello)",
	  "tls-sni.pcapng", 40, "t13d1515h2_8daaf6152771_f37e75b10bcc" },
	{ "JA4 FoxIO: Firefox, TLS 1.3 (tls12 stream 0)",
	  "tls12.pcap", 0, "t13d1715h2_5b57614c22b0_3d5424432f57" },
	{ "JA4 FoxIO: TLS 1.2, 46 ciphers (tls-alpn-h2 stream 0)",
	  "tls-alpn-h2.pcap", 0, "t12d4605h2_85626a9a5f7f_aaf95bb78ec9" },
	{ "JA4 FoxIO: TLS 1.2 over IPv6 (ipv6 stream 0)",
	  "ipv6.pcapng", 0, "t12d4605h2_85626a9a5f7f_aaf95bb78ec9" },
	{ "JA4 FoxIO: TLS 1.0, SNI only, no sigalgs (https3-301-get)",
	  "https3-301-get.pcap", 0, "t10d230100_6a57a6f57151_000000000000" },
	{ "JA4 FoxIO: TLS 1.2 without ALPN (latest stream 3)",
	  "latest.pcapng", 1, "t12d190800_d83cc789557e_7af1ed941c26" },
	{ "JA4 FoxIO: macOS, 26 ciphers (macos_tcp_flags stream 0)",
	  "macos_tcp_flags.pcap", 0, "t13d2613h2_2802a3db6c62_845d286b0d67" },
	{ "JA4 FoxIO: curveball, 16 ciphers (badcurveball stream 0)",
	  "badcurveball.pcap", 0, "t13d1615h2_46e7e9700bed_45f260be83e2" },
	{ "JA4 FoxIO: Chrome with a different sigalg list (tls3 stream 9)",
	  "tls3.pcapng", 1, "t13d1516h2_8daaf6152771_9b887d9acb53" },
	/* First ALPN value 0xba 0xad. FoxIO's JSON and snapshot say
	 * "t13d151699_...": its tools print '9' for a non-ASCII byte. JA4.md
	 * says to use the first and last hex digits instead, "bd"; this
	 * project follows JA4.md (see alpn_chars() in fingerprint.c). */
	{ "JA4 FoxIO: non-ASCII ALPN, JA4.md rule (tls-non-ascii-alpn)",
	  "tls-non-ascii-alpn.pcapng", 0,
	  "t13d1516bd_8daaf6152771_e5627efa2ab1" },
};

static const char *corpora(void)
{
	const char *d = getenv("TLSWATCH_CORPORA");

	return d && *d ? d : "/work/shared/corpora";
}

static void test_ja4_foxio(void **state)
{
	const struct ja4_case *t = *state;
	char path[512], out[JA4_LEN];
	FILE *f;

	snprintf(path, sizeof(path), "%s/" FOXIO "%s", corpora(), t->file);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: absent, skipped\n", path);
		skip();
	}
	fclose(f);
	assert_int_equal(read_capture(path, &cap), 0);
	assert_true(t->index < cap.n_hellos);
	assert_int_equal(cap.hellos[t->index].ret, TLS_OK);
	assert_true(ja4(&cap.hellos[t->index].ch, out));
	assert_string_equal(out, t->ja4);
}

/* ---- JA3 vectors from the repository's captures ---- */

struct ja3_case {
	const char *name;
	const char *file;	/* under tests/golden/corpora/ */
	int index;
	const char *str;	/* NULL: no fingerprint */
	const char *md5;
};

/* Expected values: tshark 4.0.17 (Debian 12),
 *   tshark -r FILE -Y tls.handshake.type==1 -T fields \
 *	-e tls.handshake.ja3_full -e tls.handshake.ja3
 * Origins and licences of the captures: tests/golden/corpora/ORIGIN.tsv. */
static const struct ja3_case ja3_golden[] = {
	{ "JA3: curl, TLS 1.3 (arkime)",
	  "arkime-curl-enabled-tls13.pcap", 0,
	  "771,4866-4867-4865-255,0-11-10-13172-16-22-23-49-13-43-45-"
	  "51-21,29-23-30-25-24,0-1-2",
	  "eeadfd2f446a45ded96f804720a0c75b" },
	{ "JA3: OpenSSL, TLS 1.2 then 1.0 (arkime)",
	  "arkime-openssl-tls1_2-tls1.pcap", 0,
	  "771,49200-49196-49192-49188-49172-49162-163-159-107-106-"
	  "57-56-136-135-49202-49198-49194-49190-49167-49157-157-61-"
	  "53-132-49170-49160-22-19-49165-49155-10-49199-49195-49191-"
	  "49187-49171-49161-162-158-103-64-51-50-154-153-69-68-49201-"
	  "49197-49193-49189-49166-49156-156-60-47-150-65-7-49169-49159-"
	  "49164-49154-5-4-21-18-9-20-17-8-6-3-255,11-10-35-13-15,24-"
	  "23,0-1-2",
	  "c1a36e1a870786cc75edddc0009eaf3a" },
	{ "JA3: hello split across segments (arkime)",
	  "arkime-tls-split-client-hello.pcap", 0,
	  "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-"
	  "49172-156-157-47-53,13-18-45-27-65037-43-51-0-11-35-5-23-"
	  "16-10-65281-17513,4588-29-23-24,0",
	  "35708a08e7be9f7aa5bce7f2d5c1cecb" },
	{ "JA3: version refused (FlowTest)",
	  "cesnet-flowtest-tls_version_error.pcap", 0,
	  "771,4866-4867-4865-255,11-10-35-22-23-13-43-45-51,29-23-"
	  "30-25-24,0-1-2",
	  "ea217b0edcd93778471552ba0b796f81" },
	{ "JA3: Go, TLS 1.1 with FALLBACK_SCSV",
	  "go-crypto-tls-Server-TLSv11-FallbackSCSV.pcap", 0,
	  "770,49162-49172-57-49161-49171-51-53-47-255-22016,0-11-10-"
	  "35-22-23,29-23-30-25-24,0-1-2",
	  "dc8dfecfdcd1fed405cfc97f8e2426d1" },
	{ "JA3: Go, TLS 1.3 second hello after HRR",
	  "go-crypto-tls-Server-TLSv13-HelloRetryRequest.pcap", 1,
	  "771,4867-255,11-10-22-23-13-43-45-51,29-23,0-1-2",
	  "58742c4f35c326e4e08a92ac0cb41d17" },
	{ "JA3: TLS 1.0 malware C2 (suricata-verify)",
	  "suricata-verify-bug-5713-01-TLSv1-Extracted-MaliciousC2.pcap", 0,
	  "769,49162-49161-49172-49171-53-47-10,5-10-11-35-23-65281,"
	  "29-23-24,0",
	  "49ed2ef3f1321e5f044f1e71b0e6fdd5" },
	{ "JA3: hello in SYN data (suricata-verify)",
	  "suricata-verify-tcp-fastopen-10-syn-data-ignore.pcap", 0,
	  "771,4865-4866-4867-49196-49195-52393-49200-49199-52392-49162-"
	  "49161-49172-49171-157-156-53-47-49160-49170-10,0-23-65281-"
	  "10-11-35-16-5-13-18-51-45-43-27-21,29-23-24-25,0",
	  "fb3660676bafc9799c86bd51a1ea12f5" },
	{ "JA3: hello in 300-byte records (suricata-verify)",
	  "suricata-verify-tls-client-hello-frag-01-dump_mtu300.pcap", 0,
	  "771,49200-49196-49192-49188-49172-49162-165-163-161-159-"
	  "107-106-105-104-57-56-55-54-136-135-134-133-49202-49198-"
	  "49194-49190-49167-49157-157-61-53-132-49199-49195-49191-"
	  "49187-49171-49161-164-162-160-158-103-64-63-62-51-50-49-"
	  "48-154-153-152-151-69-68-67-66-49201-49197-49193-49189-49166-"
	  "49156-156-60-47-150-65-49170-49160-22-19-16-13-49165-49155-"
	  "10-7-255,0-11-10-13-15-13172-16-21,23-25-24-22,0-1-2",
	  "a64c29923906f2a1be278be1da0714fa" },
	{ "JA3: tlsmate downgrade",
	  "tlsmate-recorder_downgrade_ok.pcap", 0,
	  "771,47-51-53-57-60-61-65-69-103-107-132-136-156-157-158-"
	  "159-186-190-192-196-49161-49162-49171-49172-49187-49188-"
	  "49191-49192-49195-49196-49199-49200-49232-49233-49234-49235-"
	  "49244-49245-49248-49249-49266-49267-49270-49271-49308-49309-"
	  "49310-49311-49312-49313-49314-49315-49324-49325-49326-49327-"
	  "52392-52393-52394-22016,0-10-13,23-24-25-29-30,",
	  "91a89831fd4b4be1cdd7f014729eb57b" },
	{ "JA3: Chrome 125, GREASE, Kyber (zeek)",
	  "zeek-chrome-1250-tls-x25519-kyber.pcap", 0,
	  "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-"
	  "49172-156-157-47-53,35-13-11-10-27-17513-51-16-43-23-65281-"
	  "5-45-65037-18-0,25497-29-23-24,0",
	  "9d33d8206d4fec4c8b1423c728f4cd3c" },
	{ "JA3: Chrome 55, TLS 1.3 draft 16 (zeek)",
	  "zeek-tls13draft16-chrome55.0.2879.0-canary-aborted.pcap", 0,
	  "771,49195-49199-49196-49200-52393-52392-52244-52243-49161-"
	  "49171-49162-49172-156-157-47-53-10,65281-0-23-35-13-5-18-"
	  "16-30032-11-40-43-10-24-21,29-23-24,0",
	  "3454bbc3704cd1c8271f43d8c762d08b" },
	{ "JA3: Firefox 52, TLS 1.3 draft 16 (zeek)",
	  "zeek-tls13draft16-ff52.a01-aborted.pcap", 1,
	  "771,49195-49199-52393-52392-49196-49200-49162-49161-49171-"
	  "49172-51-57-47-53-10,0-23-65281-10-11-35-16-5-18-13,29-23-"
	  "24-25,0",
	  "558ec750499e3584c0d0fcd4b053ec9a" },
	{ "JA3: fragmented handshake (zeek)",
	  "zeek-tls-fragmented-handshake.pcap", 0,
	  "771,255-49188-49187-49162-49161-49160-49192-49191-49172-"
	  "49171-49170-49190-49189-49157-49156-49155-49194-49193-49167-"
	  "49166-49165-107-103-57-51-22-61-60-53-47-10-49159-49169-"
	  "49154-49164-5-4,0-10-11-13-13172,23-24-25,0",
	  "799135475da362592a4be9199d258726" },
	{ "JA3: TLS 1.3 PSK resumption (zeek)",
	  "zeek-tls13_psk_succesfull.pcap", 0,
	  "771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-"
	  "49199-158-49188-49192-107-49187-49191-103-49162-49172-57-"
	  "49161-49171-51-173-171-52398-52397-52396-157-169-52395-172-"
	  "170-156-168-61-60-49208-49206-183-179-149-145-53-175-141-"
	  "49207-49205-182-178-148-144-47-174-140-255,11-10-35-22-23-"
	  "13-43-45-51-41,29-23-30-25-24,0-1-2",
	  "b564664050e32957639f6833f37e86df" },
	/* SSLv2 format: tshark gives no JA3 either. */
	{ "JA3: SSLv2-format hello (zeek)", "zeek-ssl-v2.pcap", 0, NULL,
	  NULL },
};

static void test_ja3_golden(void **state)
{
	const struct ja3_case *t = *state;
	char path[512], str[JA3_STR_LEN], md5[JA3_HASH_LEN];

	snprintf(path, sizeof(path), GOLDEN "%s", t->file);
	assert_int_equal(read_capture(path, &cap), 0);
	assert_true(t->index < cap.n_hellos);
	if (!t->str) {
		assert_false(ja3(&cap.hellos[t->index].ch, str, md5));
		return;
	}
	assert_int_equal(cap.hellos[t->index].ret, TLS_OK);
	assert_true(ja3(&cap.hellos[t->index].ch, str, md5));
	assert_string_equal(str, t->str);
	assert_string_equal(md5, t->md5);
	/* The hash alone, without a string buffer. */
	memset(md5, 0, sizeof(md5));
	assert_true(ja3(&cap.hellos[t->index].ch, NULL, md5));
	assert_string_equal(md5, t->md5);
}

/* ---- Built hellos: JA4.md's worked example and the edges ---- */

struct spec {
	uint16_t legacy;
	const uint16_t *ciphers;
	size_t n_ciphers;
	const uint16_t *exts;	/* types; bodies follow from the fields */
	size_t n_exts;
	const uint16_t *sigalgs;
	size_t n_sigalgs;
	const uint16_t *groups;
	size_t n_groups;
	const char *alpn;	/* first value, NUL-free */
	size_t alpn_len;
	uint16_t version;	/* supported_versions entry, 0 for none */
};

/* A ClientHello body with the given lists; each extension type gets the
 * smallest valid body its decoder accepts. */
static void build(struct builder *w, const struct spec *s)
{
	size_t v, block, ext, list, i, k;

	w->len = 0;
	put16(w, s->legacy);
	for (i = 0; i < 32; i++)
		put8(w, 0);
	put8(w, 0);
	v = open_vec(w, 2);
	for (i = 0; i < s->n_ciphers; i++)
		put16(w, s->ciphers[i]);
	close_vec(w, v, 2);
	put8(w, 1);
	put8(w, 0);
	block = open_vec(w, 2);
	for (i = 0; i < s->n_exts; i++) {
		put16(w, s->exts[i]);
		ext = open_vec(w, 2);
		switch (s->exts[i]) {
		case 0:		/* server_name "a" */
			list = open_vec(w, 2);
			put8(w, 0);
			put16(w, 1);
			put8(w, 'a');
			close_vec(w, list, 2);
			break;
		case 10:
			list = open_vec(w, 2);
			for (k = 0; k < s->n_groups; k++)
				put16(w, s->groups[k]);
			close_vec(w, list, 2);
			break;
		case 11:
			put8(w, 1);
			put8(w, 0);
			break;
		case 13:
			list = open_vec(w, 2);
			for (k = 0; k < s->n_sigalgs; k++)
				put16(w, s->sigalgs[k]);
			close_vec(w, list, 2);
			break;
		case 16:
			list = open_vec(w, 2);
			put8(w, s->alpn_len);
			for (k = 0; k < s->alpn_len; k++)
				put8(w, (uint8_t)s->alpn[k]);
			put8(w, 8);
			for (k = 0; k < 8; k++)
				put8(w, "http/1.1"[k]);
			close_vec(w, list, 2);
			break;
		case 43:
			put8(w, 4);
			put16(w, 0x2a2a);
			put16(w, s->version);
			break;
		case 51:
			put16(w, 0);
			break;
		}
		close_vec(w, ext, 2);
	}
	close_vec(w, block, 2);
}

static void check_ja4(const struct spec *s, const char *want)
{
	struct builder w;
	struct tls_client_hello ch;
	char out[JA4_LEN];

	build(&w, s);
	assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch), TLS_OK);
	assert_true(ja4(&ch, out));
	assert_string_equal(out, want);
}

static void test_ja4_spec_example(void **state)
{
	struct spec s = {
		.legacy = 0x0303, .version = 0x0304,
		.alpn = "h2", .alpn_len = 2,
	};

	/* JA4.md's example lists (its "Cipher hash" and "Extension hash"
	 * sections), with GREASE added, which must change nothing. */
	(void)state;
	s.ciphers = (const uint16_t[]){ 0x0a0a, 0x1301, 0x1302, 0x1303,
		0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
		0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
	s.n_ciphers = 16;
	s.exts = (const uint16_t[]){ 0x1a1a, 0x001b, 0x0000, 0x0033, 0x0010,
		0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
		0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0x2a2a };
	s.n_exts = 18;
	s.sigalgs = (const uint16_t[]){ 0x0403, 0x0804, 0x0401, 0x0503,
		0x0805, 0x0501, 0x0806, 0x0601 };
	s.n_sigalgs = 8;
	s.groups = (const uint16_t[]){ 0x1d };
	s.n_groups = 1;
	/* JA4.md "Example": t13d1516h2_8daaf6152771_e5627efa2ab1. */
	check_ja4(&s, "t13d1516h2_8daaf6152771_e5627efa2ab1");

	/* JA4.md: with no signature algorithms the string ends without the
	 * '_', and "0005,...,ff01" hashes to 6d807ffa2a79. */
	s.n_sigalgs = 0;
	{
		static const uint16_t no13[] = { 0x1a1a, 0x001b, 0x0000,
			0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x0005,
			0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a,
			0x0015, 0x000d };
		/* 0x000d kept, so its (empty-listed) body would be
		 * malformed: give it one GREASE value instead, which JA4
		 * ignores like any GREASE. */
		s.exts = no13;
		s.n_exts = ARRAY_SIZE(no13);
		s.sigalgs = (const uint16_t[]){ 0x0a0a };
		s.n_sigalgs = 1;
		check_ja4(&s, "t13d1516h2_8daaf6152771_6d807ffa2a79");
	}
}

/* The ALPN characters: JA4.md's examples of its hex rule, one-byte
 * values, and a first value longer than the decoder keeps. */
static void test_ja4_alpn(void **state)
{
	static const struct {
		const char *alpn;
		size_t len;
		const char *want;
	} rows[] = {
		{ "h2", 2, "h2" },
		{ "http/1.1", 8, "h1" },
		{ "\xab", 1, "ab" },
		{ "\xab\xcd", 2, "ad" },
		{ "\x30\xab", 2, "3b" },
		{ "\x30\x31\xab\xcd", 4, "3d" },
		{ "\x30\xab\xcd\x31", 4, "01" },
		{ "x", 1, "xx" },
		{ "h3-29", 5, "h9" },
		/* 40 bytes: 'a' .. the last byte '9', past TLS_MAX_ALPN_LEN */
		{ "abcdefghijklmnopqrstuvwxyzabcdefghijklm9", 40, "a9" },
	};
	struct spec s = { .legacy = 0x0303 };
	struct builder w;
	struct tls_client_hello ch;
	char out[JA4_LEN];
	size_t i;

	(void)state;
	s.ciphers = (const uint16_t[]){ 0x1301 };
	s.n_ciphers = 1;
	s.exts = (const uint16_t[]){ 0x0010 };
	s.n_exts = 1;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		s.alpn = rows[i].alpn;
		s.alpn_len = rows[i].len;
		build(&w, &s);
		assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch),
				 TLS_OK);
		assert_true(ja4(&ch, out));
		assert_memory_equal(out + 8, rows[i].want, 2);
		/* Only ALPN: the extension list hashed is empty. */
		assert_string_equal(out + 24, "000000000000");
	}
}

/* Lists cut at the decoder's limits give no fingerprint; at the limit
 * they still do. */
static void test_truncated(void **state)
{
	uint16_t many[TLS_MAX_SIGALGS + 1];
	struct spec s = { .legacy = 0x0303 };
	struct builder w;
	struct tls_client_hello ch;
	char out[JA4_LEN], str[JA3_STR_LEN], md5[JA3_HASH_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (uint16_t)(0x0100 + i);
	s.ciphers = (const uint16_t[]){ 0x1301 };
	s.n_ciphers = 1;
	s.exts = (const uint16_t[]){ 10, 13 };
	s.n_exts = 2;
	s.sigalgs = many;
	s.groups = many;

	s.n_sigalgs = TLS_MAX_SIGALGS;
	s.n_groups = TLS_MAX_GROUPS;
	build(&w, &s);
	assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch), TLS_OK);
	assert_true(ja4(&ch, out));
	assert_true(ja3(&ch, str, md5));

	s.n_sigalgs = TLS_MAX_SIGALGS + 1;
	build(&w, &s);
	assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch), TLS_OK);
	assert_false(ja4(&ch, out));
	assert_true(ja3(&ch, str, md5));	/* JA3 has no sigalgs */

	s.n_sigalgs = 1;
	s.n_groups = TLS_MAX_GROUPS + 1;
	build(&w, &s);
	assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch), TLS_OK);
	assert_true(ja4(&ch, out));		/* JA4 has no groups */
	assert_false(ja3(&ch, str, md5));
}

/* JA3 keeps empty fields, drops GREASE everywhere and writes the legacy
 * version, not supported_versions'. */
static void test_ja3_shape(void **state)
{
	struct spec s = { .legacy = 0x0303, .version = 0x0304 };
	struct builder w;
	struct tls_client_hello ch;
	char str[JA3_STR_LEN], md5[JA3_HASH_LEN];

	(void)state;
	s.ciphers = (const uint16_t[]){ 0x3a3a, 0x1301, 0xc02f };
	s.n_ciphers = 3;
	s.exts = (const uint16_t[]){ 0x4a4a, 43, 10, 51 };
	s.n_exts = 4;
	s.groups = (const uint16_t[]){ 0x5a5a, 29, 23 };
	s.n_groups = 3;
	build(&w, &s);
	assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch), TLS_OK);
	assert_true(ja3(&ch, str, md5));
	assert_string_equal(str, "771,4865-49199,43-10-51,29-23,");
	assert_int_equal(strlen(md5), 32);

	/* No extensions block at all. */
	s.n_exts = 0;
	build(&w, &s);
	w.len -= 2;
	assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch), TLS_OK);
	assert_true(ja3(&ch, str, md5));
	assert_string_equal(str, "771,4865-49199,,,");
}

static void test_sslv2(void **state)
{
	/* An SSLv2-format CLIENT-HELLO offering TLS 1.0: no method defines
	 * a fingerprint for it. */
	static const uint8_t rec[] = {
		0x80, 0x1c, 0x01, 0x03, 0x01, 0x00, 0x03, 0x00, 0x00,
		0x00, 0x10, 0x00, 0x00, 0x2f,
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	};
	struct tls_client_hello ch;
	char out[JA4_LEN], str[JA3_STR_LEN], md5[JA3_HASH_LEN];

	(void)state;
	assert_int_equal(tls_parse_sslv2_client_hello(rec, sizeof(rec), &ch),
			 TLS_OK);
	assert_false(ja4(&ch, out));
	assert_false(ja3(&ch, str, md5));
}

/* ---- Dump mode ---- */

static int dump(const char *path)
{
	char str[JA3_STR_LEN], md5[JA3_HASH_LEN], j4[JA4_LEN];
	int i;

	if (read_capture(path, &cap))
		return 1;
	for (i = 0; i < cap.n_hellos; i++) {
		const struct tls_client_hello *ch = &cap.hellos[i].ch;

		if (cap.hellos[i].ret != TLS_OK) {
			printf("%d\tdecode=%d\n", i, cap.hellos[i].ret);
			continue;
		}
		if (!ja3(ch, str, md5))
			strcpy(str, "-"), strcpy(md5, "-");
		if (!ja4(ch, j4))
			strcpy(j4, "-");
		printf("%d\t%s\t%s\t%s\t%.*s\n", i, str, md5, j4,
		       ch->has_sni ? ch->sni_len : 1,
		       ch->has_sni ? (const char *)ch->sni : "-");
	}
	return 0;
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_ja4_spec_example),
	cmocka_unit_test(test_ja4_alpn),
	cmocka_unit_test(test_truncated),
	cmocka_unit_test(test_ja3_shape),
	cmocka_unit_test(test_sslv2),
};

int main(int argc, char **argv)
{
	static struct CMUnitTest tests[ARRAY_SIZE(ja4_foxio) +
				       ARRAY_SIZE(ja3_golden) +
				       ARRAY_SIZE(fixed_tests)];
	size_t n = 0;

	if (argc == 2)
		return dump(argv[1]);
	ADD_ROWS(tests, &n, ja4_foxio, test_ja4_foxio);
	ADD_ROWS(tests, &n, ja3_golden, test_ja3_golden);
	memcpy(tests + n, fixed_tests, sizeof(fixed_tests));
	n += ARRAY_SIZE(fixed_tests);
	return _cmocka_run_group_tests("fingerprint", tests, n, NULL, NULL);
}
