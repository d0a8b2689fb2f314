// SPDX-License-Identifier: BSD-3-Clause
/* TLS record layer of one direction: sniff, walk headers, rebuild
 * plaintext handshake messages and alerts, report through callbacks. */
#include <stdlib.h>
#include <string.h>

#include "records.h"

/* Message buffers of all directions together stay under this. */
static uint64_t mem_limit = 64ULL << 20;
static uint64_t mem_used;

void records_set_mem_limit(uint64_t total)
{
	mem_limit = total;
}

void records_init(struct records *r, const struct records_ops *ops, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->ctx = ctx;
}

void records_free(struct records *r)
{
	mem_used -= r->hs_cap;
	free(r->hs);
	r->hs = NULL;
	r->hs_cap = r->hs_len = 0;
}

static void lose(struct records *r, const char *why)
{
	/* Bytes held while sniffing were not counted yet. */
	if (r->state == REC_SNIFF)
		r->pos += r->hdr_len;
	r->hdr_len = 0;
	r->state = REC_DONE;
	records_free(r);
	r->ops->lost(r->ctx, why);
}

/* The size hs_grow() would make the buffer for need bytes, more than it
 * holds: 0 when need is past RECORDS_MAX_HS or the shared limit. */
static uint32_t hs_size(const struct records *r, uint32_t need)
{
	uint32_t cap = r->hs_cap ? r->hs_cap : 512;

	if (need > RECORDS_MAX_HS + TLS_HS_HEADER_LEN)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > RECORDS_MAX_HS + TLS_HS_HEADER_LEN)
		cap = RECORDS_MAX_HS + TLS_HS_HEADER_LEN;
	if (mem_used - r->hs_cap + cap > mem_limit)
		return 0;
	return cap;
}

/* The message buffer holds at least need bytes, growing within
 * RECORDS_MAX_HS and the shared limit; false, with mem_refused when
 * memory was the reason, if it cannot. */
static bool hs_grow(struct records *r, uint32_t need)
{
	uint32_t cap;
	uint8_t *nb;

	if (need <= r->hs_cap)
		return true;
	if (need > RECORDS_MAX_HS + TLS_HS_HEADER_LEN)
		return false;
	cap = hs_size(r, need);
	if (!cap || !(nb = realloc(r->hs, cap))) {
		r->mem_refused = true;
		return false;
	}
	mem_used = mem_used - r->hs_cap + cap;
	r->hs = nb;
	r->hs_cap = cap;
	return true;
}

/* Append to the buffer (an SSLv2 record being gathered). */
static bool hs_append(struct records *r, const uint8_t *p, uint32_t n)
{
	if (!hs_grow(r, r->hs_len + n))
		return false;
	memcpy(r->hs + r->hs_len, p, n);
	r->hs_len += n;
	return true;
}

/* Handshake bytes of a plaintext record, in order. Messages may span
 * records and a record may hold several. The 4-byte message header is
 * kept apart, so that a body that cannot be kept (too long, or no
 * memory) is still followed to its end and reported without a body. */
static void hs_bytes(struct records *r, const uint8_t *p, uint32_t n)
{
	static const uint8_t empty[1];

	while (n) {
		uint32_t take, blen, have;
		uint8_t type;

		/* A whole message in hand, header and body (a hello in one
		 * segment): handed on from where it lies, neither copied nor
		 * given a buffer. It still comes bodiless where the buffer
		 * would have been refused (the shared limit). */
		if (r->hs_len == 0 && n >= TLS_HS_HEADER_LEN) {
			tls_parse_handshake_header(p, TLS_HS_HEADER_LEN, &type,
						   &blen);
			if (blen <= n - TLS_HS_HEADER_LEN &&
			    blen <= RECORDS_MAX_HS &&
			    (blen <= r->hs_cap || hs_size(r, blen))) {
				const uint8_t *body = p + TLS_HS_HEADER_LEN;

				p += TLS_HS_HEADER_LEN + blen;
				n -= TLS_HS_HEADER_LEN + blen;
				r->ops->handshake(r->ctx, type,
						  blen ? body : empty, blen);
				if (!n)
					records_free(r);
				continue;
			}
		}
		if (r->hs_len < TLS_HS_HEADER_LEN) {
			take = TLS_HS_HEADER_LEN - r->hs_len;
			if (take > n)
				take = n;
			memcpy(r->hs_hdr + r->hs_len, p, take);
			r->hs_len += take;
			p += take;
			n -= take;
			if (r->hs_len < TLS_HS_HEADER_LEN)
				return;
			tls_parse_handshake_header(r->hs_hdr, TLS_HS_HEADER_LEN,
						   &type, &blen);
			r->hs_lost = blen > RECORDS_MAX_HS || !hs_grow(r, blen);
		}
		tls_parse_handshake_header(r->hs_hdr, TLS_HS_HEADER_LEN, &type,
					   &blen);
		have = r->hs_len - TLS_HS_HEADER_LEN;
		take = blen - have < n ? blen - have : n;
		if (!r->hs_lost && take)
			memcpy(r->hs + have, p, take);
		r->hs_len += take;
		p += take;
		n -= take;
		if (have + take == blen) {
			bool lost = r->hs_lost;

			r->hs_len = 0;
			r->hs_lost = false;
			r->ops->handshake(r->ctx, type,
					  lost ? NULL : blen ? r->hs : empty, blen);
			/* Nothing more in hand: give the buffer back, as a
			 * connection may now wait long for its next message
			 * (a stalled handshake holds it until the timeout). */
			if (!n && !r->hs_len)
				records_free(r);
		}
	}
}

static bool collecting_hs(const struct records *r)
{
	return r->cur.type == TLS_CT_HANDSHAKE && !r->encrypted;
}

static bool collecting_alert(const struct records *r)
{
	return r->cur.type == TLS_CT_ALERT && r->cur.length == 2;
}

/* Each walker takes bytes while its state lasts and returns how many it
 * took; dispatch() hands the rest to whichever walker the state then
 * calls for. A loop rather than walkers calling each other, so that a
 * segment of thousands of tiny SSLv2 records cannot grow the stack. */
static uint32_t tls_bytes(struct records *r, const uint8_t *p, uint32_t n)
{
	uint32_t used = 0;

	while (used < n && r->state == REC_TLS) {
		uint32_t take;

		if (!r->in_body) {
			const uint8_t *hdr = r->hdr;

			take = TLS_RECORD_HEADER_LEN - r->hdr_len;
			if (take > n - used)
				take = n - used;
			/* A header whole in the chunk is read where it is. */
			if (take == TLS_RECORD_HEADER_LEN)
				hdr = p + used;
			else
				memcpy(r->hdr + r->hdr_len, p + used, take);
			r->hdr_len += take;
			r->pos += take;
			used += take;
			if (r->hdr_len < TLS_RECORD_HEADER_LEN)
				break;
			r->hdr_len = 0;
			if (tls_parse_record_header(hdr, TLS_RECORD_HEADER_LEN,
						    &r->cur) != TLS_OK) {
				lose(r, "framing");
				break;
			}
			r->in_body = true;
			r->body_left = r->cur.length;
			r->alert_len = 0;
			if (r->hs_skip && collecting_hs(r)) {
				r->hs_skip = false;
				r->hs_len = 0;
				r->hs_lost = false;
			}
			r->ops->record(r->ctx, &r->cur);
		} else {
			take = r->body_left < n - used ? r->body_left : n - used;
			if (collecting_hs(r) && !r->hs_skip)
				hs_bytes(r, p + used, take);
			else if (collecting_alert(r)) {
				memcpy(r->alert + r->alert_len, p + used, take);
				r->alert_len += take;
			}
			used += take;
			r->pos += take;
			r->body_left -= take;
		}
		if (r->in_body && r->body_left == 0) {
			r->in_body = false;
			if (collecting_alert(r) && r->alert_len == 2)
				r->ops->alert(r->ctx, r->alert[0], r->alert[1]);
		}
	}
	return used;
}

static uint32_t sslv2_bytes(struct records *r, const uint8_t *p, uint32_t n)
{
	uint32_t used = 0;

	/* Gather the 2-byte header, which gives the record's length, then
	 * the rest of the record. */
	while (used < n) {
		uint32_t want = r->v2_need ? r->v2_need : 2;
		uint32_t take = want - r->hs_len;
		uint32_t len;

		if (take > n - used)
			take = n - used;
		if (!hs_append(r, p + used, take)) {
			lose(r, "truncated");
			break;
		}
		used += take;
		r->pos += take;
		if (r->hs_len < want)
			break;
		if (!r->v2_need) {
			if (tls_sslv2_record_len(r->hs, r->hs_len,
						 &r->v2_need) != TLS_OK) {
				lose(r, "framing");
				break;
			}
			continue;
		}
		len = r->hs_len;
		r->hs_len = 0;
		r->v2_need = 0;
		r->seen_v2 = true;
		r->state = REC_SNIFF;
		r->ops->sslv2(r->ctx, r->hs, len);
		break;
	}
	return used;
}

static void dispatch(struct records *r, const uint8_t *p, uint32_t n);

/* The first bytes decide between TLS, SSLv2 and something else. After an
 * SSLv2 record the same test picks up TLS records that may follow (an
 * SSLv2-format hello answered in TLS); anything else there is SSLv2
 * traffic this tool does not follow, not a non-TLS stream. */
static uint32_t sniff_bytes(struct records *r, const uint8_t *p, uint32_t n)
{
	enum tls_sniff what;
	uint8_t buf[sizeof(r->hdr)];
	uint32_t have, held = r->hdr_len;
	uint32_t take = sizeof(r->hdr) - r->hdr_len;

	if (take > n)
		take = n;
	memcpy(r->hdr + r->hdr_len, p, take);
	r->hdr_len += take;
	what = tls_sniff(r->hdr, r->hdr_len);
	if (what == SNIFF_NEED_MORE) {
		if (r->hdr_len < sizeof(r->hdr))
			return take;
		what = SNIFF_UNKNOWN;
	}
	have = r->hdr_len;
	memcpy(buf, r->hdr, have);
	r->hdr_len = 0;
	switch (what) {
	case SNIFF_TLS:
		r->state = REC_TLS;
		break;
	case SNIFF_SSLV2:
		r->state = REC_SSLV2;
		break;
	default:
		/* The whole chunk goes with the verdict. */
		r->state = REC_DONE;
		r->pos += have + (n - take);
		if (!r->seen_v2)
			r->ops->not_tls(r->ctx, what);
		return n;
	}
	/* All of them in this chunk (the usual case): the walker takes the
	 * chunk from its start, whole, so that a message in it can be
	 * handed on where it lies. */
	if (!held)
		return 0;
	/* The sniffed bytes, again, to the walker they belong to: at most
	 * TLS_SNIFF_MAX_LEN of them, so this nests only a few levels. */
	dispatch(r, buf, have);
	return take;
}

static void dispatch(struct records *r, const uint8_t *p, uint32_t n)
{
	while (n) {
		uint32_t used;

		switch (r->state) {
		case REC_SNIFF:
			used = sniff_bytes(r, p, n);
			break;
		case REC_TLS:
			used = tls_bytes(r, p, n);
			break;
		case REC_SSLV2:
			used = sslv2_bytes(r, p, n);
			break;
		default:
			/* A stream no longer walked still counts what it
			 * carries. */
			r->pos += n;
			return;
		}
		p += used;
		n -= used;
	}
}

void records_data(void *rp, const uint8_t *p, uint32_t len)
{
	dispatch(rp, p, len);
}

void records_gap(void *rp, uint32_t len, enum stream_gap why)
{
	struct records *r = rp;
	const char *what = why == STREAM_GAP_TRUNCATED ? "truncated" : "gap";

	r->pos += len;
	if (len == 0 || r->state == REC_DONE)
		return;
	/* Only a gap inside a TLS record body keeps the walk in step. */
	if (r->state != REC_TLS || !r->in_body || len > r->body_left) {
		lose(r, what);
		return;
	}
	r->body_left -= len;
	if (collecting_hs(r)) {
		/* Handshake bytes went missing. A message whose type is known
		 * is reported without its body; parsing picks up again with
		 * the next handshake record, since senders start records on
		 * message boundaries in practice. */
		r->damaged = why;
		if (r->hs_len >= 1 && !r->hs_skip) {
			uint8_t type = r->hs_hdr[0];
			uint32_t blen = 0;

			if (r->hs_len >= TLS_HS_HEADER_LEN)
				tls_parse_handshake_header(r->hs_hdr,
							   TLS_HS_HEADER_LEN,
							   &type, &blen);
			r->hs_len = 0;
			r->hs_skip = true;
			if (r->body_left == 0)
				r->in_body = false;
			r->ops->handshake(r->ctx, type, NULL, blen);
			return;
		}
		r->hs_len = 0;
		r->hs_skip = true;
	}
	if (r->body_left == 0)
		r->in_body = false;
}

const struct stream_sink records_sink = {
	.data = records_data,
	.gap = records_gap,
};
