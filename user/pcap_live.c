// SPDX-License-Identifier: BSD-3-Clause
/* Live libpcap capture: packets of every interface, decoded by the offline
 * source's decoder, given the direction the watched ports say. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "pcap_live.h"
#include "pcap_src.h"

#define DEVICE "any"
/* Whole packets: GSO and GRO hand over up to 64 KiB, BIG TCP more. */
#define SNAPLEN 262144
/* Room for a burst while userspace is busy decoding. */
#define BUFFER_BYTES (32 << 20)
/* Past this many port ranges the kernel filter grows beyond what a socket
 * filter may hold: it then keeps all TCP, and userspace picks the ports. */
#define FILTER_RANGES 64

#define PACKET_OUTGOING 4	/* linux/if_packet.h */
#define ARPHRD_LOOPBACK 772	/* linux/if_arp.h */

struct pcap_live {
	pcap_t *pc;
	int dlt;
	int fd;
	const uint8_t *ports;
	struct pcap_live_stats st;
	segment_fn fn;		/* during a dispatch */
	void *ctx;
	char err[PCAP_ERRBUF_SIZE + 64];
};

static bool watched(const uint8_t *ports, uint16_t port)
{
	return ports[port >> 3] & (1u << (port & 7));
}

/* "tcp and (port 443 or portrange 8000-8100)", or "tcp" when the ranges
 * are too many for a socket filter (or every port is watched). */
static char *filter_expr(const uint8_t *ports)
{
	size_t cap = 64 + FILTER_RANGES * 32, len;
	char *s = malloc(cap);
	int ranges = 0;

	if (!s)
		return NULL;
	len = (size_t)snprintf(s, cap, "tcp and (");
	for (uint32_t lo = 0; lo < 65536; lo++) {
		uint32_t hi = lo;

		if (!watched(ports, lo))
			continue;
		while (hi + 1 < 65536 && watched(ports, hi + 1))
			hi++;
		if (++ranges > FILTER_RANGES || (lo == 0 && hi == 65535))
			goto all_tcp;
		if (lo == hi)
			len += snprintf(s + len, cap - len, "%sport %u",
					ranges > 1 ? " or " : "", lo);
		else
			len += snprintf(s + len, cap - len, "%sportrange %u-%u",
					ranges > 1 ? " or " : "", lo, hi);
		lo = hi;
	}
	if (!ranges)
		goto all_tcp;
	snprintf(s + len, cap - len, ")");
	return s;
all_tcp:
	snprintf(s, cap, "tcp");
	return s;
}

static int set_filter(struct pcap_live *p, char *err, size_t errlen)
{
	struct bpf_program prog;
	char *expr = filter_expr(p->ports);
	int rc = -1;

	if (!expr) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (pcap_compile(p->pc, &prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "libpcap cannot compile filter '%s': %s",
			 expr, pcap_geterr(p->pc));
		goto out;
	}
	if (pcap_setfilter(p->pc, &prog))
		snprintf(err, errlen, "libpcap cannot set the filter: %s",
			 pcap_geterr(p->pc));
	else
		rc = 0;
	pcap_freecode(&prog);
out:
	free(expr);
	return rc;
}

struct pcap_live *pcap_live_open(const uint8_t *ports, char *err,
				 size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_live *p = calloc(1, sizeof(*p));
	int rc;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->ports = ports;
	p->pc = pcap_create(DEVICE, errbuf);
	if (!p->pc) {
		snprintf(err, errlen, "libpcap cannot capture on %s: %s",
			 DEVICE, errbuf);
		goto fail;
	}
	pcap_set_snaplen(p->pc, SNAPLEN);
	pcap_set_buffer_size(p->pc, BUFFER_BYTES);
	/* Outcomes are timed against the wall clock: packets must not wait
	 * in a half-full block. */
	pcap_set_immediate_mode(p->pc, 1);
	pcap_set_tstamp_precision(p->pc, PCAP_TSTAMP_PRECISION_MICRO);
	rc = pcap_activate(p->pc);
	if (rc == PCAP_ERROR_PERM_DENIED) {
		snprintf(err, errlen, "libpcap cannot capture on %s: permission denied (run as root, or with CAP_NET_RAW)",
			 DEVICE);
		goto fail;
	}
	if (rc < 0) {
		snprintf(err, errlen, "libpcap cannot capture on %s: %s",
			 DEVICE, rc == PCAP_ERROR ? pcap_geterr(p->pc) :
			 pcap_statustostr(rc));
		goto fail;
	}
	p->dlt = pcap_datalink(p->pc);
	if (!pcap_src_supported(p->dlt)) {
		snprintf(err, errlen, "libpcap gives link type %d on %s, which tlswatch does not read",
			 p->dlt, DEVICE);
		goto fail;
	}
	if (set_filter(p, err, errlen))
		goto fail;
	if (pcap_setnonblock(p->pc, 1, errbuf)) {
		snprintf(err, errlen, "libpcap: %s", errbuf);
		goto fail;
	}
	p->fd = pcap_get_selectable_fd(p->pc);
	if (p->fd < 0) {
		snprintf(err, errlen, "libpcap gives no descriptor to wait on");
		goto fail;
	}
	return p;
fail:
	pcap_live_close(p);
	return NULL;
}

/* A packet the loopback device sent: the same bytes come back as it
 * receives them, and would otherwise be read twice. libpcap 1.10 leaves
 * these out itself; older versions on "any" did not. */
static bool lo_outgoing(int dlt, const uint8_t *d, uint32_t caplen)
{
	if (dlt == DLT_LINUX_SLL && caplen >= 16)
		return (d[0] << 8 | d[1]) == PACKET_OUTGOING &&
		       (d[2] << 8 | d[3]) == ARPHRD_LOOPBACK;
	if (dlt == DLT_LINUX_SLL2 && caplen >= 20)
		return d[10] == PACKET_OUTGOING &&
		       (d[8] << 8 | d[9]) == ARPHRD_LOOPBACK;
	return false;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h,
		      const u_char *data)
{
	struct pcap_live *p = (struct pcap_live *)user;
	struct segment seg;
	bool to_server, from_server;

	p->st.packets++;
	if (lo_outgoing(p->dlt, data, h->caplen)) {
		p->st.lo_copies++;
		return;
	}
	memset(&seg, 0, sizeof(seg));
	switch (pcap_src_decode(p->dlt, data, h->caplen, h->len, &seg)) {
	case PKT_MALFORMED:
		p->st.malformed++;
		return;
	case PKT_SKIP:
		return;
	case PKT_TCP:
		break;
	}
	/* The kernel filter may have let more through (see FILTER_RANGES),
	 * and IPv6 with extension headers is decoded here, not there. */
	to_server = watched(p->ports, seg.dst.port);
	from_server = watched(p->ports, seg.src.port);
	if (!to_server && !from_server)
		return;
	/* Both ports watched: only the SYN can tell, in the flow table. */
	if (to_server != from_server)
		seg.dir = to_server ? SEG_DIR_FROM_CLIENT : SEG_DIR_FROM_SERVER;
	seg.ts_us = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
	p->st.tcp++;
	if (seg.caplen < seg.len)
		p->st.truncated++;
	if (p->fn(p->ctx, &seg))
		pcap_breakloop(p->pc);
}

int pcap_live_dispatch(struct pcap_live *p, segment_fn fn, void *ctx)
{
	uint64_t before = p->st.packets;
	int rc;

	p->fn = fn;
	p->ctx = ctx;
	rc = pcap_dispatch(p->pc, -1, on_packet, (u_char *)p);
	if (rc == PCAP_ERROR_BREAK)
		return (int)(p->st.packets - before);
	if (rc < 0) {
		snprintf(p->err, sizeof(p->err), "reading packets: %s",
			 pcap_geterr(p->pc));
		return -1;
	}
	return rc;
}

int pcap_live_poll(struct pcap_live *p, int timeout_ms, segment_fn fn,
		   void *ctx)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	int rc;

	rc = poll(&pfd, 1, timeout_ms);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return 0;
	if (pfd.revents & (POLLERR | POLLNVAL)) {
		snprintf(p->err, sizeof(p->err), "reading packets: the capture socket failed");
		return -EIO;
	}
	rc = pcap_live_dispatch(p, fn, ctx);
	return rc < 0 ? -EIO : rc;
}

const char *pcap_live_error(struct pcap_live *p)
{
	return p->err;
}

const char *pcap_live_device(const struct pcap_live *p)
{
	(void)p;
	return DEVICE;
}

int pcap_live_fd(const struct pcap_live *p)
{
	return p->fd;
}

void pcap_live_stats(struct pcap_live *p, struct pcap_live_stats *st)
{
	struct pcap_stat ps;

	/* Kept from the last successful read should this one fail. */
	if (!pcap_stats(p->pc, &ps)) {
		p->st.kernel_drops = ps.ps_drop;
		p->st.if_drops = ps.ps_ifdrop;
	}
	*st = p->st;
}

void pcap_live_close(struct pcap_live *p)
{
	if (!p)
		return;
	if (p->pc)
		pcap_close(p->pc);
	free(p);
}
