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
	r->state = REC_DONE;
	records_free(r);
	r->ops->lost(r->ctx, why);
}

/* Append to the message buffer, growing it up to RECORDS_MAX_HS within
 * the shared limit; false when it cannot grow. */
static bool hs_append(struct records *r, const uint8_t *p, uint32_t n)
{
	if (r->hs_len + n > r->hs_cap) {
		uint32_t cap = r->hs_cap ? r->hs_cap : 512;
		uint8_t *nb;

		while (cap < r->hs_len + n)
			cap *= 2;
		if (cap > RECORDS_MAX_HS + TLS_HS_HEADER_LEN)
			cap = RECORDS_MAX_HS + TLS_HS_HEADER_LEN;
		if (r->hs_len + n > cap ||
		    mem_used - r->hs_cap + cap > mem_limit) {
			r->mem_refused = true;
			return false;
		}
		nb = realloc(r->hs, cap);
		if (!nb) {
			r->mem_refused = true;
			return false;
		}
		mem_used = mem_used - r->hs_cap + cap;
		r->hs = nb;
		r->hs_cap = cap;
	}
	memcpy(r->hs + r->hs_len, p, n);
	r->hs_len += n;
	return true;
}

/* Handshake bytes of a plaintext record, in order. Messages may span
 * records and a record may hold several; a message too large to keep is
 * followed to its end and reported without a body. */
static void hs_bytes(struct records *r, const uint8_t *p, uint32_t n)
{
	while (n) {
		uint32_t want, take;
		uint8_t type;
		uint32_t blen;

		if (r->hs_len < TLS_HS_HEADER_LEN) {
			take = TLS_HS_HEADER_LEN - r->hs_len;
			if (take > n)
				take = n;
			if (!hs_append(r, p, take))
				return;
			p += take;
			n -= take;
			if (r->hs_len < TLS_HS_HEADER_LEN)
				return;
		}
		tls_parse_handshake_header(r->hs, r->hs_len, &type, &blen);
		want = TLS_HS_HEADER_LEN + blen;
		if (blen > RECORDS_MAX_HS || r->hs_lost) {
			/* Count the body down in hs_cap's place: hs_len
			 * tracks how much of it has passed. */
			take = want - r->hs_len;
			if (take > n)
				take = n;
			r->hs_len += take;
			p += take;
			n -= take;
			if (r->hs_len == want) {
				r->hs_len = 0;
				r->hs_lost = false;
				r->ops->handshake(r->ctx, type, NULL, blen);
			}
			continue;
		}
		take = want - r->hs_len;
		if (take > n)
			take = n;
		if (!hs_append(r, p, take)) {
			r->hs_lost = true;
			continue;
		}
		p += take;
		n -= take;
		if (r->hs_len == want) {
			r->hs_len = 0;
			r->ops->handshake(r->ctx, type, r->hs + TLS_HS_HEADER_LEN,
					  blen);
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

static void tls_bytes(struct records *r, const uint8_t *p, uint32_t n)
{
	while (n && r->state == REC_TLS) {
		if (!r->in_body) {
			uint32_t take = TLS_RECORD_HEADER_LEN - r->hdr_len;

			if (take > n)
				take = n;
			memcpy(r->hdr + r->hdr_len, p, take);
			r->hdr_len += take;
			r->pos += take;
			p += take;
			n -= take;
			if (r->hdr_len < TLS_RECORD_HEADER_LEN)
				return;
			r->hdr_len = 0;
			if (tls_parse_record_header(r->hdr, TLS_RECORD_HEADER_LEN,
						    &r->cur) != TLS_OK) {
				lose(r, "framing");
				return;
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
			if (r->state != REC_TLS)
				return;
		} else {
			uint32_t take = r->body_left < n ? r->body_left : n;

			if (collecting_hs(r) && !r->hs_skip)
				hs_bytes(r, p, take);
			else if (collecting_alert(r)) {
				memcpy(r->alert + r->alert_len, p, take);
				r->alert_len += take;
			}
			p += take;
			n -= take;
			r->pos += take;
			r->body_left -= take;
		}
		if (r->in_body && r->body_left == 0) {
			r->in_body = false;
			if (collecting_alert(r) && r->alert_len == 2)
				r->ops->alert(r->ctx, r->alert[0], r->alert[1]);
		}
	}
	if (r->state == REC_DONE)
		r->pos += n;	/* what follows a framing error */
}

static void sslv2_bytes(struct records *r, const uint8_t *p, uint32_t n);
static void sniff_bytes(struct records *r, const uint8_t *p, uint32_t n);

/* Hand bytes to whichever walker the current state calls for; a walker
 * that changes state mid-way passes the rest on through here. */
static void dispatch(struct records *r, const uint8_t *p, uint32_t n)
{
	switch (r->state) {
	case REC_SNIFF:
		sniff_bytes(r, p, n);
		break;
	case REC_TLS:
		tls_bytes(r, p, n);
		break;
	case REC_SSLV2:
		sslv2_bytes(r, p, n);
		break;
	case REC_DONE:
		r->pos += n;
		break;
	}
}

/* The first bytes decide between TLS, SSLv2 and something else. After an
 * SSLv2 record the same test picks up TLS records that may follow (an
 * SSLv2-format hello answered in TLS); anything else there is SSLv2
 * traffic this tool does not follow, not a non-TLS stream. */
static void sniff_bytes(struct records *r, const uint8_t *p, uint32_t n)
{
	enum tls_sniff what;
	uint8_t buf[sizeof(r->hdr)];
	uint32_t have;
	uint32_t take = sizeof(r->hdr) - r->hdr_len;

	if (take > n)
		take = n;
	memcpy(r->hdr + r->hdr_len, p, take);
	r->hdr_len += take;
	what = tls_sniff(r->hdr, r->hdr_len);
	if (what == SNIFF_NEED_MORE) {
		if (r->hdr_len < sizeof(r->hdr))
			return;
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
		r->state = REC_DONE;
		r->pos += have + (n - take);
		if (!r->seen_v2)
			r->ops->not_tls(r->ctx, what);
		return;
	}
	dispatch(r, buf, have);
	dispatch(r, p + take, n - take);
}

static void sslv2_bytes(struct records *r, const uint8_t *p, uint32_t n)
{
	/* Gather the 2-byte header, which gives the record's length, then
	 * the rest of the record. */
	while (n && r->state == REC_SSLV2) {
		uint32_t want = r->v2_need ? r->v2_need : 2;
		uint32_t take = want - r->hs_len;
		uint32_t len;

		if (take > n)
			take = n;
		if (!hs_append(r, p, take)) {
			r->pos += n;
			lose(r, "truncated");
			return;
		}
		p += take;
		n -= take;
		r->pos += take;
		if (r->hs_len < want)
			return;
		if (!r->v2_need) {
			if (tls_sslv2_record_len(r->hs, r->hs_len,
						 &r->v2_need) != TLS_OK) {
				r->pos += n;
				lose(r, "framing");
				return;
			}
			continue;
		}
		len = r->hs_len;
		r->hs_len = 0;
		r->v2_need = 0;
		r->seen_v2 = true;
		r->state = REC_SNIFF;
		r->ops->sslv2(r->ctx, r->hs, len);
		dispatch(r, p, n);
		return;
	}
}

void records_data(void *rp, const uint8_t *p, uint32_t len)
{
	struct records *r = rp;

	/* A stream no longer walked still counts what it carries. */
	if (r->state == REC_DONE)
		r->pos += len;
	else
		dispatch(r, p, len);
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
			uint8_t type = r->hs[0];
			uint32_t blen = 0;

			if (r->hs_len >= TLS_HS_HEADER_LEN)
				tls_parse_handshake_header(r->hs, r->hs_len,
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
