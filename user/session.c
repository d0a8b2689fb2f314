// SPDX-License-Identifier: BSD-3-Clause
/* The classifier. Each callback moves one connection's state forward;
 * decide() fixes the outcome once and for all. The rules are those of
 * ../shared/spec/record.md, "When a handshake is established". */
#include <stdlib.h>
#include <string.h>

#include "certcache.h"
#include "session.h"
#include "spare.h"

static const struct records_ops session_records_ops;

/* Hellos of freed sessions, kept for the next (the parsers zero them).
 * Sessions live in one thread, the capture's. */
static struct spare hellos;

void session_init(struct session *s, const struct endpoint *client,
		  const struct endpoint *server, uint64_t ts,
		  uint64_t timeout_us)
{
	memset(s, 0, sizeof(*s));
	s->client = *client;
	s->server = *server;
	s->first_ts = s->now = ts;
	s->timeout_us = timeout_us;
	for (int i = 0; i < 2; i++) {
		s->side[i].s = s;
		s->side[i].id = i;
		records_init(&s->side[i].rec, &session_records_ops, &s->side[i]);
	}
}

void session_free(struct session *s)
{
	records_free(&s->side[SIDE_CLIENT].rec);
	records_free(&s->side[SIDE_SERVER].rec);
	spare_give(&hellos, s->ch);
	s->ch = NULL;
	free(s->cert);
	s->cert = NULL;
	free(s->pp);
	s->pp = NULL;
}

/* An AEAD-protected alert: 2 alert bytes, 1 inner type byte and a 16-byte
 * tag (8 for CCM_8). */
static bool alert_sized(uint16_t len)
{
	return len == 19 || len == 11;
}

static bool closed(const struct session *s, enum side_id id)
{
	return s->side[id].close != CLOSE_NONE;
}

static void advance(struct session *s, enum stage st)
{
	if (s->stage < st)
		s->stage = st;
}

static void missing(struct session_side *side, enum stream_gap why)
{
	if (why == STREAM_GAP_MISSING)
		side->gap = true;
	else
		side->truncated = true;
}

/* Fix the outcome. The report waits for the connection's close (or a
 * grace period) so that it can say how the connection ended. */
static void decide(struct session *s, enum outcome o, enum reason r)
{
	struct session_side *c = &s->side[SIDE_CLIENT];
	struct session_side *sv = &s->side[SIDE_SERVER];

	if (s->outcome != OUTCOME_NONE)
		return;
	s->outcome = o;
	s->reason = r;
	s->decided_ts = s->now;
	/* A record that decides counts whole: the same bytes whether its
	 * body came in the same segment (a capture file) or as a gap after
	 * its header (live capture past the budget). */
	for (int i = 0; i < 2; i++) {
		const struct records *rec = &s->side[i].rec;

		s->side[i].hs_bytes = rec->pos +
			(rec->state == REC_TLS && rec->in_body ? rec->body_left : 0) +
			(rec->state == REC_SNIFF ? rec->hdr_len : 0);
	}
	if (c->gap || sv->gap)
		s->capture = CAPTURE_GAP;
	else if (c->truncated || sv->truncated)
		s->capture = CAPTURE_TRUNCATED;
	if (o == OUTCOME_ESTABLISHED)
		s->stage = STAGE_FINISHED;
	if (o == OUTCOME_ESTABLISHED || closed(s, SIDE_CLIENT) ||
	    closed(s, SIDE_SERVER))
		s->report_at = s->now;
	else
		s->report_at = s->now + SESSION_ALERT_GRACE_US;
	s->close_at = s->quiet_at = 0;
}

/* A hello came without its body: too long to be real (malformed), or
 * not captured, in which case nothing can be said of the handshake. */
static bool hello_unreadable(struct session *s, struct session_side *side,
			     uint32_t len)
{
	if (side->rec.mem_refused) {
		missing(side, STREAM_GAP_TRUNCATED);
	} else if (side->rec.damaged && len <= RECORDS_MAX_HS) {
		missing(side, side->rec.damaged);
	} else {
		return false;
	}
	decide(s, OUTCOME_UNKNOWN, REASON_NONE);
	return true;
}

static void fail(struct session *s, enum reason r, const char *detail)
{
	if (s->outcome != OUTCOME_NONE)
		return;
	s->detail = detail;
	decide(s, OUTCOME_FAILED, r);
}

static void set_alert(struct session *s, enum side_id from, bool encrypted,
		      uint8_t level, uint8_t code)
{
	s->alert.valid = true;
	s->alert.from = from;
	s->alert.encrypted = encrypted;
	s->alert.level = level;
	s->alert.code = code;
}

static void fail_alert(struct session *s, enum side_id from, bool encrypted,
		       uint8_t level, uint8_t code)
{
	if (s->outcome != OUTCOME_NONE)
		return;
	set_alert(s, from, encrypted, level, code);
	/* An SSLv2 hello refused with a TLS alert is still an SSLv2 failure:
	 * the alert says how, the reason what. */
	if (s->client_kind == SNIFF_SSLV2 && !s->has_sh) {
		fail(s, REASON_SSLV2, NULL);
		return;
	}
	fail(s, encrypted ? REASON_ENCRYPTED_ALERT :
	     from == SIDE_CLIENT ? REASON_CLIENT_ALERT : REASON_SERVER_ALERT,
	     NULL);
}

/* TLS 1.3 rule 1: the client's only encrypted record is alert-sized. */
static bool tls13_client_rejected(const struct session *s)
{
	const struct session_side *c = &s->side[SIDE_CLIENT];

	return s->tls13 && s->has_sh && c->enc_records == 1 &&
	       alert_sized(c->first_enc_len);
}

/* TLS 1.3 rule 2: after the client's flight the server sent one record,
 * alert-sized, and closed. */
static bool tls13_server_rejected(const struct session *s)
{
	const struct session_side *sv = &s->side[SIDE_SERVER];

	return s->tls13 && s->client_flight_done && sv->after_flight == 1 &&
	       alert_sized(sv->after_flight_len) && closed(s, SIDE_SERVER);
}

/* The client's bytes are too few to tell what they are. (Three bytes
 * that start a record header are TLS already.) */
static bool client_unsniffed(const struct session *s)
{
	return s->client_kind == SNIFF_NEED_MORE &&
	       s->side[SIDE_CLIENT].rec.state == REC_SNIFF;
}

/* The connection is closing before the handshake finished: who or what
 * ended it. */
static void decide_on_close(struct session *s)
{
	const struct session_side *c = &s->side[SIDE_CLIENT];
	enum side_id first;

	if (s->outcome != OUTCOME_NONE)
		return;
	if (c->bytes == 0) {
		decide(s, OUTCOME_NO_DATA, REASON_NONE);
		return;
	}
	if (client_unsniffed(s)) {
		/* Too few bytes to tell what they were, and none of TLS. */
		fail(s, REASON_NOT_TLS, tls_sniff_name(SNIFF_UNKNOWN));
		return;
	}
	if (s->client_kind == SNIFF_SSLV2 && !s->has_sh) {
		fail(s, REASON_SSLV2, NULL);
		return;
	}
	if (s->warning.valid) {
		s->alert = s->warning;
		fail(s, s->warning.from == SIDE_CLIENT ? REASON_CLIENT_ALERT :
			REASON_SERVER_ALERT, NULL);
		return;
	}
	if (tls13_client_rejected(s)) {
		fail_alert(s, SIDE_CLIENT, true, 0, 0);
		return;
	}
	if (tls13_server_rejected(s)) {
		fail_alert(s, SIDE_SERVER, true, 0, 0);
		return;
	}
	first = s->first_close;
	fail(s, first == SIDE_CLIENT ? REASON_CLIENT_CLOSED :
	     REASON_SERVER_CLOSED, NULL);
}

static void decide_on_timeout(struct session *s)
{
	if (s->maybe_lost) {
		s->side[SIDE_CLIENT].gap = true;
		decide(s, OUTCOME_UNKNOWN, REASON_NONE);
	} else if (s->side[SIDE_CLIENT].bytes == 0)
		decide(s, OUTCOME_NO_DATA, REASON_NONE);
	else if (client_unsniffed(s))
		fail(s, REASON_NOT_TLS, tls_sniff_name(SNIFF_UNKNOWN));
	else if (tls13_client_rejected(s))
		fail_alert(s, SIDE_CLIENT, true, 0, 0);
	else
		fail(s, REASON_TIMEOUT, NULL);
}

/* ---- record layer callbacks; ctx is the side ---- */

static void on_not_tls(void *ctx, enum tls_sniff what)
{
	struct session_side *side = ctx;
	struct session *s = side->s;

	if (side->id == SIDE_CLIENT) {
		s->client_kind = what;
		fail(s, REASON_NOT_TLS, tls_sniff_name(what));
		return;
	}
	s->server_kind = what;
	/* A server that speaks first (an SMTP banner) to a client that has
	 * said nothing: no handshake was tried; the close or the timeout
	 * will say no_data. */
	if (s->side[SIDE_CLIENT].bytes == 0)
		return;
	/* A TLS client answered by something else: HTTP, SMTP, ... */
	switch (what) {
	case SNIFF_HTTP:
		fail(s, REASON_MALFORMED, "server_http");
		break;
	case SNIFF_SSH:
		fail(s, REASON_MALFORMED, "server_ssh");
		break;
	default:
		fail(s, REASON_MALFORMED, "server_not_tls");
		break;
	}
}

static void tls13_record(struct session *s, struct session_side *side,
			 const struct tls_record_header *h)
{
	struct session_side *sv = &s->side[SIDE_SERVER];

	if (h->type != TLS_CT_APPLICATION_DATA)
		return;
	if (side->enc_records++ == 0)
		side->first_enc_len = h->length;
	if (side->id == SIDE_CLIENT) {
		if (!s->client_flight_done && !alert_sized(h->length)) {
			s->client_flight_done = true;
			s->client_finished_ts = s->now;
			s->quiet_at = s->now + SESSION_TLS13_QUIET_US;
			advance(s, STAGE_CLIENT_FLIGHT);
		}
		return;
	}
	advance(s, STAGE_SERVER_FLIGHT);
	if (!s->client_flight_done)
		return;
	if (sv->after_flight++ == 0) {
		sv->after_flight_len = h->length;
		if (!alert_sized(h->length))
			decide(s, OUTCOME_ESTABLISHED, REASON_NONE);
	} else {
		/* More than a lone alert: the server carried on. */
		decide(s, OUTCOME_ESTABLISHED, REASON_NONE);
	}
}

static void tls12_record(struct session *s, struct session_side *side,
			 const struct tls_record_header *h)
{
	/* A handshake record after ServerHello starts that side's flight,
	 * even where its messages were not captured (live capture sends
	 * only record headers past its budget). */
	if (h->type == TLS_CT_HANDSHAKE && !side->ccs)
		advance(s, side->id == SIDE_SERVER ? STAGE_SERVER_FLIGHT :
			STAGE_CLIENT_FLIGHT);
	if (!side->ccs)
		return;
	if (h->type == TLS_CT_HANDSHAKE && !side->finished) {
		side->finished = true;
		if (side->id == SIDE_CLIENT)
			s->client_finished_ts = s->now;
		if (s->side[SIDE_CLIENT].finished &&
		    s->side[SIDE_SERVER].finished)
			decide(s, OUTCOME_ESTABLISHED, REASON_NONE);
	} else if (h->type == TLS_CT_ALERT && h->length != 2) {
		/* The content type shows an alert even though its body is
		 * encrypted: level and description stay unknown. */
		fail_alert(s, side->id, true, 0, 0);
	}
}

static void on_record(void *ctx, const struct tls_record_header *h)
{
	struct session_side *side = ctx;
	struct session *s = side->s;

	if (side->id == SIDE_CLIENT && s->client_kind == SNIFF_NEED_MORE) {
		s->client_kind = SNIFF_TLS;
		s->client_record_version = h->version;
	}
	if (side->id == SIDE_SERVER && s->server_kind == SNIFF_NEED_MORE)
		s->server_kind = SNIFF_TLS;
	if (s->outcome != OUTCOME_NONE)
		return;
	/* The server's handshake flights: plaintext handshake and CCS
	 * records, and in TLS 1.3 its encrypted records before the
	 * client's flight. */
	if (side->id == SIDE_SERVER && s->ch &&
	    (h->type == TLS_CT_HANDSHAKE || h->type == TLS_CT_CHANGE_CIPHER_SPEC ||
	     (h->type == TLS_CT_APPLICATION_DATA && s->tls13 &&
	      !s->client_flight_done)))
		s->server_flight_ts = s->now;
	if (h->type == TLS_CT_CHANGE_CIPHER_SPEC) {
		side->ccs = true;
		/* TLS 1.3 sends it only for middleboxes: it is no step of
		 * the handshake, and handshake records stay readable after
		 * it (a second ClientHello may follow). */
		if (s->tls13 || !s->has_sh)
			return;
		side->rec.encrypted = true;
		advance(s, side->id == SIDE_CLIENT ? STAGE_CLIENT_FLIGHT :
			STAGE_SERVER_FLIGHT);
		return;
	}
	if (s->has_sh && s->tls13)
		tls13_record(s, side, h);
	else if (s->has_sh)
		tls12_record(s, side, h);
}

static void client_hello(struct session *s, const uint8_t *body, uint32_t len)
{
	int rc;

	s->ch = spare_take(&hellos, sizeof(struct tls_client_hello));
	if (!s->ch) {
		decide(s, OUTCOME_UNKNOWN, REASON_NONE);
		return;
	}
	if (!body && hello_unreadable(s, &s->side[SIDE_CLIENT], len)) {
		spare_give(&hellos, s->ch);
		s->ch = NULL;
		return;
	}
	rc = body ? tls_parse_client_hello(body, len, s->ch) : TLS_MALFORMED;
	if (rc != TLS_OK) {
		spare_give(&hellos, s->ch);
		s->ch = NULL;
		fail(s, REASON_MALFORMED, "client_hello");
		return;
	}
	s->ch->record_version = s->client_record_version;
	advance(s, STAGE_CLIENT_HELLO);
}

static void server_hello(struct session *s, const uint8_t *body, uint32_t len)
{
	struct tls_server_hello sh;

	if (!body && hello_unreadable(s, &s->side[SIDE_SERVER], len))
		return;
	if (!body || tls_parse_server_hello(body, len, &sh) != TLS_OK) {
		fail(s, REASON_MALFORMED, "server_hello");
		return;
	}
	advance(s, STAGE_SERVER_HELLO);
	s->sh = sh;
	/* Draft versions (0x7fxx) follow the TLS 1.3 rules too. */
	s->tls13 = sh.version == TLS_V_TLS13 || (sh.version >> 8) == 0x7f;
	if (sh.hrr)
		s->hrr = true;
	else
		s->has_sh = true;
}

static void on_handshake(void *ctx, uint8_t type, const uint8_t *body,
			 uint32_t len)
{
	struct session_side *side = ctx;
	struct session *s = side->s;

	if (s->outcome != OUTCOME_NONE)
		return;
	if (side->id == SIDE_CLIENT) {
		if (!s->ch && s->client_kind != SNIFF_SSLV2) {
			if (type == TLS_HS_CLIENT_HELLO)
				client_hello(s, body, len);
			else if (side->rec.damaged)
				hello_unreadable(s, side, 0);
			else
				fail(s, REASON_MALFORMED, "client_hello");
		} else if (s->has_sh && type != TLS_HS_CLIENT_HELLO) {
			advance(s, STAGE_CLIENT_FLIGHT);
			if (type == TLS_HS_CERTIFICATE && !s->tls13) {
				s->client_cert_sent = true;
				/* An empty certificate_list: 3 zero bytes. */
				s->client_cert_empty = body && len == 3 &&
					!body[0] && !body[1] && !body[2];
			}
		}
		return;
	}
	if (!s->ch && s->client_kind != SNIFF_SSLV2)
		return;		/* a server speaking first: wait for the close */
	if (type == TLS_HS_SERVER_HELLO) {
		server_hello(s, body, len);
		return;
	}
	if (!s->has_sh)
		return;
	advance(s, STAGE_SERVER_FLIGHT);
	if (s->tls13)
		return;
	if (type == TLS_HS_CERTIFICATE_REQUEST)
		s->cert_requested = true;
	if (type == TLS_HS_CERTIFICATE && body && !s->cert) {
		s->cert = malloc(sizeof(*s->cert));
		/* A partial parse still names what it could. */
		if (s->cert) {
			certcache_parse(body, len, false, s->cert);
			if (!(s->cert->have & X509_HAVE_SUBJECT)) {
				free(s->cert);
				s->cert = NULL;
			}
		}
	}
}

static void on_alert(void *ctx, uint8_t level, uint8_t code)
{
	struct session_side *side = ctx;
	struct session *s = side->s;

	if (s->outcome != OUTCOME_NONE)
		return;
	/* A server's alert to a client that sent nothing (a TCP health
	 * check that connected and left): no handshake was tried. */
	if (side->id == SIDE_SERVER && s->side[SIDE_CLIENT].bytes == 0)
		return;
	if (level == 1) {
		/* A warning the handshake may survive (unrecognized_name);
		 * it decides only if a close follows. */
		if (!s->warning.valid) {
			s->warning.valid = true;
			s->warning.from = side->id;
			s->warning.level = level;
			s->warning.code = code;
		}
		return;
	}
	fail_alert(s, side->id, false, level, code);
}

static void on_sslv2(void *ctx, const uint8_t *rec, uint32_t len)
{
	struct session_side *side = ctx;
	struct session *s = side->s;
	int type = tls_sslv2_msg_type(rec, len);

	if (s->outcome != OUTCOME_NONE)
		return;
	if (side->id == SIDE_CLIENT) {
		if (s->client_kind != SNIFF_NEED_MORE)
			return;	/* later SSLv2 messages: not followed */
		s->client_kind = SNIFF_SSLV2;
		s->ch = spare_take(&hellos, sizeof(struct tls_client_hello));
		if (!s->ch) {
			decide(s, OUTCOME_UNKNOWN, REASON_NONE);
			return;
		}
		if (type != 1 ||
		    tls_parse_sslv2_client_hello(rec, len, s->ch) != TLS_OK) {
			spare_give(&hellos, s->ch);
			s->ch = NULL;
			fail(s, REASON_MALFORMED, "client_hello");
			return;
		}
		advance(s, STAGE_CLIENT_HELLO);
		return;
	}
	if (s->server_kind == SNIFF_NEED_MORE)
		s->server_kind = SNIFF_SSLV2;
	/* The server answered in SSLv2 (SERVER-HELLO or ERROR): whatever
	 * follows, this is not a TLS handshake. */
	if (s->client_kind == SNIFF_SSLV2) {
		if (type == 4)
			advance(s, STAGE_SERVER_HELLO);
		fail(s, REASON_SSLV2, NULL);
	} else {
		fail(s, REASON_MALFORMED, "server_sslv2");
	}
}

static void on_lost(void *ctx, const char *why)
{
	struct session_side *side = ctx;
	struct session *s = side->s;

	if (s->outcome != OUTCOME_NONE)
		return;
	if (strcmp(why, "framing") == 0) {
		fail(s, REASON_MALFORMED, side->id == SIDE_CLIENT ?
		     "client_framing" : "server_framing");
		return;
	}
	missing(side, strcmp(why, "gap") == 0 ? STREAM_GAP_MISSING :
		STREAM_GAP_TRUNCATED);
	decide(s, OUTCOME_UNKNOWN, REASON_NONE);
}

static const struct records_ops session_records_ops = {
	.not_tls = on_not_tls,
	.record = on_record,
	.handshake = on_handshake,
	.alert = on_alert,
	.sslv2 = on_sslv2,
	.lost = on_lost,
};

/* ---- stream sink: count, then hand to the record layer ---- */

bool session_expect_proxy(struct session *s, bool trusted)
{
	s->pp = malloc(sizeof(*s->pp));
	if (!s->pp)
		return false;
	proxy_init(s->pp);
	s->proxy_trusted = trusted;
	return true;
}

const struct endpoint *session_tcp_client(const struct session *s)
{
	return s->has_peer ? &s->peer : &s->client;
}

static void proxy_over(struct session *s)
{
	free(s->pp);
	s->pp = NULL;
}

/* The client's first bytes on a PROXY protocol port: the header, if
 * there is one. Returns how many bytes it took; the rest are TLS. */
static uint32_t proxy_data(struct session *s, const uint8_t *p, uint32_t len)
{
	struct proxy_header h;
	size_t used = 0;
	int rc;

	/* Not a header at all: a client that came straight to the port. */
	if (s->pp->pos == 0 && proxy_sniff(p, len) < 0) {
		proxy_over(s);
		return 0;
	}
	rc = proxy_feed(s->pp, p, len, &used, &h);
	if (rc == PROXY_NEED_MORE)
		return len;
	proxy_over(s);
	if (rc == PROXY_INVALID) {
		fail(s, REASON_NOT_TLS, tls_sniff_name(SNIFF_PROXY));
		return len;
	}
	s->proxy_version = h.version;
	s->proxy_local = h.local;
	if (s->proxy_trusted && h.has_addr && !h.local) {
		s->peer = s->client;
		s->has_peer = true;
		s->client = h.src;
	}
	return used;
}

static void side_data(void *ctx, const uint8_t *p, uint32_t len)
{
	struct session_side *side = ctx;

	if (side->id == SIDE_CLIENT && side->s->pp) {
		uint32_t used = proxy_data(side->s, p, len);

		p += used;
		len -= used;
		if (!len)
			return;
	}

	if (side->id == SIDE_CLIENT && !side->s->client_first_ts && len)
		side->s->client_first_ts = side->s->now;
	if (side->s->outcome == OUTCOME_NONE)
		side->bytes += len;
	records_data(&side->rec, p, len);
}

/* Missing bytes count as sent; they matter to `capture` only where the
 * record layer needed them (damaged() and on_lost()). */
static void side_gap(void *ctx, uint32_t len, enum stream_gap why)
{
	struct session_side *side = ctx;

	/* Bytes of a header went missing: whatever follows is read as if
	 * it came first, and the gap tells the record layer. */
	if (side->id == SIDE_CLIENT && side->s->pp)
		proxy_over(side->s);
	if (side->s->outcome == OUTCOME_NONE)
		side->bytes += len;
	records_gap(&side->rec, len, why);
}

const struct stream_sink session_sink = {
	.data = side_data,
	.gap = side_gap,
};

/* ---- lifecycle ---- */

void session_close(struct session *s, enum side_id from, enum close_how how,
		   uint64_t ts)
{
	struct session_side *side = &s->side[from];

	session_tick(s, ts);
	if (side->close != CLOSE_NONE) {
		/* The socket's end was read first; the wire now says how. */
		if (side->close == CLOSE_GONE)
			side->close = how;
		return;
	}
	side->close = how;
	if (!s->closing) {
		s->closing = true;
		s->first_close = from;
	}
	if (s->outcome != OUTCOME_NONE) {
		if (!s->reported && s->report_at > ts)
			s->report_at = ts;
		return;
	}
	/* TLS 1.3 rule 3 holds only with neither side closing. */
	s->quiet_at = 0;
	/* Wait briefly for the other side's last records and close, unless
	 * there is nothing more to come. */
	if (how == CLOSE_RST || (closed(s, SIDE_CLIENT) && closed(s, SIDE_SERVER)))
		decide_on_close(s);
	else if (!s->close_at)
		s->close_at = ts + SESSION_CLOSE_GRACE_US;
}

uint64_t session_deadline(const struct session *s)
{
	uint64_t d = 0;

	if (s->reported)
		return 0;
	if (s->outcome != OUTCOME_NONE)
		return s->report_at;
	d = s->first_ts + s->timeout_us;
	if (s->close_at && s->close_at < d)
		d = s->close_at;
	if (s->quiet_at && s->quiet_at < d)
		d = s->quiet_at;
	return d;
}

void session_tick(struct session *s, uint64_t ts)
{
	if (ts > s->now)
		s->now = ts;
	while (s->outcome == OUTCOME_NONE) {
		uint64_t d = session_deadline(s);

		if (d == 0 || d > ts)
			break;
		/* Decisions carry the time they became due, not the time the
		 * clock was next read. */
		s->now = d;
		if (d == s->close_at)
			decide_on_close(s);
		else if (d == s->quiet_at)
			decide(s, OUTCOME_ESTABLISHED, REASON_NONE);
		else
			decide_on_timeout(s);
	}
	if (ts > s->now)
		s->now = ts;
}

bool session_ready(const struct session *s)
{
	return !s->reported && s->outcome != OUTCOME_NONE &&
	       s->report_at <= s->now;
}

void session_end(struct session *s, uint64_t ts)
{
	session_tick(s, ts);
	if (s->outcome == OUTCOME_NONE) {
		if (s->close_at)
			decide_on_close(s);
		else if (s->maybe_lost)
			decide_on_timeout(s);
		else
			decide(s, OUTCOME_INCOMPLETE, REASON_NONE);
	}
	s->report_at = s->now;
}

void session_lost(struct session *s, uint64_t ts)
{
	session_tick(s, ts);
	if (s->outcome == OUTCOME_NONE) {
		s->side[SIDE_CLIENT].gap = true;
		decide(s, OUTCOME_UNKNOWN, REASON_NONE);
	}
	s->report_at = s->now;
}

void session_dropped(struct session *s, uint64_t ts)
{
	session_tick(s, ts);
	if (s->outcome == OUTCOME_NONE) {
		s->side[SIDE_CLIENT].gap = true;
		decide(s, OUTCOME_UNKNOWN, REASON_NONE);
	}
}

void session_maybe_lost(struct session *s)
{
	s->maybe_lost = true;
}

void session_truncated(struct session *s, enum side_id id, uint64_t ts)
{
	struct session_side *side = &s->side[id];

	session_tick(s, ts);
	side->rec.state = REC_DONE;
	if (s->outcome == OUTCOME_NONE) {
		side->truncated = true;
		decide(s, OUTCOME_UNKNOWN, REASON_NONE);
	}
}

void session_gone(struct session *s, uint64_t ts)
{
	session_tick(s, ts);
	s->gone = true;
	if (!s->closing) {
		s->closing = true;
		s->first_close = SIDE_SERVER;
		s->side[SIDE_SERVER].close = CLOSE_GONE;
	}
	/* A reset sent as the socket closed is read after this event: wait
	 * a moment for it, as after any close. */
	if (s->outcome == OUTCOME_NONE) {
		s->quiet_at = 0;
		if (!s->close_at)
			s->close_at = ts + SESSION_CLOSE_GRACE_US;
	} else if (s->report_at > ts + SESSION_CLOSE_GRACE_US) {
		s->report_at = ts + SESSION_CLOSE_GRACE_US;
	}
}

bool session_client_hello_seen(const struct session *s)
{
	return s->client_kind == SNIFF_TLS || s->client_kind == SNIFF_SSLV2;
}

const char *outcome_name(enum outcome o)
{
	static const char *const names[] = {
		[OUTCOME_NONE] = "none",
		[OUTCOME_ESTABLISHED] = "established",
		[OUTCOME_FAILED] = "failed",
		[OUTCOME_NO_DATA] = "no_data",
		[OUTCOME_INCOMPLETE] = "incomplete",
		[OUTCOME_UNKNOWN] = "unknown",
	};
	return (unsigned)o < OUTCOME__COUNT ? names[o] : "none";
}

const char *reason_name(enum reason r)
{
	static const char *const names[] = {
		[REASON_NONE] = NULL,
		[REASON_SERVER_ALERT] = "server_alert",
		[REASON_CLIENT_ALERT] = "client_alert",
		[REASON_ENCRYPTED_ALERT] = "encrypted_alert",
		[REASON_CLIENT_CLOSED] = "client_closed",
		[REASON_SERVER_CLOSED] = "server_closed",
		[REASON_TIMEOUT] = "timeout",
		[REASON_NOT_TLS] = "not_tls",
		[REASON_SSLV2] = "sslv2",
		[REASON_MALFORMED] = "malformed",
	};
	return (unsigned)r < REASON__COUNT ? names[r] : NULL;
}

const char *stage_name(enum stage st)
{
	static const char *const names[] = {
		[STAGE_NONE] = "none",
		[STAGE_CLIENT_HELLO] = "client_hello",
		[STAGE_SERVER_HELLO] = "server_hello",
		[STAGE_SERVER_FLIGHT] = "server_flight",
		[STAGE_CLIENT_FLIGHT] = "client_flight",
		[STAGE_FINISHED] = "finished",
	};
	return (unsigned)st <= STAGE_FINISHED ? names[st] : "none";
}

const char *capture_name(enum capture c)
{
	switch (c) {
	case CAPTURE_GAP:
		return "gap";
	case CAPTURE_TRUNCATED:
		return "truncated";
	default:
		return "complete";
	}
}

const char *alert_level_name(uint8_t level)
{
	switch (level) {
	case 1:
		return "warning";
	case 2:
		return "fatal";
	default:
		return NULL;
	}
}
