/* SPDX-License-Identifier: BSD-3-Clause */
/* The pcap source against the capture files tests/unit/data/make.py wrote:
 * every link type, VLAN tags, IP options and extension headers, fragments,
 * snaplen, pcapng, and the ways a file can be unreadable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "pcap_src.h"

#define DATA "tests/unit/data/"
#define TS 1700000000ull

#define MAX_SEGS 8

/* Segments as handed on, payloads copied: the pointer is only valid
 * during the call. */
struct got {
	struct segment seg[MAX_SEGS];
	uint8_t payload[MAX_SEGS][128];
	int n;
	int stop_after;		/* return 7 after this many, if non-zero */
};

static int collect(void *ctx, const struct segment *seg)
{
	struct got *g = ctx;

	assert_true(g->n < MAX_SEGS);
	assert_true(seg->caplen <= seg->len);
	assert_true(seg->caplen <= sizeof(g->payload[0]));
	g->seg[g->n] = *seg;
	if (seg->caplen)
		memcpy(g->payload[g->n], seg->data, seg->caplen);
	g->seg[g->n].data = g->payload[g->n];
	g->n++;
	return g->stop_after && g->n == g->stop_after ? 7 : 0;
}

static int run(const char *path, struct got *g, struct pcap_src_stats *st,
	       char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	memset(st, 0, sizeof(*st));
	err[0] = '\0';
	return pcap_src_run(path, collect, g, st, err, errlen);
}

static void assert_ep(const struct endpoint *e, int family, const char *ip,
		      uint16_t port)
{
	uint8_t want[16] = { 0 };

	assert_int_equal(e->family, family);
	assert_int_equal(inet_pton(family, ip, want), 1);
	assert_memory_equal(e->addr, want, 16);
	assert_int_equal(e->port, port);
}

/* The packets make.py builds with tcp4() and tcp6(). */
static void assert_client4(const struct segment *s)
{
	assert_ep(&s->src, AF_INET, "192.0.2.1", 51000);
	assert_ep(&s->dst, AF_INET, "198.51.100.7", 443);
	assert_int_equal(s->dir, SEG_DIR_UNKNOWN);
}

static void assert_server6(const struct segment *s)
{
	assert_ep(&s->src, AF_INET6, "2001:db8::2", 443);
	assert_ep(&s->dst, AF_INET6, "2001:db8::1", 51001);
	assert_int_equal(s->dir, SEG_DIR_UNKNOWN);
}

static void assert_tcp(const struct segment *s, uint32_t seq, uint32_t ack,
		       uint8_t flags, const char *payload)
{
	uint32_t n = (uint32_t)strlen(payload);

	assert_int_equal(s->seq, seq);
	assert_int_equal(s->ack, ack);
	assert_int_equal(s->flags, flags);
	assert_int_equal(s->caplen, n);
	assert_int_equal(s->len, n);
	assert_memory_equal(s->data, payload, n);
}

static void assert_stats(const struct pcap_src_stats *st, uint64_t packets,
			 uint64_t tcp, uint64_t skipped, uint64_t malformed,
			 uint64_t truncated)
{
	assert_int_equal(st->packets, packets);
	assert_int_equal(st->tcp, tcp);
	assert_int_equal(st->skipped, skipped);
	assert_int_equal(st->malformed, malformed);
	assert_int_equal(st->truncated, truncated);
}

/* The records of eth.pcap, read from a file or from stdin. */
static void assert_eth(const struct got *g, const struct pcap_src_stats *st)
{
	const struct segment *s = g->seg;

	assert_stats(st, 7, 5, 2, 0, 0);
	assert_int_equal(g->n, 5);

	/* Seven bytes of Ethernet padding after the payload are not data. */
	assert_int_equal(s[0].ts_us, TS * 1000000 + 123456);
	assert_client4(&s[0]);
	assert_tcp(&s[0], 1000, 2000, TCPF_PSH | TCPF_ACK, "hello");

	/* IPv4 record-route option and TCP MSS option. */
	assert_int_equal(s[1].ts_us, (TS + 1) * 1000000);
	assert_client4(&s[1]);
	assert_tcp(&s[1], 0xfffffff0, 0, TCPF_SYN, "");

	/* Hop-by-hop and destination options before TCP. */
	assert_int_equal(s[2].ts_us, (TS + 2) * 1000000 + 5);
	assert_server6(&s[2]);
	assert_tcp(&s[2], 7, 8, TCPF_FIN | TCPF_ACK, "bye");

	/* An atomic fragment is a whole packet. */
	assert_server6(&s[3]);
	assert_tcp(&s[3], 100, 0, TCPF_ACK, "atomic");

	/* URG, ECE and CWR are dropped: flags are TCPF_* only. */
	assert_client4(&s[4]);
	assert_tcp(&s[4], 5, 6, TCPF_FIN | TCPF_SYN | TCPF_RST | TCPF_PSH |
		   TCPF_ACK, "x");
}

static void test_ethernet(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	assert_int_equal(run(DATA "eth.pcap", &g, &st, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_eth(&g, &st);
}

static void test_stdin(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	assert_non_null(freopen(DATA "eth.pcap", "rb", stdin));
	assert_int_equal(run("-", &g, &st, err, sizeof(err)), 0);
	assert_eth(&g, &st);

	assert_non_null(freopen(DATA "garbage.pcap", "rb", stdin));
	assert_int_equal(run("-", &g, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "cannot open stdin: unknown file format");
}

static void test_fragments(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	/* IPv4 first and later fragment, IPv6 first and later fragment. */
	assert_int_equal(run(DATA "frag.pcap", &g, &st, err, sizeof(err)), 0);
	assert_stats(&st, 5, 1, 4, 0, 0);
	assert_int_equal(g.n, 1);
	assert_client4(&g.seg[0]);
	assert_tcp(&g.seg[0], 1000, 2000, TCPF_PSH | TCPF_ACK, "whole");
}

static void test_vlan(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	assert_int_equal(run(DATA "vlan.pcap", &g, &st, err, sizeof(err)), 0);
	assert_stats(&st, 3, 3, 0, 0, 0);
	/* 802.1Q */
	assert_client4(&g.seg[0]);
	assert_tcp(&g.seg[0], 1000, 2000, TCPF_PSH | TCPF_ACK, "vlan1");
	/* 802.1ad over 802.1Q */
	assert_server6(&g.seg[1]);
	assert_tcp(&g.seg[1], 7, 8, TCPF_FIN | TCPF_ACK, "vlan2");
	/* 0x9100 over two 802.1Q */
	assert_client4(&g.seg[2]);
	assert_tcp(&g.seg[2], 3, 2000, TCPF_PSH | TCPF_ACK, "vlan3");
}

static void test_sll(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	assert_int_equal(run(DATA "sll.pcap", &g, &st, err, sizeof(err)), 0);
	assert_stats(&st, 4, 3, 1, 0, 0);
	assert_int_equal(g.seg[0].ts_us, TS * 1000000 + 10);
	assert_client4(&g.seg[0]);
	assert_tcp(&g.seg[0], 1000, 2000, TCPF_PSH | TCPF_ACK, "sll4");
	assert_server6(&g.seg[1]);
	assert_tcp(&g.seg[1], 7, 8, TCPF_FIN | TCPF_ACK, "sll6");
	assert_client4(&g.seg[2]);
	assert_tcp(&g.seg[2], 9, 2000, TCPF_PSH | TCPF_ACK, "sllv");
}

static void test_sll2(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	assert_int_equal(run(DATA "sll2.pcap", &g, &st, err, sizeof(err)), 0);
	assert_stats(&st, 2, 2, 0, 0, 0);
	assert_int_equal(g.seg[0].ts_us, TS * 1000000 + 20);
	assert_client4(&g.seg[0]);
	assert_tcp(&g.seg[0], 1000, 2000, TCPF_PSH | TCPF_ACK, "sll2-4");
	assert_server6(&g.seg[1]);
	assert_tcp(&g.seg[1], 7, 8, TCPF_FIN | TCPF_ACK, "sll2-6");
}

static void test_raw(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	/* The third record has IP version 5. */
	assert_int_equal(run(DATA "raw.pcap", &g, &st, err, sizeof(err)), 0);
	assert_stats(&st, 5, 4, 0, 1, 0);
	assert_client4(&g.seg[0]);
	assert_tcp(&g.seg[0], 1000, 2000, TCPF_PSH | TCPF_ACK, "raw4");
	assert_server6(&g.seg[1]);
	assert_tcp(&g.seg[1], 7, 8, TCPF_FIN | TCPF_ACK, "raw6");
	/* IP length fields of zero: the frame's length. */
	assert_client4(&g.seg[2]);
	assert_tcp(&g.seg[2], 1000, 2000, TCPF_PSH | TCPF_ACK, "gso4");
	assert_server6(&g.seg[3]);
	assert_tcp(&g.seg[3], 7, 8, TCPF_FIN | TCPF_ACK, "gso6");

	assert_int_equal(run(DATA "ipv4.pcap", &g, &st, err, sizeof(err)), 0);
	assert_stats(&st, 1, 1, 0, 0, 0);
	assert_client4(&g.seg[0]);
	assert_tcp(&g.seg[0], 1000, 2000, TCPF_PSH | TCPF_ACK, "ipv4");

	assert_int_equal(run(DATA "ipv6.pcap", &g, &st, err, sizeof(err)), 0);
	assert_stats(&st, 1, 1, 0, 0, 0);
	assert_int_equal(g.seg[0].ts_us, TS * 1000000 + 41);
	assert_server6(&g.seg[0]);
	assert_tcp(&g.seg[0], 7, 8, TCPF_FIN | TCPF_ACK, "ipv6");
}

static void test_loopback(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	/* AF_INET and Darwin's AF_INET6 little-endian, the BSDs' AF_INET6
	 * big-endian, and family 7, which is skipped. */
	assert_int_equal(run(DATA "null.pcap", &g, &st, err, sizeof(err)), 0);
	assert_stats(&st, 4, 3, 1, 0, 0);
	assert_client4(&g.seg[0]);
	assert_tcp(&g.seg[0], 1000, 2000, TCPF_PSH | TCPF_ACK, "null4");
	assert_server6(&g.seg[1]);
	assert_tcp(&g.seg[1], 7, 8, TCPF_FIN | TCPF_ACK, "null6");
	assert_server6(&g.seg[2]);
	assert_tcp(&g.seg[2], 7, 8, TCPF_FIN | TCPF_ACK, "null6be");

	/* DLT_LOOP in a big-endian file, FreeBSD's AF_INET6. */
	assert_int_equal(run(DATA "loop.pcap", &g, &st, err, sizeof(err)), 0);
	assert_stats(&st, 2, 2, 0, 0, 0);
	assert_int_equal(g.seg[0].ts_us, TS * 1000000 + 60);
	assert_client4(&g.seg[0]);
	assert_tcp(&g.seg[0], 1000, 2000, TCPF_PSH | TCPF_ACK, "loop4");
	assert_server6(&g.seg[1]);
	assert_tcp(&g.seg[1], 7, 8, TCPF_FIN | TCPF_ACK, "loop6");
}

static void test_snaplen(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	assert_int_equal(run(DATA "snaplen.pcap", &g, &st, err, sizeof(err)),
			 0);
	/* The second record is cut inside the TCP header. */
	assert_stats(&st, 3, 2, 0, 1, 1);
	assert_client4(&g.seg[0]);
	assert_int_equal(g.seg[0].seq, 4242);
	assert_int_equal(g.seg[0].caplen, 10);
	assert_int_equal(g.seg[0].len, 100);
	assert_memory_equal(g.seg[0].data,
			    "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10);
	/* Only the Ethernet padding was cut: the payload is whole. */
	assert_client4(&g.seg[1]);
	assert_tcp(&g.seg[1], 7, 2000, TCPF_PSH | TCPF_ACK, "hey");
}

static void test_malformed(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	assert_int_equal(run(DATA "malformed.pcap", &g, &st, err,
			     sizeof(err)), 0);
	assert_stats(&st, 7, 1, 0, 6, 0);
	assert_client4(&g.seg[0]);
	assert_tcp(&g.seg[0], 1000, 2000, TCPF_PSH | TCPF_ACK, "fine");
}

static void test_timestamps(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	assert_int_equal(run(DATA "nsec.pcap", &g, &st, err, sizeof(err)), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.seg[0].ts_us, TS * 1000000 + 123456);
	assert_tcp(&g.seg[0], 1000, 2000, TCPF_PSH | TCPF_ACK, "nsec");
}

static void test_pcapng(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	/* Nanosecond if_tsresol. */
	assert_int_equal(run(DATA "ng.pcapng", &g, &st, err, sizeof(err)), 0);
	assert_stats(&st, 2, 2, 0, 0, 0);
	assert_int_equal(g.seg[0].ts_us, TS * 1000000 + 987654);
	assert_client4(&g.seg[0]);
	assert_tcp(&g.seg[0], 11, 2000, TCPF_PSH | TCPF_ACK, "ng1");
	assert_int_equal(g.seg[1].ts_us, TS * 1000000 + 987655);
	assert_server6(&g.seg[1]);
	assert_tcp(&g.seg[1], 12, 8, TCPF_FIN | TCPF_ACK, "ng2");
}

static void test_cut_file(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256];

	(void)state;
	assert_int_equal(run(DATA "cut.pcap", &g, &st, err, sizeof(err)), -1);
	assert_string_equal(err, DATA "cut.pcap: truncated dump file; tried "
			    "to read 59 captured bytes, only got 29");
	assert_stats(&st, 2, 2, 0, 0, 0);
	assert_tcp(&g.seg[0], 1, 2000, TCPF_PSH | TCPF_ACK, "one");
	assert_tcp(&g.seg[1], 4, 2000, TCPF_PSH | TCPF_ACK, "two");
}

static void test_open_errors(void **state)
{
	struct pcap_src_stats st;
	struct got g;
	char err[256], tiny[12];

	(void)state;
	assert_int_equal(run(DATA "nonexistent.pcap", &g, &st, err,
			     sizeof(err)), -1);
	assert_string_equal(err, "cannot open " DATA "nonexistent.pcap: "
			    "No such file or directory");
	assert_int_equal(run(DATA "garbage.pcap", &g, &st, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "cannot open " DATA "garbage.pcap: unknown "
			    "file format");
	assert_int_equal(run(DATA "wifi.pcap", &g, &st, err, sizeof(err)), -1);
	assert_string_equal(err, DATA "wifi.pcap: unsupported link type 105 "
			    "(IEEE802_11)");
	assert_stats(&st, 0, 0, 0, 0, 0);
	assert_int_equal(g.n, 0);

	/* The reason is cut to fit; no error buffer at all is fine too. */
	assert_int_equal(run(DATA "wifi.pcap", &g, &st, tiny, sizeof(tiny)),
			 -1);
	assert_string_equal(tiny, "tests/unit/");
	assert_int_equal(pcap_src_run(DATA "wifi.pcap", collect, &g, NULL,
				      NULL, 0), -1);
}

static void test_stop_early(void **state)
{
	struct pcap_src_stats st = { 0 };
	struct got g = { .stop_after = 2 };

	(void)state;
	assert_int_equal(pcap_src_run(DATA "eth.pcap", collect, &g, &st, NULL,
				      0), 7);
	assert_int_equal(g.n, 2);
	assert_stats(&st, 3, 2, 1, 0, 0);
	/* Counts add up across calls. */
	g.n = 0;
	g.stop_after = 0;
	assert_int_equal(pcap_src_run(DATA "vlan.pcap", collect, &g, &st, NULL,
				      0), 0);
	assert_stats(&st, 6, 5, 1, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_sll),
		cmocka_unit_test(test_sll2),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_snaplen),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_pcapng),
		cmocka_unit_test(test_cut_file),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_stop_early),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
