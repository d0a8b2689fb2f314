/* SPDX-License-Identifier: BSD-3-Clause */
/* The pcap writer: segments read back by the project's own pcap source,
 * headers and checksums checked byte by byte, tshark's view of a written
 * connection, and the ways writing can fail. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "pcap_out.h"
#include "pcap_src.h"

#define TS 1700000000ull
#define TSHARK "/usr/bin/tshark"
#define MAX_SEGS 16
#define BIG 70000	/* more than an IP length field holds */
#define BIG_FIT 65495	/* 65535 - 20 - 20 */

/* The ClientHello of go-crypto-tls-Server-TLSv11-FallbackSCSV.pcap in
 * tests/golden/corpora (Go crypto/tls testdata, BSD-3-Clause, see
 * ORIGIN.tsv): a TLS 1.1 fallback probe with SNI 127.0.0.1. */
static const uint8_t client_hello[] = {
	0x16, 0x03, 0x01, 0x00, 0x77,	/* handshake, TLS 1.0, 119 */
	0x01, 0x00, 0x00, 0x73,		/* ClientHello, 115 */
	0x03, 0x02,			/* client_version TLS 1.1 */
	0x0a, 0x6b, 0xc9, 0x55, 0x9d, 0xbf, 0x4e, 0x61,	/* random */
	0xb2, 0x0a, 0xc7, 0xc6, 0x96, 0x9f, 0xeb, 0x90,
	0x91, 0x87, 0xca, 0xd3, 0xd3, 0x62, 0xdc, 0xb6,
	0xb4, 0xdb, 0xea, 0x41, 0xfe, 0x43, 0x3e, 0xa3,
	0x00,				/* session_id, empty */
	0x00, 0x14,			/* cipher_suites, 20 bytes */
	  0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39, 0xc0, 0x09,
	  0xc0, 0x13, 0x00, 0x33, 0x00, 0x35, 0x00, 0x2f,
	  0x00, 0xff,			/* renegotiation SCSV */
	  0x56, 0x00,			/* TLS_FALLBACK_SCSV */
	0x01, 0x00,			/* compression: null */
	0x00, 0x36,			/* extensions, 54 bytes */
	0x00, 0x00, 0x00, 0x0e,		/* server_name, 14 */
	  0x00, 0x0c,			/* server_name_list, 12 */
	  0x00, 0x00, 0x09,		/* host_name, 9 */
	  '1', '2', '7', '.', '0', '.', '0', '.', '1',
	0x00, 0x0b, 0x00, 0x04,		/* ec_point_formats, 4 */
	  0x03, 0x00, 0x01, 0x02,
	0x00, 0x0a, 0x00, 0x0c,		/* supported_groups, 12 */
	  0x00, 0x0a, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e,
	  0x00, 0x19, 0x00, 0x18,
	0x00, 0x23, 0x00, 0x00,		/* session_ticket, empty */
	0x00, 0x16, 0x00, 0x00,		/* encrypt_then_mac */
	0x00, 0x17, 0x00, 0x00,		/* extended_master_secret */
};

/* The server's answer in the same capture. */
static const uint8_t alert[] = {
	0x15, 0x03, 0x02, 0x00, 0x02,	/* alert record, TLS 1.1, 2 */
	0x02, 0x56,			/* fatal, inappropriate_fallback */
};

static uint8_t big[BIG];

/* Segments as handed on, payloads copied: the pointer is only valid
 * during the call. */
struct got {
	struct segment seg[MAX_SEGS];
	uint8_t payload[MAX_SEGS][BIG];
	int n;
};

static int collect(void *ctx, const struct segment *seg)
{
	struct got *g = ctx;

	assert_true(g->n < MAX_SEGS);
	assert_true(seg->caplen <= sizeof(g->payload[0]));
	g->seg[g->n] = *seg;
	if (seg->caplen)
		memcpy(g->payload[g->n], seg->data, seg->caplen);
	g->seg[g->n].data = g->payload[g->n];
	g->n++;
	return 0;
}

static void ep(struct endpoint *e, int family, const char *ip, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->family = (uint8_t)family;
	assert_int_equal(inet_pton(family, ip, e->addr), 1);
	e->port = port;
}

static struct segment mkseg(uint64_t ts_us, const struct endpoint *src,
			    const struct endpoint *dst, uint8_t flags,
			    uint32_t seq, uint32_t ack, const void *data,
			    uint32_t caplen, uint32_t len)
{
	struct segment s;

	memset(&s, 0, sizeof(s));
	s.ts_us = ts_us;
	s.src = *src;
	s.dst = *dst;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.data = data;
	s.caplen = caplen;
	s.len = len;
	return s;
}

static void tmp_path(char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/test_pcap_out.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Written independently of the writer's: a header with its checksum in
 * place sums to 0xffff. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sum += i & 1 ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Every packet of path: the file header's fields, the IP and TCP
 * constants, and both checksums. */
static void check_raw(const char *path, int packets)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *p;
	uint8_t pseudo[40];
	pcap_t *pc;
	int n = 0;

	pc = pcap_open_offline(path, errbuf);
	assert_non_null(pc);
	assert_int_equal(pcap_datalink(pc), DLT_RAW);
	assert_int_equal(pcap_snapshot(pc), 262144);
	assert_int_equal(pcap_major_version(pc), 2);
	assert_int_equal(pcap_minor_version(pc), 4);
	assert_false(pcap_is_swapped(pc));
	while (pcap_next_ex(pc, &h, &p) == 1) {
		const uint8_t *tcp;
		uint32_t tlen;

		n++;
		assert_int_equal(h->caplen, h->len);
		if (p[0] >> 4 == 4) {
			assert_true(h->caplen >= 40);
			assert_int_equal(p[0], 0x45);
			assert_int_equal(get16(p + 2), h->caplen);
			assert_int_equal(get16(p + 6), 0x4000);	/* DF */
			assert_int_equal(p[8], 64);
			assert_int_equal(p[9], IPPROTO_TCP);
			assert_int_equal(fold(sum16(0, p, 20)), 0xffff);
			tcp = p + 20;
			tlen = h->caplen - 20;
			memcpy(pseudo, p + 12, 8);
			memset(pseudo + 8, 0, 4);
			pseudo[9] = IPPROTO_TCP;
			pseudo[10] = (uint8_t)(tlen >> 8);
			pseudo[11] = (uint8_t)tlen;
			assert_int_equal(fold(sum16(sum16(0, pseudo, 12), tcp,
						    tlen)), 0xffff);
		} else {
			assert_true(h->caplen >= 60);
			assert_int_equal(p[0], 0x60);
			assert_int_equal(get16(p + 4), h->caplen - 40);
			assert_int_equal(p[6], IPPROTO_TCP);
			assert_int_equal(p[7], 64);
			tcp = p + 40;
			tlen = h->caplen - 40;
			memcpy(pseudo, p + 8, 32);
			memset(pseudo + 32, 0, 8);
			pseudo[34] = (uint8_t)(tlen >> 8);
			pseudo[35] = (uint8_t)tlen;
			pseudo[39] = IPPROTO_TCP;
			assert_int_equal(fold(sum16(sum16(0, pseudo, 40), tcp,
						    tlen)), 0xffff);
		}
		assert_int_equal(tcp[12], 0x50);	/* data offset 5 */
		assert_int_equal(get16(tcp + 14), 65535);
	}
	pcap_close(pc);
	assert_int_equal(n, packets);
}

static void assert_same(const struct segment *got, const struct segment *want)
{
	assert_int_equal(got->ts_us, want->ts_us);
	assert_memory_equal(&got->src, &want->src, sizeof(got->src));
	assert_memory_equal(&got->dst, &want->dst, sizeof(got->dst));
	assert_int_equal(got->flags, want->flags);
	assert_int_equal(got->seq, want->seq);
	assert_int_equal(got->ack, want->ack);
	assert_int_equal(got->caplen, want->caplen);
	/* What was not captured is not written, so the packet read back
	 * is as long as what was captured. */
	assert_int_equal(got->len, want->caplen);
	assert_int_equal(got->dir, SEG_DIR_UNKNOWN);
	assert_memory_equal(got->data, want->data, want->caplen);
}

static void test_round_trip(void **state)
{
	struct endpoint c4, s4, c6, s6;
	struct segment in[10];
	struct pcap_src_stats st;
	static struct got g;
	struct pcap_out *o;
	char path[64], err[256];
	int i, n = 0;

	(void)state;
	ep(&c4, AF_INET, "192.0.2.1", 51000);
	ep(&s4, AF_INET, "198.51.100.7", 443);
	ep(&c6, AF_INET6, "2001:db8::1", 51001);
	ep(&s6, AF_INET6, "2001:db8::2", 443);
	/* Sequence numbers across the wrap; odd payload lengths. */
	in[n++] = mkseg(TS * 1000000 + 1, &c4, &s4, TCPF_SYN,
			0xfffffff0, 0, NULL, 0, 0);
	in[n++] = mkseg(TS * 1000000 + 999999, &c4, &s4, TCPF_PSH | TCPF_ACK,
			0xfffffff1, 77, "hello", 5, 5);
	in[n++] = mkseg((TS + 1) * 1000000, &s4, &c4, TCPF_FIN | TCPF_ACK,
			77, 0xfffffff6, "bye!", 4, 4);
	in[n++] = mkseg((TS + 2) * 1000000, &c4, &s4, TCPF_RST,
			0xfffffff6, 0, NULL, 0, 0);
	/* 5 of 1000 bytes captured. */
	in[n++] = mkseg((TS + 3) * 1000000, &s4, &c4, TCPF_ACK,
			78, 0xfffffff6, "trunc", 5, 1000);
	in[n++] = mkseg((TS + 4) * 1000000, &c6, &s6, TCPF_SYN | TCPF_ACK,
			1, 2, NULL, 0, 0);
	in[n++] = mkseg((TS + 5) * 1000000, &s6, &c6, TCPF_PSH | TCPF_ACK,
			2, 3, "six", 3, 3);
	in[n++] = mkseg((TS + 6) * 1000000, &c6, &s6, TCPF_FIN | TCPF_ACK,
			3, 5, NULL, 0, 0);
	in[n++] = mkseg((TS + 7) * 1000000, &s6, &c6, TCPF_RST | TCPF_ACK,
			5, 3, NULL, 0, 0);
	in[n++] = mkseg((TS + 8) * 1000000, &c6, &s6, TCPF_PSH | TCPF_ACK,
			3, 5, "partial", 7, 3000);

	tmp_path(path, sizeof(path));
	o = pcap_out_open(path, err, sizeof(err));
	assert_non_null(o);
	for (i = 0; i < n; i++) {
		in[i].dir = i & 1 ? SEG_DIR_FROM_SERVER : SEG_DIR_FROM_CLIENT;
		assert_int_equal(pcap_out_segment(o, &in[i]), 0);
	}
	assert_int_equal(pcap_out_packets(o), n);
	assert_int_equal(pcap_out_close(o), 0);

	check_raw(path, n);
	memset(&g, 0, sizeof(g));
	memset(&st, 0, sizeof(st));
	assert_int_equal(pcap_src_run(path, collect, &g, &st, err,
				      sizeof(err)), 0);
	assert_int_equal(st.packets, n);
	assert_int_equal(st.tcp, n);
	assert_int_equal(st.skipped + st.malformed + st.truncated, 0);
	assert_int_equal(g.n, n);
	for (i = 0; i < n; i++)
		assert_same(&g.seg[i], &in[i]);
	unlink(path);
}

/* The synthetic handshake, and payloads too long for an IP length. */
static void test_handshake_and_big(void **state)
{
	struct endpoint c, s, c4, s4;
	struct segment in[2];
	struct pcap_src_stats st;
	static struct got g;
	struct pcap_out *o;
	char path[64], err[256];

	(void)state;
	ep(&c, AF_INET6, "2001:db8::1", 40000);
	ep(&s, AF_INET6, "2001:db8::2", 8443);
	ep(&c4, AF_INET, "10.0.0.1", 40001);
	ep(&s4, AF_INET, "10.0.0.2", 8443);
	memset(big, 'x', sizeof(big));
	big[BIG_FIT - 1] = 'y';
	in[0] = mkseg(TS * 1000000 + 5, &c, &s, TCPF_ACK, 101, 201,
		      big, BIG, BIG);
	in[1] = mkseg(TS * 1000000 + 6, &c4, &s4, TCPF_ACK, 1, 2,
		      big, BIG, BIG);

	tmp_path(path, sizeof(path));
	o = pcap_out_open(path, err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(pcap_out_handshake(o, TS * 1000000, &c, &s,
					    100, 200), 0);
	assert_int_equal(pcap_out_segment(o, &in[0]), 0);
	assert_int_equal(pcap_out_segment(o, &in[1]), 0);
	assert_int_equal(pcap_out_flush(o), 0);
	assert_int_equal(pcap_out_packets(o), 5);
	assert_int_equal(pcap_out_close(o), 0);

	check_raw(path, 5);
	memset(&g, 0, sizeof(g));
	memset(&st, 0, sizeof(st));
	assert_int_equal(pcap_src_run(path, collect, &g, &st, err,
				      sizeof(err)), 0);
	assert_int_equal(g.n, 5);
	assert_memory_equal(&g.seg[0].src, &c, sizeof(c));
	assert_memory_equal(&g.seg[0].dst, &s, sizeof(s));
	assert_int_equal(g.seg[0].flags, TCPF_SYN);
	assert_int_equal(g.seg[0].seq, 100);
	assert_int_equal(g.seg[0].ack, 0);
	assert_memory_equal(&g.seg[1].src, &s, sizeof(s));
	assert_memory_equal(&g.seg[1].dst, &c, sizeof(c));
	assert_int_equal(g.seg[1].flags, TCPF_SYN | TCPF_ACK);
	assert_int_equal(g.seg[1].seq, 200);
	assert_int_equal(g.seg[1].ack, 101);
	assert_memory_equal(&g.seg[2].src, &c, sizeof(c));
	assert_int_equal(g.seg[2].flags, TCPF_ACK);
	assert_int_equal(g.seg[2].seq, 101);
	assert_int_equal(g.seg[2].ack, 201);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(g.seg[i].ts_us, TS * 1000000);
		assert_int_equal(g.seg[i].caplen, 0);
	}
	/* Cut to what the IP length field holds, the same for both. */
	for (int i = 3; i < 5; i++) {
		assert_int_equal(g.seg[i].caplen, BIG_FIT);
		assert_int_equal(g.seg[i].len, BIG_FIT);
		assert_memory_equal(g.seg[i].data, big, BIG_FIT);
	}
	unlink(path);
}

/* Run tshark on path; its standard output (truncated) in out. */
static int tshark(const char *path, const char *args, char *out, size_t len)
{
	char cmd[512];
	size_t n = 0, r;
	FILE *p;

	snprintf(cmd, sizeof(cmd), TSHARK " -n -r %s %s 2>/dev/null", path,
		 args);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n + 1 < len && (r = fread(out + n, 1, len - 1 - n, p)) > 0)
		n += r;
	out[n] = '\0';
	return pclose(p);
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* A fallback probe refused, as seen when the handshake was missed:
 * synthetic handshake, ClientHello, the server's ACK and alert, the
 * server's FIN and the client's RST. */
static int write_conn(struct pcap_out *o, uint64_t ts,
		      const struct endpoint *c, const struct endpoint *s,
		      uint32_t cisn, uint32_t sisn)
{
	uint32_t cseq = cisn + 1, sseq = sisn + 1;
	uint32_t chl = sizeof(client_hello);
	struct segment seg;
	int n = 3;

	assert_int_equal(pcap_out_handshake(o, ts, c, s, cisn, sisn), 0);
	seg = mkseg(ts + 100, c, s, TCPF_PSH | TCPF_ACK, cseq, sseq,
		    client_hello, chl, chl);
	assert_int_equal(pcap_out_segment(o, &seg), 0), n++;
	seg = mkseg(ts + 150, s, c, TCPF_ACK, sseq, cseq + chl, NULL, 0, 0);
	assert_int_equal(pcap_out_segment(o, &seg), 0), n++;
	seg = mkseg(ts + 200, s, c, TCPF_PSH | TCPF_ACK, sseq, cseq + chl,
		    alert, sizeof(alert), sizeof(alert));
	assert_int_equal(pcap_out_segment(o, &seg), 0), n++;
	seg = mkseg(ts + 210, s, c, TCPF_FIN | TCPF_ACK,
		    sseq + (uint32_t)sizeof(alert), cseq + chl, NULL, 0, 0);
	assert_int_equal(pcap_out_segment(o, &seg), 0), n++;
	seg = mkseg(ts + 300, c, s, TCPF_RST, cseq + chl, 0, NULL, 0, 0);
	assert_int_equal(pcap_out_segment(o, &seg), 0), n++;
	return n;
}

static void test_tshark(void **state)
{
	struct endpoint c4, s4, c6, s6;
	struct pcap_out *o;
	char path[64], err[256], out[4096];
	int n;

	(void)state;
	if (access(TSHARK, X_OK)) {
		print_message("skipped: no " TSHARK "\n");
		skip();
	}
	ep(&c4, AF_INET, "10.0.0.1", 50000);
	ep(&s4, AF_INET, "10.0.0.2", 18443);
	ep(&c6, AF_INET6, "2001:db8::1", 50001);
	ep(&s6, AF_INET6, "2001:db8::2", 18443);
	tmp_path(path, sizeof(path));
	o = pcap_out_open(path, err, sizeof(err));
	assert_non_null(o);
	/* ISNs near the wrap, so that relative numbers must wrap too. */
	n = write_conn(o, TS * 1000000, &c4, &s4, 0xffffff00, 0xfffffffe);
	n += write_conn(o, TS * 1000000 + 1000, &c6, &s6, 12345, 0x80000000);
	assert_int_equal(pcap_out_close(o), 0);

	assert_int_equal(tshark(path, "-d tcp.port==18443,tls "
				"-Y tls.handshake.type==1 -T fields "
				"-e tls.handshake.extensions_server_name",
				out, sizeof(out)), 0);
	assert_string_equal(out, "127.0.0.1\n127.0.0.1\n");

	/* One alert per connection. */
	assert_int_equal(tshark(path, "-d tcp.port==18443,tls "
				"-Y tls.alert_message.desc==86 -T fields "
				"-e tcp.stream -e tcp.srcport",
				out, sizeof(out)), 0);
	assert_string_equal(out, "0\t18443\n1\t18443\n");

	/* No bad checksum, and every one was checked and found good. */
	assert_int_equal(tshark(path, "-o tcp.check_checksum:TRUE "
				"-o ip.check_checksum:TRUE "
				"-Y 'tcp.checksum.status==0 || "
				"ip.checksum.status==0' -T fields "
				"-e frame.number", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(tshark(path, "-o tcp.check_checksum:TRUE "
				"-Y tcp.checksum.status==1 -T fields "
				"-e frame.number", out, sizeof(out)), 0);
	assert_int_equal(lines(out), n);
	assert_int_equal(tshark(path, "-o ip.check_checksum:TRUE "
				"-Y ip.checksum.status==1 -T fields "
				"-e frame.number", out, sizeof(out)), 0);
	assert_int_equal(lines(out), n / 2);

	/* Sequence and acknowledgement numbers agree: TCP analysis finds
	 * nothing lost, retransmitted or out of order. */
	assert_int_equal(tshark(path, "-Y 'tcp.analysis.lost_segment || "
				"tcp.analysis.ack_lost_segment || "
				"tcp.analysis.retransmission || "
				"tcp.analysis.out_of_order || "
				"tcp.analysis.duplicate_ack' -T fields "
				"-e frame.number", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	unlink(path);
}

static void test_errors(void **state)
{
	struct endpoint c, s;
	struct segment seg;
	struct pcap_out *o;
	char err[256];

	(void)state;
	err[0] = '\0';
	assert_null(pcap_out_open("/nonexistent-tlswatch/x.pcap", err,
				  sizeof(err)));
	assert_string_equal(err, "cannot create /nonexistent-tlswatch/x.pcap: "
			    "No such file or directory");
	assert_null(pcap_out_open("/", err, sizeof(err)));
	assert_string_equal(err, "cannot create /: Is a directory");
	/* A short buffer is cut, not overrun. */
	assert_null(pcap_out_open("/", err, 8));
	assert_string_equal(err, "cannot ");

	ep(&c, AF_INET, "192.0.2.1", 1);
	ep(&s, AF_INET6, "2001:db8::2", 2);

	if (access("/dev/full", W_OK)) {
		print_message("skipped: no writable /dev/full\n");
		skip();
	}
	/* Small writes fail only when the buffer is flushed. */
	o = pcap_out_open("/dev/full", err, sizeof(err));
	assert_non_null(o);
	seg = mkseg(1, &c, &s, TCPF_SYN, 1, 0, NULL, 0, 0);
	assert_int_equal(pcap_out_segment(o, &seg), -EINVAL);
	s.family = AF_INET;
	seg.dst = s;
	seg.src.family = seg.dst.family = AF_UNIX;
	assert_int_equal(pcap_out_segment(o, &seg), -EINVAL);
	seg.src.family = seg.dst.family = AF_INET;
	assert_int_equal(pcap_out_segment(o, &seg), 0);
	assert_int_equal(pcap_out_packets(o), 1);
	assert_int_equal(pcap_out_close(o), -ENOSPC);

	/* A write too big for the buffer fails at once, and sticks. */
	o = pcap_out_open("/dev/full", err, sizeof(err));
	assert_non_null(o);
	seg = mkseg(1, &c, &s, TCPF_ACK, 1, 0, big, BIG, BIG);
	assert_int_equal(pcap_out_segment(o, &seg), -ENOSPC);
	seg.caplen = seg.len = 0;
	assert_int_equal(pcap_out_segment(o, &seg), -ENOSPC);
	assert_int_equal(pcap_out_flush(o), -ENOSPC);
	assert_int_equal(pcap_out_packets(o), 0);
	assert_int_equal(pcap_out_close(o), -ENOSPC);

	assert_int_equal(pcap_out_close(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_handshake_and_big),
		cmocka_unit_test(test_tshark),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
