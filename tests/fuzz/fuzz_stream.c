// SPDX-License-Identifier: BSD-3-Clause
/* libFuzzer target: TCP reassembly (user/stream.c), two streams sharing
 * the global limits, driven by a byte-coded list of segments, with a
 * model of what must come out: bytes leave in order, each at most once,
 * and a byte delivered as data is the first captured copy of it that the
 * stream accepted (later copies that differ never win).
 *
 * Input: a config byte (bit 0: start from a SYN at seq 0x10000000 -
 * 0x80, near wraparound when bit 3 is set; bits 1-2: memory limits), then
 * operations. Operation byte: bits 0-1 the kind, bit 5 the stream, bit 6
 * an explicit caplen, bit 7 a 4-byte sequence number.
 *   0 segment: seq (2 bytes from the start, or 4 raw), len (2), [caplen
 *     (2)], the captured bytes
 *   1 flush
 *   2 the last segment of that stream again, its bytes XORed with the
 *     next input byte
 *   3 segment at the stream's next byte plus a signed byte: overlaps */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MODEL 262144		/* stream positions checked */
#define UNSET 0xffff
#define TRUNC 0x100

struct model {
	struct stream s;
	bool based;
	uint32_t base;		/* seq of stream position 0 */
	uint64_t out;		/* bytes delivered, data and gaps */
	uint32_t hi;		/* model entries touched */
	uint16_t first[MODEL];	/* first accepted copy of each position */
	uint32_t last_seq, last_len, last_cap;
	uint8_t last[65536];
};

static struct model m[2];

static void trap_if(bool bad)
{
	if (bad)
		__builtin_trap();
}

static void on_data(void *ctx, const uint8_t *p, uint32_t len)
{
	struct model *md = ctx;

	trap_if(!len);
	for (uint32_t i = 0; i < len; i++, md->out++)
		if (md->out < MODEL)
			trap_if(md->first[md->out] != p[i]);
}

static void on_gap(void *ctx, uint32_t len, enum stream_gap why)
{
	struct model *md = ctx;

	trap_if(!len);
	trap_if(why != STREAM_GAP_MISSING && why != STREAM_GAP_TRUNCATED);
	for (uint32_t i = 0; i < len; i++, md->out++)
		if (why == STREAM_GAP_TRUNCATED && md->out < MODEL)
			trap_if(md->first[md->out] != TRUNC);
}

static const struct stream_sink sink = { .data = on_data, .gap = on_gap };

static void add(struct model *md, uint32_t seq, const uint8_t *p,
		uint32_t caplen, uint32_t len)
{
	struct stream *s = &md->s;
	bool accepted;

	if (!len)
		return;
	if (!md->based) {
		md->based = true;
		md->base = seq;
	}
	/* As stream_add decides: refused when too long or too far ahead. */
	accepted = len <= (1u << 20) &&
		   (!s->started || (int32_t)(seq - s->next) <= (int32_t)(1u << 20));
	if (accepted) {
		uint32_t pos = seq - md->base;

		for (uint32_t i = 0; i < len; i++) {
			uint32_t q = pos + i;

			if (q >= MODEL)
				continue;
			if (q >= md->hi)
				md->hi = q + 1;
			if (md->first[q] == UNSET)
				md->first[q] = i < caplen ? p[i] : TRUNC;
		}
	}
	stream_add(s, seq, p, caplen, len, &sink, md);
	trap_if(s->delivered != md->out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t per[4] = { 65536, 256, 4096, 1u << 20 };
	static const uint64_t total[4] = { 64u << 20, 1024, 65536, 2048 };
	const uint8_t *p = data, *end = data + size;
	static bool once;
	uint8_t cfg;

	if (size < 1)
		return 0;
	cfg = *p++;
	stream_set_limits(per[(cfg >> 1) & 3], total[(cfg >> 1) & 3]);
	for (int i = 0; i < 2; i++) {
		stream_init(&m[i].s);
		m[i].based = false;
		m[i].out = 0;
		m[i].hi = 0;
		m[i].last_len = 0;
		if (!once)
			memset(m[i].first, 0xff, sizeof(m[i].first));
		if (cfg & 1) {
			uint32_t isn = cfg & 8 ? 0xffffff80u : 0x10000000u;

			stream_start(&m[i].s, isn);
			m[i].based = true;
			m[i].base = isn;
		}
	}
	once = true;
	while (p < end) {
		uint8_t op = *p++;
		struct model *md = &m[(op >> 5) & 1];
		uint32_t seq, len, cap;

		switch (op & 3) {
		case 1:
			stream_flush(&md->s, &sink, md);
			trap_if(md->s.pending || md->s.pending_bytes);
			trap_if(md->s.delivered != md->out);
			continue;
		case 2:
			if (!md->last_len || p >= end)
				continue;
			for (uint32_t i = 0; i < md->last_cap; i++)
				md->last[i] ^= *p;
			p++;
			add(md, md->last_seq, md->last, md->last_cap,
			    md->last_len);
			continue;
		case 0:
			if (op & 0x80) {
				if (end - p < 4)
					goto done;
				seq = (uint32_t)p[0] << 24 | p[1] << 16 |
				      p[2] << 8 | p[3];
				p += 4;
			} else {
				if (end - p < 2)
					goto done;
				seq = md->base + (p[0] << 8 | p[1]);
				p += 2;
			}
			break;
		default:
			if (end - p < 1)
				goto done;
			seq = md->s.started ? md->s.next + (int8_t)*p : md->base;
			p++;
			break;
		}
		if (end - p < 2)
			goto done;
		len = p[0] << 8 | p[1];
		p += 2;
		cap = len;
		if (op & 0x40) {
			if (end - p < 2)
				goto done;
			cap = p[0] << 8 | p[1];
			p += 2;
			if (cap > len)
				cap = len;
		}
		if (cap > (uint32_t)(end - p))
			cap = end - p;
		memcpy(md->last, p, cap);
		md->last_seq = seq;
		md->last_len = len;
		md->last_cap = cap;
		add(md, seq, md->last, cap, len);
		p += cap;
		trap_if(md->s.pending_bytes > per[(cfg >> 1) & 3]);
	}
done:
	for (int i = 0; i < 2; i++) {
		stream_flush(&m[i].s, &sink, &m[i]);
		trap_if(m[i].s.delivered != m[i].out);
	}
	for (int i = 0; i < 2; i++) {
		stream_free(&m[i].s);
		memset(m[i].first, 0xff, m[i].hi * sizeof(m[i].first[0]));
	}
	trap_if(stream_total_pending() != 0);
	return 0;
}
