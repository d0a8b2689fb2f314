// SPDX-License-Identifier: BSD-3-Clause
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "summary.h"

struct client_count {
	struct endpoint ip;	/* port zero */
	bool used;
	uint64_t failed;
	uint64_t reasons[REASON__COUNT];
};

#define MAX_LOSSES 16

struct summary {
	uint64_t outcomes[OUTCOME__COUNT];
	uint64_t reasons[REASON__COUNT];
	/* Alert codes behind server_alert and client_alert failures. */
	uint64_t alerts[2][256];
	uint64_t encrypted_alerts[2];
	struct client_count *clients;	/* open addressing */
	uint32_t nclients;
	uint64_t other_failed;		/* clients beyond the table */
	struct {
		const char *what;
		uint64_t n;
	} losses[MAX_LOSSES];
	int nlosses;
};

/* Twice the entries, so that probing stays short when full. */
#define TABLE_SIZE (2 * SUMMARY_MAX_CLIENTS)

struct summary *summary_new(void)
{
	struct summary *sm = calloc(1, sizeof(*sm));

	if (sm)
		sm->clients = calloc(TABLE_SIZE, sizeof(*sm->clients));
	if (sm && !sm->clients) {
		free(sm);
		return NULL;
	}
	return sm;
}

static struct client_count *client(struct summary *sm,
				   const struct endpoint *e)
{
	struct endpoint key = *e;
	uint32_t h = 2166136261u;

	key.port = 0;
	for (int i = 0; i < 16; i++)
		h = (h ^ key.addr[i]) * 16777619u;
	for (uint32_t i = 0; i < TABLE_SIZE; i++) {
		struct client_count *c = &sm->clients[(h + i) % TABLE_SIZE];

		if (!c->used) {
			if (sm->nclients >= SUMMARY_MAX_CLIENTS)
				return NULL;
			c->used = true;
			c->ip = key;
			sm->nclients++;
			return c;
		}
		if (memcmp(&c->ip, &key, sizeof(key)) == 0)
			return c;
	}
	return NULL;
}

void summary_add(struct summary *sm, const struct session *s)
{
	struct client_count *c;

	sm->outcomes[s->outcome]++;
	if (s->outcome != OUTCOME_FAILED)
		return;
	sm->reasons[s->reason]++;
	if (s->reason == REASON_ENCRYPTED_ALERT)
		sm->encrypted_alerts[s->alert.from]++;
	else if (s->reason == REASON_SERVER_ALERT ||
		 s->reason == REASON_CLIENT_ALERT)
		sm->alerts[s->alert.from][s->alert.code]++;
	c = client(sm, &s->client);
	if (!c) {
		sm->other_failed++;
		return;
	}
	c->failed++;
	c->reasons[s->reason]++;
}

void summary_loss(struct summary *sm, const char *what, uint64_t n)
{
	if (n && sm->nlosses < MAX_LOSSES) {
		sm->losses[sm->nlosses].what = what;
		sm->losses[sm->nlosses].n = n;
		sm->nlosses++;
	}
}

static int by_failed(const void *a, const void *b)
{
	const struct client_count *x = *(struct client_count *const *)a;
	const struct client_count *y = *(struct client_count *const *)b;

	if (x->failed != y->failed)
		return x->failed > y->failed ? -1 : 1;
	return memcmp(&x->ip, &y->ip, sizeof(x->ip));
}

/* "server_alert 3, client_closed 1" */
static void reason_mix(const uint64_t *reasons, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int r = 1; r < REASON__COUNT && off < len; r++)
		if (reasons[r])
			off += snprintf(buf + off, len - off, "%s%s %llu",
					off ? ", " : "", reason_name(r),
					(unsigned long long)reasons[r]);
}

/* "inappropriate_fallback 3, protocol_version 2" for one side's alerts */
static void alert_mix(const struct summary *sm, int from, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int a = 0; a < 256 && off < len; a++) {
		const char *name = tls_alert_name(a);

		if (!sm->alerts[from][a])
			continue;
		off += snprintf(buf + off, len - off, "%s%s %llu",
				off ? ", " : "", name ? name : "unassigned",
				(unsigned long long)sm->alerts[from][a]);
	}
}

void summary_print(const struct summary *sm, FILE *out)
{
	uint64_t total = 0;
	struct client_count **top;
	uint32_t n = 0;
	char mix[512], ip[64];

	for (int o = 1; o < OUTCOME__COUNT; o++)
		total += sm->outcomes[o];
	fprintf(out, "tlswatch: %llu connections", (unsigned long long)total);
	for (int o = 1; o < OUTCOME__COUNT; o++)
		if (sm->outcomes[o])
			fprintf(out, ", %llu %s",
				(unsigned long long)sm->outcomes[o],
				outcome_name(o));
	fputc('\n', out);

	if (sm->outcomes[OUTCOME_FAILED]) {
		fprintf(out, "failures by reason:\n");
		for (int r = 1; r < REASON__COUNT; r++) {
			if (!sm->reasons[r])
				continue;
			mix[0] = '\0';
			if (r == REASON_SERVER_ALERT)
				alert_mix(sm, SIDE_SERVER, mix, sizeof(mix));
			else if (r == REASON_CLIENT_ALERT)
				alert_mix(sm, SIDE_CLIENT, mix, sizeof(mix));
			else if (r == REASON_ENCRYPTED_ALERT)
				snprintf(mix, sizeof(mix), "from client %llu, from server %llu",
					 (unsigned long long)sm->encrypted_alerts[SIDE_CLIENT],
					 (unsigned long long)sm->encrypted_alerts[SIDE_SERVER]);
			fprintf(out, "  %-16s %6llu%s%s%s\n", reason_name(r),
				(unsigned long long)sm->reasons[r],
				mix[0] ? "  (" : "", mix, mix[0] ? ")" : "");
		}
	}

	top = calloc(sm->nclients ? sm->nclients : 1, sizeof(*top));
	if (!top)
		return;
	for (uint32_t i = 0; i < TABLE_SIZE; i++)
		if (sm->clients[i].used && sm->clients[i].failed)
			top[n++] = &sm->clients[i];
	qsort(top, n, sizeof(*top), by_failed);
	if (n)
		fprintf(out, "top clients by failures:\n");
	for (uint32_t i = 0; i < n && i < SUMMARY_TOP; i++) {
		reason_mix(top[i]->reasons, mix, sizeof(mix));
		fprintf(out, "  %-39s %6llu  %s\n",
			endpoint_ip(&top[i]->ip, ip, sizeof(ip)),
			(unsigned long long)top[i]->failed, mix);
	}
	if (n > SUMMARY_TOP)
		fprintf(out, "  (%u more client%s)\n", n - SUMMARY_TOP,
			n - SUMMARY_TOP == 1 ? "" : "s");
	if (sm->other_failed)
		fprintf(out, "  %llu failures from clients beyond the first %u\n",
			(unsigned long long)sm->other_failed,
			SUMMARY_MAX_CLIENTS);
	free(top);

	for (int i = 0; i < sm->nlosses; i++)
		fprintf(out, "%s: %llu\n", sm->losses[i].what,
			(unsigned long long)sm->losses[i].n);
}

void summary_free(struct summary *sm)
{
	if (!sm)
		return;
	free(sm->clients);
	free(sm);
}
