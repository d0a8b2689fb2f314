/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the BPF programs and userspace: limits, the flow key, the
 * flow state, and the ring buffer events. Only __uN fields. */
#ifndef TLSWATCH_BPF_H
#define TLSWATCH_BPF_H

/* BPF programs get these types from vmlinux.h, userspace from here. */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bytes of each direction captured in full; after them, only record
 * headers (and the 2 bytes of a plaintext alert) until decided. 4 KiB,
 * not 2: ClientHellos with post-quantum key shares, tickets and ECH pass
 * 2 KiB. A direction's first application_data record after its first
 * record ends the bytes in full earlier: what follows is encrypted. */
#define TW_BUDGET 4096
/* Record headers one segment event can carry. */
#define TW_MAX_PIECES 16
/* Record headers one segment is walked over (those inside the bytes sent
 * in full need no piece); more, and the walk gives up on the direction. */
#define TW_MAX_WALK 64
/* A TLS record header, and one carrying a plaintext alert body. */
#define TW_HDR 5
#define TW_ALERT_HDR 7
/* Data bytes one segment event can carry: a budget's worth and the
 * headers after it. */
#define TW_MAX_DATA (TW_BUDGET + TW_MAX_PIECES * TW_ALERT_HDR)

/* PROXY protocol, which a load balancer puts before the client's bytes on
 * ports so configured: v1 is one text line, "PROXY ...\r\n", of at most
 * 107 bytes; v2 is 16 fixed bytes and as many more as their last two
 * count (up to 65535: skipped, not read). */
#define TW_PROXY_V1_MAX 107
#define TW_PROXY_V2_FIXED 16
/* Bytes of a header one segment is scanned over: a whole v1 line and the
 * byte after it, which no header may reach. */
#define TW_PROXY_SCAN (TW_PROXY_V1_MAX + 1)

/* Where the client direction's PROXY header stands (tw_flow.proxy). */
enum tw_proxy {
	TW_PROXY_UNSEEN,	/* first bytes still to come */
	TW_PROXY_V1,		/* inside a v1 line */
	TW_PROXY_V2,		/* inside the fixed part of v2 */
	TW_PROXY_NONE,		/* none: not a PROXY port, or no header */
	TW_PROXY_DONE,		/* skipped: next_hdr is past it */
};

enum tw_event_type {
	TW_EV_SEGMENT = 1,
	TW_EV_STATE = 2,
};

/* Segment event flags. */
#define TW_SEG_FROM_CLIENT 0x01
#define TW_SEG_LOST 0x02	/* events of this flow were dropped before
				 * this one (ring buffer full) */
#define TW_SEG_NOSYNC 0x04	/* the record walk of this direction lost its
				 * place: no more of it will come */
#define TW_SEG_FRESH 0x08	/* reached the listener: the connection is
				 * being born (its established event follows) */
#define TW_SEG_DECIDED 0x10	/* with this segment the handshake is over
				 * by its record headers (see tw_flow.hs):
				 * nothing more of the connection is sent,
				 * its close included, and userspace need not
				 * mark it done */

/* What the record walk has seen of each direction's handshake
 * (tw_flow.hs), enough to tell when it is over without userspace: in
 * TLS 1.2 when both sides have sent a handshake record (Finished) after
 * their ChangeCipherSpec; in TLS 1.3 when the server sends an encrypted
 * record that is no alert after the client's flight. The rules are
 * userspace's (user/session.c), and only ever later than they. */
#define TW_HS_CCS 0x01		/* a ChangeCipherSpec record */
#define TW_HS_FIN 0x02		/* a handshake record after it */
#define TW_HS_ENC 0x04		/* an application_data record */
#define TW_HS_FLIGHT 0x08	/* client: one that is no alert, after the
				 * server's; server: the same, after the
				 * client's flight */
#define TW_HS_NEVER 0x80	/* (in hs[1]) not decided here: events were
				 * lost, a hole, a HelloRetryRequest, or a
				 * connection not followed from its start */

/* Addresses and ports as on the wire (network byte order). */
struct tw_key {
	__u8 family;		/* AF_INET or AF_INET6 */
	__u8 pad[3];
	__u16 cport, sport;	/* client and server ports */
	__u8 caddr[16], saddr[16];	/* IPv4 in the first 4 bytes */
};

/* Per connection, kernel side. In the server socket's storage from when
 * the connection is established, freed with the socket; in a hash by
 * 4-tuple when its first segment with payload (never a SYN) came before
 * that (to the listener, moved to the socket when it is established), or
 * when the connection was open before tlswatch started. */
struct tw_flow {
	__u32 captured[2];	/* bytes sent in full, [0] client, [1] server */
	__u32 next_hdr[2];	/* sequence number of the next record header */
	__u8 walking[2];	/* next_hdr is valid */
	__u8 nosync[2];		/* stopped following this direction */
	__u8 partial_len[2];	/* header bytes seen of a split header */
	__u8 partial[2][TW_HDR];
	__u8 alert_left[2];	/* bytes of a plaintext alert's body still
				 * to come at the start of the next segment */
	__u32 first_seq[2];	/* where the walk of each direction began */
	__u8 ahead[2];		/* segments sent whole past a hole */
	__u8 seeded;		/* next_hdr came from the socket when it
				 * was established: the true starts */
	__u8 fresh;		/* created by a segment that reached the
				 * listener: a connection being born */
	__u8 decided;		/* stop: TW_DECIDED_MARK, userspace has its
				 * outcome (copied from the done map), or
				 * TW_DECIDED_HERE, by its record headers */
	__u8 lost;		/* an event was dropped: say so in the next */
	/* Only the client sends a PROXY header, so one of these, not [2]. */
	__u8 proxy;		/* enum tw_proxy */
	__u8 proxy_pos;		/* its bytes seen so far */
	__u16 proxy_len;	/* v2: its length field, as its bytes pass */
	__u8 hs[2];		/* TW_HS_*, [0] client, [1] server */
	__u8 pad2[2];
	__u32 marks_seen;	/* marks_gen when the done map last had no
				 * mark for this connection */
};

enum tw_decided {
	TW_DECIDED_NOT,
	TW_DECIDED_MARK,
	TW_DECIDED_HERE,
};

/* Segments sent whole past a hole before the walk gives up. */
#define TW_MAX_AHEAD 8

struct tw_piece {
	__u32 off;		/* from the start of the segment's payload */
	__u32 len;		/* bytes, in data[] one after another */
};

struct tw_segment_event {
	__u32 type;		/* TW_EV_SEGMENT */
	__u32 flags;		/* TW_SEG_* */
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	struct tw_key key;
	__u32 seq, ack;		/* host byte order */
	__u32 len;		/* TCP payload length on the wire */
	__u8 tcp_flags;
	__u8 npieces;
	__u16 dlen;		/* bytes of data before the pieces */
	/* The pieces' bytes one after another (dlen of them), then the
	 * npieces struct tw_piece that say where they were (unaligned):
	 * only what is used is sent. */
	__u8 data[TW_MAX_DATA + TW_MAX_PIECES * sizeof(struct tw_piece)];
};

struct tw_state_event {
	__u32 type;		/* TW_EV_STATE */
	__u32 flags;		/* TW_SEG_LOST */
	__u64 ts_ns;
	struct tw_key key;
	__s32 oldstate, newstate;	/* TCP_ESTABLISHED ... */
	/* With TCP_ESTABLISHED: the sequence numbers each side's first
	 * payload byte will carry (host byte order). */
	__u32 client_next, server_next;
	/* With TCP_ESTABLISHED: the cgroup v2 id of the server's socket,
	 * which says what service owns it (0 if unknown). */
	__u64 cgroup_id;
};

/* Per-CPU counters, one array slot each. */
enum tw_stat {
	TW_STAT_SEGMENTS,	/* segment events sent */
	TW_STAT_RINGBUF_FULL,	/* events dropped, ring buffer full: kept in
				 * .bss (ringbuf_drops), not in this array */
	TW_STAT_FLOW_FULL,	/* flow state could not be created */
	TW_STAT_NOSYNC,		/* directions whose record walk was lost */
	TW_STAT_AHEAD,		/* segments past a hole, sent without walk */
	TW_STAT__COUNT,
};

#endif
