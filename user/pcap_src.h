/* SPDX-License-Identifier: BSD-3-Clause */
/* Offline capture source: pcap and pcapng files (or stdin) to segments,
 * and the packet decoder live libpcap capture shares. */
#ifndef TLSWATCH_PCAP_SRC_H
#define TLSWATCH_PCAP_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segment.h"

struct pcap_src_stats {
	uint64_t packets;	/* records read from the file */
	uint64_t tcp;		/* TCP segments handed on */
	uint64_t skipped;	/* not TCP, or IP fragments after the first */
	uint64_t malformed;	/* headers that did not parse */
	uint64_t truncated;	/* segments whose payload was cut by snaplen */
};

/* Read path ("-" for stdin) to the end, calling fn for every TCP segment.
 * Returns 0 at the end of the file, the non-zero value fn returned if it
 * stopped early, or -1 with a one-line reason in err (no trailing newline)
 * when the file cannot be opened, its link type is unsupported, or reading
 * fails part way (a file cut mid-record): segments already handed on stay
 * handed on, so the caller can still report them. Counts are added to *st
 * (st may be NULL); messages call "-" "stdin". */
int pcap_src_run(const char *path, segment_fn fn, void *ctx,
		 struct pcap_src_stats *st, char *err, size_t errlen);

enum pkt_verdict {
	PKT_TCP,	/* seg holds a TCP segment */
	PKT_SKIP,	/* not TCP, or an IP fragment after the first */
	PKT_MALFORMED,	/* headers that did not parse */
};

/* Is link type dlt (DLT_*) one pcap_src_decode() reads? */
bool pcap_src_supported(int dlt);
/* One packet's link, IP and TCP headers: caplen bytes at data were
 * captured of len on the wire. The caller zeroes seg and sets ts_us and
 * dir; seg->data points into data. */
enum pkt_verdict pcap_src_decode(int dlt, const uint8_t *data,
				 uint32_t caplen, uint32_t len,
				 struct segment *seg);

#endif
