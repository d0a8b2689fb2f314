/* SPDX-License-Identifier: BSD-3-Clause */
/* The classifier: one connection's handshake, from the record events of
 * both directions and its TCP lifecycle, to an outcome, a reason and a
 * stage as ../shared/spec/record.md defines them. */
#ifndef TLSWATCH_SESSION_H
#define TLSWATCH_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "proxy.h"
#include "records.h"
#include "segment.h"
#include "tls.h"
#include "x509.h"

enum outcome {
	OUTCOME_NONE = 0,	/* not decided yet */
	OUTCOME_ESTABLISHED,
	OUTCOME_FAILED,
	OUTCOME_NO_DATA,
	OUTCOME_INCOMPLETE,
	OUTCOME_UNKNOWN,
	OUTCOME__COUNT,
};

enum reason {
	REASON_NONE = 0,
	REASON_SERVER_ALERT,
	REASON_CLIENT_ALERT,
	REASON_ENCRYPTED_ALERT,
	REASON_CLIENT_CLOSED,
	REASON_SERVER_CLOSED,
	REASON_TIMEOUT,
	REASON_NOT_TLS,
	REASON_SSLV2,
	REASON_MALFORMED,
	REASON__COUNT,
};

enum stage {
	STAGE_NONE = 0,
	STAGE_CLIENT_HELLO,
	STAGE_SERVER_HELLO,
	STAGE_SERVER_FLIGHT,
	STAGE_CLIENT_FLIGHT,
	STAGE_FINISHED,
};

enum capture {
	CAPTURE_COMPLETE = 0,
	CAPTURE_GAP,
	CAPTURE_TRUNCATED,
};

enum side_id { SIDE_CLIENT = 0, SIDE_SERVER = 1 };

/* CLOSE_GONE: the socket closed and how was not seen. */
enum close_how { CLOSE_NONE = 0, CLOSE_FIN, CLOSE_RST, CLOSE_GONE };

/* How long after a decision or a first close the report waits for the
 * rest of the connection's end (its close, the peer's close). */
#define SESSION_CLOSE_GRACE_US 200000ULL
#define SESSION_ALERT_GRACE_US 1000000ULL
/* TLS 1.3 rule 3: quiet this long after the client's flight means done. */
#define SESSION_TLS13_QUIET_US 1000000ULL

struct session;

struct session_side {
	struct session *s;
	enum side_id id;
	struct records rec;
	uint64_t bytes;		/* payload bytes delivered while undecided */
	uint64_t hs_bytes;	/* at the decision: bytes up to the end of the
				 * records seen, whatever the segmentation */
	bool gap, truncated;	/* bytes went missing while undecided */
	bool ccs;		/* sent ChangeCipherSpec */
	bool finished;		/* sent its Finished (TLS 1.2 and older) */
	enum close_how close;
	/* TLS 1.3: encrypted records after the (real) ServerHello. */
	uint32_t enc_records;
	uint16_t first_enc_len;
	/* Server only: records since the client's flight, and the first. */
	uint32_t after_flight;
	uint16_t after_flight_len;
};

struct session_alert {
	bool valid;
	enum side_id from;
	bool encrypted;
	uint8_t level, code;	/* unset when encrypted */
};

struct session {
	struct endpoint client, server;
	uint64_t first_ts;	/* first packet */
	uint64_t now;		/* time of the event being processed */
	uint64_t timeout_us;	/* --handshake-timeout */

	struct session_side side[2];

	enum tls_sniff client_kind;	/* what the client's first bytes were;
					 * SNIFF_NEED_MORE until known */
	enum tls_sniff server_kind;
	uint16_t client_record_version;	/* of the client's first record */
	struct tls_client_hello *ch;	/* the first ClientHello, or NULL */
	struct tls_server_hello sh;	/* the (last) ServerHello, when has_sh */
	bool has_sh;		/* a real ServerHello, not a HelloRetryRequest */
	bool hrr;		/* a HelloRetryRequest went by */
	bool tls13;		/* negotiated TLS 1.3 */
	bool client_flight_done;	/* TLS 1.3: the client sent its flight */

	struct session_alert warning;	/* first warning alert, undecided */
	bool closing;		/* a side has closed */
	enum side_id first_close;	/* which, first */

	enum stage stage;
	enum outcome outcome;
	enum reason reason;
	const char *detail;
	struct session_alert alert;
	enum capture capture;
	uint64_t decided_ts;
	/* Latency: the client's first payload byte, the last handshake
	 * record of the server before the outcome, the client's Finished
	 * (TLS 1.2) or flight (TLS 1.3, inferred). 0 when not seen. */
	uint64_t client_first_ts;
	uint64_t server_flight_ts;
	uint64_t client_finished_ts;
	/* TLS 1.2 and older, in plaintext: the server asked for a client
	 * certificate; the client's Certificate message held none. */
	bool cert_requested;
	bool client_cert_sent, client_cert_empty;
	/* The server's certificate (TLS 1.2 and older show it), for the
	 * diagnosis of a rejected certificate; NULL if not seen. */
	struct x509_info *cert;
	/* PROXY protocol (--proxy-protocol): the client's first bytes may
	 * be a header, parsed by pp until it is done. With a trusted TCP
	 * peer, client becomes the address the header names and peer the
	 * TCP peer (the load balancer). */
	struct proxy_parser *pp;
	bool proxy_trusted;
	uint8_t proxy_version;	/* of the header seen, or 0 */
	bool proxy_local;	/* LOCAL / UNKNOWN: the proxy's own */
	bool has_peer;
	struct endpoint peer;
	uint64_t owner;		/* cgroup id of the server's socket, or 0 */
	/* Deadlines, 0 when unset: report the decided outcome; decide on a
	 * close; TLS 1.3 quiet rule. */
	uint64_t report_at;
	uint64_t close_at;
	uint64_t quiet_at;
	bool reported;
	bool gone;		/* the server's socket is closed */
	bool final;		/* the kernel sends nothing more of it (see
				 * struct segment) */
	bool maybe_lost;	/* the ring buffer dropped events while this
				 * connection was open: its close may be
				 * among them */
};

void session_init(struct session *s, const struct endpoint *client,
		  const struct endpoint *server, uint64_t ts,
		  uint64_t timeout_us);
void session_free(struct session *s);

/* Stream bytes of one side, in order; ctx is &s->side[id]. */
extern const struct stream_sink session_sink;

/* The client's first bytes may be a PROXY protocol header; its
 * addresses are believed if trusted. false: out of memory. */
bool session_expect_proxy(struct session *s, bool trusted);
/* The TCP client: the peer when PROXY protocol replaced the client. */
const struct endpoint *session_tcp_client(const struct session *s);

/* A FIN or RST from one side. */
void session_close(struct session *s, enum side_id from, enum close_how how,
		   uint64_t ts);
/* Time passed: fire whatever is due at ts. */
void session_tick(struct session *s, uint64_t ts);
/* The earliest time at which session_tick has something to do, or 0. */
uint64_t session_deadline(const struct session *s);
/* True once the outcome is known and its report is due. */
bool session_ready(const struct session *s);
/* Capture is over: decide whatever is still open (incomplete, no_data or
 * the TLS 1.3 quiet rule if its time has come). */
void session_end(struct session *s, uint64_t ts);
/* State was lost (flow evicted): outcome unknown unless decided, and the
 * report is due now. */
void session_lost(struct session *s, uint64_t ts);
/* Capture events of this connection were dropped (ring buffer full). */
void session_dropped(struct session *s, uint64_t ts);
/* Events of some connections were dropped, perhaps of this one: if it is
 * still undecided at its handshake timeout or at the end, that proves
 * nothing (its bytes or close may be what was lost): unknown. */
void session_maybe_lost(struct session *s);
/* The capture stopped following one side (its record walk was lost). */
void session_truncated(struct session *s, enum side_id id, uint64_t ts);
/* The server's socket is closed: nothing more will come. */
void session_gone(struct session *s, uint64_t ts);

/* Did the client open with a TLS or SSLv2 ClientHello? */
bool session_client_hello_seen(const struct session *s);

const char *outcome_name(enum outcome o);
const char *reason_name(enum reason r);
const char *stage_name(enum stage st);
const char *capture_name(enum capture c);
/* "fatal" / "warning" / NULL */
const char *alert_level_name(uint8_t level);

#endif
