/* SPDX-License-Identifier: BSD-3-Clause */
/* Capture output: every segment becomes one LINKTYPE_RAW packet whose
 * IPv4/IPv6 (RFC 791, RFC 8200) and TCP (RFC 9293) headers are built from
 * the segment, with RFC 1071 checksums so that tools which check them do
 * not flag every packet. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "pcap_out.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u	/* microsecond timestamps */
#define PCAP_SNAPLEN 262144u
#define LINKTYPE_RAW 101		/* starts at the IPv4 or IPv6 header */

#define REC_HLEN 16
#define IP4_HLEN 20
#define IP6_HLEN 40
#define TCP_HLEN 20
#define IP_MAX_LEN 65535u
#define TTL 64
#define TCP_WINDOW 65535

struct pcap_out {
	FILE *f;
	uint64_t packets;
	int err;		/* first write error, as -errno; sticks */
	uint16_t ip_id;
	/* Record header, IP and TCP headers of the packet being written:
	 * kept here so that a packet needs no allocation. */
	uint8_t hdr[REC_HLEN + IP6_HLEN + TCP_HLEN];
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* pcap headers are in the writer's byte order; readers tell it from the
 * magic number. */
static void put32_host(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put16_host(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* RFC 1071: add n bytes as big-endian 16-bit words. Only the last call of
 * a sum may pass an odd n; its last byte is padded with a zero. A 64-bit
 * sum cannot overflow on any packet this writes. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Keep the first error only: later ones are usually its consequences. */
static int fail(struct pcap_out *o, int e)
{
	if (!o->err)
		o->err = -(e ? e : EIO);
	return o->err;
}

static int write_all(struct pcap_out *o, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, o->f) != n)
		return fail(o, errno);
	return 0;
}

struct pcap_out *pcap_out_open(const char *path, char *err, size_t errlen)
{
	uint8_t fh[24];
	struct pcap_out *o;
	int e;

	o = calloc(1, sizeof(*o));
	if (!o) {
		set_err(err, errlen, "cannot create %s: %s", path,
			strerror(errno));
		return NULL;
	}
	o->f = fopen(path, "wbe");
	if (!o->f) {
		set_err(err, errlen, "cannot create %s: %s", path,
			strerror(errno));
		free(o);
		return NULL;
	}
	put32_host(fh, PCAP_MAGIC_US);
	put16_host(fh + 4, 2);		/* version 2.4 */
	put16_host(fh + 6, 4);
	put32_host(fh + 8, 0);		/* thiszone: timestamps are UTC */
	put32_host(fh + 12, 0);		/* sigfigs */
	put32_host(fh + 16, PCAP_SNAPLEN);
	put32_host(fh + 20, LINKTYPE_RAW);
	if (write_all(o, fh, sizeof(fh))) {
		e = -o->err;
		set_err(err, errlen, "writing %s: %s", path, strerror(e));
		fclose(o->f);
		free(o);
		return NULL;
	}
	return o;
}

int pcap_out_segment(struct pcap_out *o, const struct segment *seg)
{
	uint32_t ip_hlen, pay, tot;
	uint8_t *ip, *tcp;
	uint64_t sum;
	int ret;

	if (o->err)
		return o->err;
	if (seg->src.family != seg->dst.family ||
	    (seg->src.family != AF_INET && seg->src.family != AF_INET6) ||
	    (seg->caplen && !seg->data))
		return -EINVAL;
	ip_hlen = seg->src.family == AF_INET ? IP4_HLEN : IP6_HLEN;
	/* Only the captured bytes are written, and the IP length says so:
	 * a segment captured in part becomes a shorter packet, not one
	 * padded with bytes that were never seen. Its TCP checksum is then
	 * right for the packet as written. The same goes for a payload too
	 * long for an IPv4 length field (a GSO super-packet); IPv6 is cut
	 * alike so that both families of a capture behave the same. */
	pay = seg->caplen;
	if (pay > IP_MAX_LEN - IP4_HLEN - TCP_HLEN)
		pay = IP_MAX_LEN - IP4_HLEN - TCP_HLEN;
	tot = ip_hlen + TCP_HLEN + pay;

	memset(o->hdr, 0, sizeof(o->hdr));
	put32_host(o->hdr, (uint32_t)(seg->ts_us / 1000000));
	put32_host(o->hdr + 4, (uint32_t)(seg->ts_us % 1000000));
	put32_host(o->hdr + 8, tot);
	put32_host(o->hdr + 12, tot);

	ip = o->hdr + REC_HLEN;
	tcp = ip + ip_hlen;
	put16(tcp, seg->src.port);
	put16(tcp + 2, seg->dst.port);
	put32(tcp + 4, seg->seq);
	put32(tcp + 8, seg->ack);
	tcp[12] = (TCP_HLEN / 4) << 4;
	tcp[13] = seg->flags & (TCPF_FIN | TCPF_SYN | TCPF_RST | TCPF_PSH |
				TCPF_ACK);
	put16(tcp + 14, TCP_WINDOW);

	/* The pseudo-header is summed from the IP header in place: a
	 * ones' complement sum does not depend on the order of its words. */
	if (seg->src.family == AF_INET) {
		ip[0] = 0x45;			/* version 4, IHL 5 */
		put16(ip + 2, (uint16_t)tot);
		put16(ip + 4, o->ip_id++);
		put16(ip + 6, 0x4000);		/* DF */
		ip[8] = TTL;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, seg->src.addr, 4);
		memcpy(ip + 16, seg->dst.addr, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, IP4_HLEN)));
		sum = csum_add(0, ip + 12, 8);
	} else {
		ip[0] = 0x60;			/* version 6 */
		put16(ip + 4, (uint16_t)(TCP_HLEN + pay));
		ip[6] = IPPROTO_TCP;
		ip[7] = TTL;
		memcpy(ip + 8, seg->src.addr, 16);
		memcpy(ip + 24, seg->dst.addr, 16);
		sum = csum_add(0, ip + 8, 32);
	}
	sum += IPPROTO_TCP + TCP_HLEN + pay;
	sum = csum_add(sum, tcp, TCP_HLEN);
	sum = csum_add(sum, seg->data, pay);
	put16(tcp + 16, csum_fold(sum));

	ret = write_all(o, o->hdr, REC_HLEN + ip_hlen + TCP_HLEN);
	if (!ret)
		ret = write_all(o, seg->data, pay);
	if (!ret)
		o->packets++;
	return ret;
}

int pcap_out_handshake(struct pcap_out *o, uint64_t ts_us,
		       const struct endpoint *client,
		       const struct endpoint *server,
		       uint32_t client_isn, uint32_t server_isn)
{
	struct segment s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.ts_us = ts_us;
	s.src = *client;
	s.dst = *server;
	s.dir = SEG_DIR_FROM_CLIENT;
	s.seq = client_isn;
	s.flags = TCPF_SYN;
	ret = pcap_out_segment(o, &s);
	if (ret)
		return ret;

	s.src = *server;
	s.dst = *client;
	s.dir = SEG_DIR_FROM_SERVER;
	s.seq = server_isn;
	s.ack = client_isn + 1;
	s.flags = TCPF_SYN | TCPF_ACK;
	ret = pcap_out_segment(o, &s);
	if (ret)
		return ret;

	s.src = *client;
	s.dst = *server;
	s.dir = SEG_DIR_FROM_CLIENT;
	s.seq = client_isn + 1;
	s.ack = server_isn + 1;
	s.flags = TCPF_ACK;
	return pcap_out_segment(o, &s);
}

int pcap_out_flush(struct pcap_out *o)
{
	if (fflush(o->f))
		return fail(o, errno);
	return o->err;
}

int pcap_out_close(struct pcap_out *o)
{
	int ret;

	if (!o)
		return 0;
	if (fclose(o->f))
		fail(o, errno);
	ret = o->err;
	free(o);
	return ret;
}

uint64_t pcap_out_packets(const struct pcap_out *o)
{
	return o->packets;
}

struct reported {
	struct pcap_out *o;
	const struct endpoint *client, *server;
};

static void reported_packet(void *ctx, const struct flow_packet *p)
{
	const struct reported *r = ctx;
	struct segment seg = {
		.ts_us = p->ts_us,
		.src = p->from_client ? *r->client : *r->server,
		.dst = p->from_client ? *r->server : *r->client,
		.flags = p->flags,
		.seq = p->seq,
		.ack = p->ack,
		.data = p->data,
		.caplen = p->caplen,
		.len = p->len,
	};

	pcap_out_segment(r->o, &seg);
}

bool pcap_out_reported(struct pcap_out *o, struct flows *f,
		       const struct endpoint *client,
		       const struct endpoint *server)
{
	struct reported r = { .o = o, .client = client, .server = server };
	struct flow_start start;
	bool whole;

	flows_packets(f, NULL, NULL, &start);
	if (start.known)
		pcap_out_handshake(o, start.ts_us, client, server,
				   start.client_isn, start.server_isn);
	whole = flows_packets(f, reported_packet, &r, &start);
	pcap_out_flush(o);
	return whole;
}
