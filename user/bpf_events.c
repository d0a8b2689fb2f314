// SPDX-License-Identifier: BSD-3-Clause
#include <arpa/inet.h>
#include <linux/types.h>
#include <string.h>
#include <sys/socket.h>

#include "../bpf/tlswatch.h"
#include "bpf_events.h"

/* TCP states, as the kernel numbers them (include/net/tcp_states.h). */
enum {
	TCP_ESTABLISHED = 1,
	TCP_FIN_WAIT1 = 4,
	TCP_CLOSE = 7,
	TCP_CLOSE_WAIT = 8,
};

void bpf_key_endpoints(const struct tw_key *k, struct endpoint *client,
		       struct endpoint *server)
{
	memset(client, 0, sizeof(*client));
	memset(server, 0, sizeof(*server));
	client->family = server->family = k->family;
	memcpy(client->addr, k->caddr, k->family == AF_INET ? 4 : 16);
	memcpy(server->addr, k->saddr, k->family == AF_INET ? 4 : 16);
	client->port = ntohs(k->cport);
	server->port = ntohs(k->sport);
}

void bpf_key_from(struct tw_key *k, const struct endpoint *client,
		  const struct endpoint *server)
{
	memset(k, 0, sizeof(*k));
	k->family = client->family;
	memcpy(k->caddr, client->addr, 16);
	memcpy(k->saddr, server->addr, 16);
	k->cport = htons(client->port);
	k->sport = htons(server->port);
}

static uint64_t to_us(uint64_t mono_ns, int64_t offset_ns)
{
	return (uint64_t)((int64_t)mono_ns + offset_ns) / 1000;
}

/* One event carries a segment's captured pieces: each piece is data, and
 * the bytes from its end to the next piece (or the segment's end) exist
 * but were not sent. Each becomes a segment of its own for reassembly. */
static void segment_event(struct flows *f, const struct tw_segment_event *ev,
			  size_t size, int64_t offset_ns,
			  struct bpf_events_stats *st)
{
	const uint8_t *data = ev->data;
	size_t have = size - offsetof(struct tw_segment_event, data);
	struct tw_piece pieces[TW_MAX_PIECES];
	struct endpoint client, server;
	bool from_client = ev->flags & TW_SEG_FROM_CLIENT;
	struct segment seg = {
		.ts_us = to_us(ev->ts_ns, offset_ns),
		.dir = from_client ? SEG_DIR_FROM_CLIENT : SEG_DIR_FROM_SERVER,
		.ack = ev->ack,
		.opening = ev->flags & TW_SEG_FRESH,
	};
	uint32_t data_seq = ev->seq + ((ev->tcp_flags & TCPF_SYN) ? 1 : 0);
	uint32_t at = 0, used = 0;

	/* The data, then the pieces that say where it was. */
	if (ev->npieces > TW_MAX_PIECES ||
	    ev->dlen + ev->npieces * sizeof(pieces[0]) != have) {
		st->malformed++;
		return;
	}
	memcpy(pieces, data + ev->dlen, ev->npieces * sizeof(pieces[0]));
	have = ev->dlen;
	bpf_key_endpoints(&ev->key, &client, &server);
	seg.src = from_client ? client : server;
	seg.dst = from_client ? server : client;
	if (ev->flags & TW_SEG_LOST)
		flows_event(f, &client, &server, FLOW_DROPPED, seg.ts_us);
	/* Uncaptured bytes before the first piece, then each piece up to
	 * the next. SYN, FIN and RST go with the first and last parts. */
	for (int i = -1; i < ev->npieces; i++) {
		uint32_t off = i < 0 ? 0 : pieces[i].off;
		uint32_t cap = i < 0 ? 0 : pieces[i].len;
		uint32_t end = i + 1 < ev->npieces ? pieces[i + 1].off : ev->len;
		bool last = i + 1 == ev->npieces;

		if (i < 0 && ev->npieces && pieces[0].off == 0)
			continue;
		if (cap > have - used || off < at || off > ev->len ||
		    off + cap > ev->len) {
			st->malformed++;
			return;
		}
		if (end < off + cap)	/* pieces may overlap */
			end = off + cap;
		seg.seq = data_seq + off;
		seg.flags = ev->tcp_flags & ~(TCPF_SYN | TCPF_FIN | TCPF_RST);
		if (last)
			seg.flags |= ev->tcp_flags & (TCPF_FIN | TCPF_RST);
		seg.data = data + used;
		seg.caplen = cap;
		seg.len = end - off;
		seg.final = last && (ev->flags & TW_SEG_DECIDED);
		flows_segment(f, &seg);
		used += cap;
		at = off;
	}
	if (ev->flags & TW_SEG_NOSYNC)
		flows_event(f, &client, &server,
			    from_client ? FLOW_CLIENT_TRUNCATED :
			    FLOW_SERVER_TRUNCATED, seg.ts_us);
}

static void state_event(struct flows *f, const struct tw_state_event *ev,
			int64_t offset_ns)
{
	struct endpoint client, server;
	struct segment fin = { .ts_us = to_us(ev->ts_ns, offset_ns) };

	bpf_key_endpoints(&ev->key, &client, &server);
	if (ev->flags & TW_SEG_LOST)
		flows_event(f, &client, &server, FLOW_DROPPED, fin.ts_us);
	switch (ev->newstate) {
	case TCP_ESTABLISHED:
		flows_open(f, &client, &server, ev->client_next,
			   ev->server_next, ev->cgroup_id, fin.ts_us);
		break;
	case TCP_FIN_WAIT1:
	case TCP_CLOSE_WAIT:
		/* Who closed first, from the socket itself: once the server
		 * has closed, the client's FIN is not seen on the wire hooks
		 * (a timewait socket takes it). */
		fin.flags = TCPF_FIN;
		if (ev->newstate == TCP_FIN_WAIT1) {
			fin.src = server;
			fin.dst = client;
			fin.dir = SEG_DIR_FROM_SERVER;
		} else {
			fin.src = client;
			fin.dst = server;
			fin.dir = SEG_DIR_FROM_CLIENT;
		}
		flows_segment(f, &fin);
		break;
	case TCP_CLOSE:
		flows_event(f, &client, &server, FLOW_GONE, fin.ts_us);
		break;
	}
}

void bpf_events_handle(struct flows *f, const void *data, size_t size,
		       int64_t mono_offset_ns, struct bpf_events_stats *st)
{
	uint32_t type;

	st->events++;
	if (size < sizeof(type)) {
		st->malformed++;
		return;
	}
	memcpy(&type, data, sizeof(type));
	if (type == TW_EV_SEGMENT &&
	    size >= offsetof(struct tw_segment_event, data))
		segment_event(f, data, size, mono_offset_ns, st);
	else if (type == TW_EV_STATE && size >= sizeof(struct tw_state_event))
		state_event(f, data, mono_offset_ns);
	else
		st->malformed++;
}
