/* SPDX-License-Identifier: BSD-3-Clause */
/* The connection table: segments in, one session per TCP connection,
 * reports out when each outcome is due. Memory is bounded by max_flows;
 * what is pushed out is counted and, if undecided, reported as unknown. */
#ifndef TLSWATCH_FLOWS_H
#define TLSWATCH_FLOWS_H

#include <stdbool.h>
#include <stdint.h>

#include "segment.h"
#include "session.h"
#include "stream.h"

struct flows_config {
	/* Watched server ports; without any, every connection is followed
	 * and only those opening with a ClientHello are reported. */
	const uint8_t *ports;	/* 65536-bit map, or NULL for "any" */
	uint64_t timeout_us;	/* --handshake-timeout */
	uint32_t max_flows;
	/* Clients to leave out (--exclude), or NULL. */
	bool (*ignore)(void *ctx, const struct endpoint *client);
	/* Called for every decided connection, in the order outcomes fall
	 * due; the session is valid during the call only. */
	void (*report)(void *ctx, const struct session *s);
	/* PROXY protocol: 0 when the connection cannot carry a header, 1
	 * when it may and its peer is trusted, 2 when it may but its peer is
	 * not (the header is skipped, its addresses not believed). NULL:
	 * never. */
	int (*proxy)(void *ctx, const struct endpoint *client,
		     const struct endpoint *server);
	void *ctx;
	/* Keep each connection's segments (up to FLOWS_KEEP_BYTES of
	 * payload) for flows_packets() during its report (-w). */
	bool keep_packets;
};

#define FLOWS_KEEP_BYTES 65536
#define FLOWS_KEEP_PACKETS 256
/* ...and all connections together at most this much. */
#define FLOWS_KEEP_TOTAL (64u << 20)

struct flows_stats {
	uint64_t segments;
	uint64_t flows;		/* connections followed */
	uint64_t evicted;	/* undecided connections pushed out by the
				 * table limit: reported as unknown */
	uint64_t midstream;	/* payload segments of connections seen
				 * without their start that did not open with
				 * a ClientHello: ignored */
	uint64_t not_hello;	/* without --port: connections whose client
				 * did not open with a ClientHello */
	uint64_t orphans_dropped;	/* segments of a connection being born
					 * whose start was never told */
	uint64_t final_undecided;	/* connections whose last segment the
					 * kernel sent (struct segment, final)
					 * before they could be decided here */
	struct stream_stats stream;	/* summed over finished streams */
};

struct flows;

struct flows *flows_new(const struct flows_config *cfg);
/* Has the segment_fn shape; always returns 0. */
int flows_segment(void *f, const struct segment *seg);
/* The clock moved to now (capture time): fire what is due. */
void flows_advance(struct flows *f, uint64_t now);
/* The capture is over: report every connection still open. */
void flows_finish(struct flows *f);
/* Live capture: the server accepted the connection; each side's first
 * payload byte will carry these sequence numbers; owner is the cgroup id
 * of the server's socket (0: unknown). */
void flows_open(struct flows *f, const struct endpoint *client,
		const struct endpoint *server, uint32_t client_next,
		uint32_t server_next, uint64_t owner, uint64_t ts);

/* What else live capture learns besides segments. */
enum flow_event {
	FLOW_GONE,		/* the server's socket closed */
	FLOW_DROPPED,		/* capture events of it were dropped */
	FLOW_CLIENT_TRUNCATED,	/* the capture stopped following a side */
	FLOW_SERVER_TRUNCATED,
};
void flows_event(struct flows *f, const struct endpoint *client,
		 const struct endpoint *server, enum flow_event ev,
		 uint64_t ts);

/* A kept segment of the connection being reported. */
struct flow_packet {
	uint64_t ts_us;
	bool from_client;
	uint8_t flags;		/* TCPF_* */
	uint32_t seq, ack;
	uint32_t caplen, len;
	const uint8_t *data;
};
typedef void (*flow_packet_fn)(void *ctx, const struct flow_packet *p);

/* From the report callback only: the kept segments of the connection
 * being reported, in arrival order. Returns false when some were not
 * kept (limits). When live capture told the connection's start,
 * *opened is set with the sequence numbers of each side's SYN. */
struct flow_start {
	bool known;
	uint64_t ts_us;
	uint32_t client_isn, server_isn;
};
bool flows_packets(struct flows *f, flow_packet_fn fn, void *ctx,
		   struct flow_start *opened);

const struct flows_stats *flows_stats(struct flows *f);
uint32_t flows_active(const struct flows *f);
/* Connections followed whose outcome is not reported yet. */
uint32_t flows_undecided(const struct flows *f);
/* Capture events were dropped (on) or not (off) since the last call, of
 * connections unknown: while on, every undecided connection, and every
 * one the events in hand create, may have lost its bytes or its close
 * (session_maybe_lost). */
void flows_maybe_lost(struct flows *f, bool on);
void flows_free(struct flows *f);

#endif
