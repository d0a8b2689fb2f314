/* SPDX-License-Identifier: BSD-3-Clause */
/* Live capture without BPF programs: libpcap on every interface, with a
 * kernel socket filter for the watched ports, for hosts where the BPF
 * programs cannot load (no CAP_BPF, lockdown, an old kernel). Needs
 * CAP_NET_RAW. Segments go to the same sink as every other source. */
#ifndef TLSWATCH_PCAP_LIVE_H
#define TLSWATCH_PCAP_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "segment.h"

struct pcap_live_stats {
	uint64_t packets;	/* packets read */
	uint64_t tcp;		/* TCP segments handed on */
	uint64_t malformed;	/* headers that did not parse */
	uint64_t truncated;	/* segments cut by the snaplen */
	uint64_t lo_copies;	/* outgoing copies of loopback packets, left
				 * out: each is seen again as it comes in */
	uint64_t kernel_drops;	/* pcap_stats ps_drop: capture buffer full */
	uint64_t if_drops;	/* pcap_stats ps_ifdrop: the interface's */
};

struct pcap_live;

/* Capture on "any", filtered in the kernel to TCP segments from or to
 * the ports set in the 65536-bit map ports (kept by reference). NULL
 * with a one-line reason in err on failure. */
struct pcap_live *pcap_live_open(const uint8_t *ports, char *err,
				 size_t errlen);
/* "any". */
const char *pcap_live_device(const struct pcap_live *p);
/* Readable when packets wait; the capture is non-blocking. */
int pcap_live_fd(const struct pcap_live *p);
/* Hand every packet waiting to fn: how many packets were read, or -1
 * with pcap_live_error() saying why. A non-zero return from fn stops
 * early (the rest is read by the next call). */
int pcap_live_dispatch(struct pcap_live *p, segment_fn fn, void *ctx);
/* Wait up to timeout_ms for packets, then dispatch: packets read, or
 * -errno (-EINTR when a signal came, -EIO with pcap_live_error()). */
int pcap_live_poll(struct pcap_live *p, int timeout_ms, segment_fn fn,
		   void *ctx);
const char *pcap_live_error(struct pcap_live *p);
/* Counters so far, kernel drops included. */
void pcap_live_stats(struct pcap_live *p, struct pcap_live_stats *st);
void pcap_live_close(struct pcap_live *p);

#endif
