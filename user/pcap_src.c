/* SPDX-License-Identifier: BSD-3-Clause */
/* Offline capture source: link, IP and TCP headers of every record decoded
 * with a bounds check before each read, TCP segments handed on. The
 * decoder is shared with live libpcap capture (pcap_live.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <pcap/pcap.h>

#include "pcap_src.h"

/* The BSD values of AF_INET6 seen in DLT_NULL and DLT_LOOP headers: the
 * capturing system's, not ours (NetBSD/OpenBSD, FreeBSD, Darwin). */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ_OLD 0x9100	/* pre-802.1ad stacked tags */

/* The rest of a packet: cap bytes at p were captured; wire bytes (>= cap)
 * were on the wire from p on, so wire > cap means snaplen cut it. A header
 * must have been captured whole, hence bounds checks against cap only. */
struct cursor {
	const uint8_t *p;
	uint32_t cap;
	uint32_t wire;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static bool pull(struct cursor *c, uint32_t n)
{
	if (n > c->cap)
		return false;
	c->p += n;
	c->cap -= n;
	c->wire -= n;
	return true;
}

/* Narrow the cursor to an IP packet of tot bytes whose header is hlen
 * bytes, and step over the header. Bytes past tot are link padding. A
 * zero tot is what Linux writes in BIG TCP super-packets (over 64 KiB)
 * captured on the host: the packet is then the rest of the frame. */
static bool ip_body(struct cursor *c, uint32_t hlen, uint32_t tot)
{
	if (!tot)
		tot = c->wire;
	if (tot < hlen || tot > c->wire || hlen > c->cap)
		return false;
	c->wire = tot;
	if (c->cap > tot)
		c->cap = tot;
	pull(c, hlen);
	return true;
}

static enum pkt_verdict tcp(struct cursor *c, struct segment *seg)
{
	uint32_t hlen;

	if (c->cap < 20)
		return PKT_MALFORMED;
	hlen = (uint32_t)(c->p[12] >> 4) * 4;
	if (hlen < 20 || hlen > c->cap)
		return PKT_MALFORMED;
	seg->src.port = get16(c->p);
	seg->dst.port = get16(c->p + 2);
	seg->seq = get32(c->p + 4);
	seg->ack = get32(c->p + 8);
	seg->flags = c->p[13] & (TCPF_FIN | TCPF_SYN | TCPF_RST | TCPF_PSH |
				 TCPF_ACK);
	pull(c, hlen);
	seg->data = c->p;
	seg->caplen = c->cap;
	seg->len = c->wire;
	return PKT_TCP;
}

static enum pkt_verdict ipv4(struct cursor *c, struct segment *seg)
{
	const uint8_t *h = c->p;

	if (c->cap < 20 || h[0] >> 4 != 4 || (h[0] & 0x0f) < 5)
		return PKT_MALFORMED;
	if (!ip_body(c, (uint32_t)(h[0] & 0x0f) * 4, get16(h + 2)))
		return PKT_MALFORMED;
	/* A first fragment carries a TCP header but not the whole payload;
	 * without reassembly its length would lie, so it goes too. */
	if ((get16(h + 6) & 0x3fff) || h[9] != IPPROTO_TCP)
		return PKT_SKIP;
	seg->src.family = seg->dst.family = AF_INET;
	memcpy(seg->src.addr, h + 12, 4);
	memcpy(seg->dst.addr, h + 16, 4);
	return tcp(c, seg);
}

static enum pkt_verdict ipv6(struct cursor *c, struct segment *seg)
{
	const uint8_t *h = c->p;
	uint8_t nh;

	if (c->cap < 40 || h[0] >> 4 != 6)
		return PKT_MALFORMED;
	if (!ip_body(c, 40, get16(h + 4) ? 40u + get16(h + 4) : 0))
		return PKT_MALFORMED;
	nh = h[6];
	for (;;) {
		uint32_t hlen;

		switch (nh) {
		case IPPROTO_TCP:
			seg->src.family = seg->dst.family = AF_INET6;
			memcpy(seg->src.addr, h + 8, 16);
			memcpy(seg->dst.addr, h + 24, 16);
			return tcp(c, seg);
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (c->cap < 2)
				return PKT_MALFORMED;
			hlen = ((uint32_t)c->p[1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (c->cap < 2)
				return PKT_MALFORMED;
			hlen = ((uint32_t)c->p[1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if (c->cap < 8)
				return PKT_MALFORMED;
			/* Offset 0 without more fragments is an atomic
			 * fragment (RFC 6946): a whole packet. */
			if (get16(c->p + 2) & 0xfff9)
				return PKT_SKIP;
			hlen = 8;
			break;
		default:
			return PKT_SKIP;
		}
		nh = c->p[0];
		if (!pull(c, hlen))
			return PKT_MALFORMED;
	}
}

/* After the link header: an EtherType, behind any number of VLAN tags. */
static enum pkt_verdict ethertype(struct cursor *c, uint16_t type,
			      struct segment *seg)
{
	while (type == ETH_P_8021Q || type == ETH_P_8021AD ||
	       type == ETH_P_QINQ_OLD) {
		if (c->cap < 4)
			return PKT_MALFORMED;
		type = get16(c->p + 2);
		pull(c, 4);
	}
	if (type == ETH_P_IPV4)
		return ipv4(c, seg);
	if (type == ETH_P_IPV6)
		return ipv6(c, seg);
	return PKT_SKIP;
}

static enum pkt_verdict ip_any(struct cursor *c, struct segment *seg)
{
	if (c->cap < 1)
		return PKT_MALFORMED;
	if (c->p[0] >> 4 == 4)
		return ipv4(c, seg);
	if (c->p[0] >> 4 == 6)
		return ipv6(c, seg);
	return PKT_MALFORMED;
}

/* The 4-byte family of DLT_NULL is in the capturing host's byte order and
 * that of DLT_LOOP in network order; families are small, so whichever
 * half is non-zero tells the order. */
static enum pkt_verdict loopback(struct cursor *c, struct segment *seg)
{
	uint32_t fam;

	if (c->cap < 4)
		return PKT_MALFORMED;
	fam = get32(c->p);
	if (!(fam & 0xffff))
		fam = __builtin_bswap32(fam);
	pull(c, 4);
	switch (fam) {
	case BSD_AF_INET:
		return ipv4(c, seg);
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return ipv6(c, seg);
	default:
		return PKT_SKIP;
	}
}

static enum pkt_verdict link_layer(int dlt, struct cursor *c, struct segment *seg)
{
	uint16_t type;

	switch (dlt) {
	case DLT_EN10MB:
		if (c->cap < 14)
			return PKT_MALFORMED;
		type = get16(c->p + 12);
		pull(c, 14);
		return ethertype(c, type, seg);
	case DLT_LINUX_SLL:
		if (c->cap < 16)
			return PKT_MALFORMED;
		type = get16(c->p + 14);
		pull(c, 16);
		return ethertype(c, type, seg);
	case DLT_LINUX_SLL2:
		if (c->cap < 20)
			return PKT_MALFORMED;
		type = get16(c->p);
		pull(c, 20);
		return ethertype(c, type, seg);
	case DLT_RAW:
		return ip_any(c, seg);
#ifdef DLT_IPV4
	case DLT_IPV4:
		return ipv4(c, seg);
#endif
#ifdef DLT_IPV6
	case DLT_IPV6:
		return ipv6(c, seg);
#endif
	case DLT_NULL:
	case DLT_LOOP:
		return loopback(c, seg);
	default:
		return PKT_MALFORMED;
	}
}

enum pkt_verdict pcap_src_decode(int dlt, const uint8_t *data,
				 uint32_t caplen, uint32_t len,
				 struct segment *seg)
{
	struct cursor c = {
		.p = data,
		.cap = caplen,
		/* Some writers record a wire length below the captured one. */
		.wire = len > caplen ? len : caplen,
	};

	return link_layer(dlt, &c, seg);
}

bool pcap_src_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
#endif
#ifdef DLT_IPV6
	case DLT_IPV6:
#endif
	case DLT_NULL:
	case DLT_LOOP:
		return true;
	default:
		return false;
	}
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

/* Read buffer for a capture file: stdio's 4 KiB meant a read(2) per
 * 4 KiB, a tenth of the run. */
#define READ_BUF (128 * 1024)

/* The file opened as libpcap's pcap_open_offline would, but with a larger
 * read buffer (*buf, to free after pcap_close); NULL with errbuf set. */
static pcap_t *open_file(const char *path, char **buf, char *errbuf)
{
	FILE *fp;
	pcap_t *pc;

	*buf = NULL;
	if (!strcmp(path, "-"))
		return pcap_fopen_offline_with_tstamp_precision(stdin,
				PCAP_TSTAMP_PRECISION_MICRO, errbuf);
	fp = fopen(path, "rb");
	if (!fp) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", strerror(errno));
		return NULL;
	}
	*buf = malloc(READ_BUF);
	if (*buf)
		setvbuf(fp, *buf, _IOFBF, READ_BUF);
	pc = pcap_fopen_offline_with_tstamp_precision(fp,
			PCAP_TSTAMP_PRECISION_MICRO, errbuf);
	if (!pc) {
		fclose(fp);
		free(*buf);
		*buf = NULL;
	}
	return pc;
}

int pcap_src_run(const char *path, segment_fn fn, void *ctx,
		 struct pcap_src_stats *st, char *err, size_t errlen)
{
	const char *name = strcmp(path, "-") ? path : "stdin";
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_src_stats local;
	const char *why;
	char *buf;
	size_t plen;
	pcap_t *pc;
	int dlt, ret;

	if (!st) {
		memset(&local, 0, sizeof(local));
		st = &local;
	}
	pc = open_file(path, &buf, errbuf);
	if (!pc) {
		/* libpcap names the file itself in some messages only. */
		why = errbuf;
		plen = strlen(path);
		if (!strncmp(why, path, plen) && !strncmp(why + plen, ": ", 2))
			why += plen + 2;
		set_err(err, errlen, "cannot open %s: %s", name, why);
		return -1;
	}
	dlt = pcap_datalink(pc);
	if (!pcap_src_supported(dlt)) {
		why = pcap_datalink_val_to_name(dlt);
		set_err(err, errlen, "%s: unsupported link type %d%s%s%s", name,
			dlt, why ? " (" : "", why ? why : "", why ? ")" : "");
		pcap_close(pc);
		free(buf);
		return -1;
	}
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		struct segment seg;
		int r;

		r = pcap_next_ex(pc, &h, &data);
		if (r == PCAP_ERROR_BREAK) {
			ret = 0;
			break;
		}
		if (r != 1) {
			set_err(err, errlen, "%s: %s", name, pcap_geterr(pc));
			ret = -1;
			break;
		}
		st->packets++;
		memset(&seg, 0, sizeof(seg));
		seg.ts_us = (uint64_t)h->ts.tv_sec * 1000000 +
			    (uint64_t)h->ts.tv_usec;
		switch (pcap_src_decode(dlt, data, h->caplen, h->len, &seg)) {
		case PKT_SKIP:
			st->skipped++;
			continue;
		case PKT_MALFORMED:
			st->malformed++;
			continue;
		case PKT_TCP:
			break;
		}
		st->tcp++;
		if (seg.caplen < seg.len)
			st->truncated++;
		ret = fn(ctx, &seg);
		if (ret)
			break;
	}
	pcap_close(pc);
	free(buf);
	return ret;
}
