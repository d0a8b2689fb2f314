// SPDX-License-Identifier: BSD-3-Clause
/* Counting is done as outcomes arrive; ranking and the verdict are made
 * when a summary is printed. A failure counts as harmless when its client
 * recovered, or when its diagnosis says so (a scanner's probe); the rest
 * are real, and their clients are the ones locked out. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "report.h"
#include "hash.h"
#include "summary.h"

struct client_count {
	struct endpoint ip;	/* port zero */
	uint32_t failed, recovered, harmless;
	uint32_t nreal;		/* the sum of real[] */
	uint32_t reasons[REASON__COUNT];
	/* Failures neither recovered nor harmless, by diagnosis. */
	uint32_t real[DIAG__COUNT];
	/* Of the last real failure: */
	enum diag_code code;
	uint16_t port;
	uint16_t max_version, min_version;
	uint8_t alert;
};

struct fp_count {
	char ja4[40];
	uint32_t failed;
	uint16_t max_version;
	char sni[48];
};

#define MAX_LOSSES 24
/* Twice the entries, so that probing stays short when full. The tables
 * hold indices (plus one; zero is free) into dense arrays of the entries,
 * so that a summary reads only the entries in use, not the tables. */
#define TABLE_SIZE (2 * SUMMARY_MAX_CLIENTS)
#define FP_TABLE_SIZE (2 * SUMMARY_MAX_FINGERPRINTS)

struct summary {
	const struct profiles *profiles;
	uint32_t seed;
	uint64_t window_us;
	uint64_t first_ts;
	uint64_t outcomes[OUTCOME__COUNT];
	uint64_t reasons[REASON__COUNT];
	/* Alert codes behind server_alert and client_alert failures. */
	uint64_t alerts[2][256];
	uint64_t encrypted_alerts[2];
	uint64_t diag_failed[DIAG__COUNT], diag_recovered[DIAG__COUNT];
	uint64_t recovered, harmless;
	uint64_t pending;	/* fallback probes waiting for their retry */
	uint64_t pending_all;	/* failures in their recovery window */
	uint32_t *client_slots;		/* open addressing */
	struct client_count *clients;	/* nclients used */
	uint32_t nclients;
	uint64_t other_failed;		/* clients beyond the table */
	uint32_t *fp_slots;
	struct fp_count *fps;
	uint32_t nfps;
	uint64_t other_fp_failed;
	uint32_t *cipher_tally;	/* no_shared_cipher hellos, by cipher */
	struct {
		const char *what;
		uint64_t n;
	} losses[MAX_LOSSES];
	int nlosses;
};

struct summary *summary_new(const struct profiles *profiles,
			    uint64_t recovery_window_us)
{
	struct summary *sm = calloc(1, sizeof(*sm));

	if (!sm)
		return NULL;
	sm->profiles = profiles;
	sm->window_us = recovery_window_us;
	if (getrandom(&sm->seed, sizeof(sm->seed), GRND_NONBLOCK) !=
	    sizeof(sm->seed))
		sm->seed = 0x9e3779b9;
	sm->client_slots = calloc(TABLE_SIZE, sizeof(*sm->client_slots));
	sm->clients = calloc(SUMMARY_MAX_CLIENTS, sizeof(*sm->clients));
	sm->fp_slots = calloc(FP_TABLE_SIZE, sizeof(*sm->fp_slots));
	sm->fps = calloc(SUMMARY_MAX_FINGERPRINTS, sizeof(*sm->fps));
	sm->cipher_tally = calloc(65536, sizeof(*sm->cipher_tally));
	if (!sm->client_slots || !sm->clients || !sm->fp_slots || !sm->fps ||
	    !sm->cipher_tally) {
		summary_free(sm);
		return NULL;
	}
	return sm;
}

/* A lookup gives up after MAX_PROBE slots (the entry then counts among
 * "other"). */
#define MAX_PROBE 64

static struct client_count *client(struct summary *sm,
				   const struct endpoint *e, bool create)
{
	struct endpoint key = *e;
	uint32_t h;

	key.port = 0;
	h = seeded_hash(sm->seed, key.addr, 16);
	for (uint32_t i = 0; i < MAX_PROBE; i++) {
		uint32_t *slot = &sm->client_slots[(h + i) % TABLE_SIZE];
		struct client_count *c;

		if (!*slot) {
			if (!create || sm->nclients >= SUMMARY_MAX_CLIENTS)
				return NULL;
			c = &sm->clients[sm->nclients++];
			*slot = sm->nclients;
			c->ip = key;
			return c;
		}
		c = &sm->clients[*slot - 1];
		if (memcmp(&c->ip, &key, sizeof(key)) == 0)
			return c;
	}
	return NULL;
}

static void add_fingerprint(struct summary *sm, const struct session *s,
			    const char *ja4)
{
	uint32_t h = seeded_hash(sm->seed, ja4, strlen(ja4));

	for (uint32_t i = 0; i < MAX_PROBE; i++) {
		uint32_t *slot = &sm->fp_slots[(h + i) % FP_TABLE_SIZE];
		struct fp_count *f;

		if (!*slot) {
			if (sm->nfps >= SUMMARY_MAX_FINGERPRINTS)
				break;
			f = &sm->fps[sm->nfps++];
			*slot = sm->nfps;
			snprintf(f->ja4, sizeof(f->ja4), "%s", ja4);
		} else {
			f = &sm->fps[*slot - 1];
			if (strcmp(f->ja4, ja4) != 0)
				continue;
		}
		f->failed++;
		if (s->ch->version > f->max_version)
			f->max_version = s->ch->version;
		if (!f->sni[0] && s->ch->has_sni)
			printable(s->ch->sni, s->ch->sni_len, f->sni,
				  sizeof(f->sni));
		return;
	}
	sm->other_fp_failed++;
}

void summary_add(struct summary *sm, const struct session *s,
		 const struct diagnosis *d, const char *ja4)
{
	struct client_count *c;

	if (!sm->first_ts || s->first_ts < sm->first_ts)
		sm->first_ts = s->first_ts;
	sm->outcomes[s->outcome]++;
	if (s->outcome != OUTCOME_FAILED)
		return;
	sm->reasons[s->reason]++;
	sm->diag_failed[d->code]++;
	sm->pending_all++;
	if (d->harmless == HARM_YES)
		sm->harmless++;
	else if (d->harmless == HARM_UNKNOWN)
		sm->pending++;
	if (s->reason == REASON_ENCRYPTED_ALERT)
		sm->encrypted_alerts[s->alert.from]++;
	else if (s->reason == REASON_SERVER_ALERT ||
		 s->reason == REASON_CLIENT_ALERT)
		sm->alerts[s->alert.from][s->alert.code]++;
	if (d->code == DIAG_NO_SHARED_CIPHER && s->ch && s->ch->cipher_width == 2)
		for (int i = 0; i < s->ch->n_ciphers; i++)
			sm->cipher_tally[s->ch->ciphers[i] & 0xffff]++;
	if (ja4 && s->ch)
		add_fingerprint(sm, s, ja4);
	c = client(sm, &s->client, true);
	if (!c) {
		sm->other_failed++;
		return;
	}
	c->failed++;
	c->reasons[s->reason]++;
	if (d->harmless == HARM_YES) {
		c->harmless++;
		return;
	}
	c->real[d->code]++;
	c->nreal++;
	c->code = d->code;
	c->port = s->server.port;
	c->max_version = s->ch ? hello_max_version(s->ch) : 0;
	c->min_version = s->ch ? hello_min_version(s->ch) : 0;
	c->alert = s->alert.valid && !s->alert.encrypted ? s->alert.code : 0;
}

void summary_settled(struct summary *sm, const struct pending_failure *f,
		     bool recovered)
{
	struct client_count *c;

	if (f->harmless == HARM_UNKNOWN && sm->pending)
		sm->pending--;
	if (sm->pending_all)
		sm->pending_all--;
	if (!recovered)
		return;
	sm->recovered++;
	sm->diag_recovered[f->code]++;
	if (f->harmless == HARM_YES && sm->harmless)
		sm->harmless--;	/* counted once, as recovered */
	c = client(sm, &f->client, false);
	if (!c)
		return;
	c->recovered++;
	if (f->harmless == HARM_YES) {
		if (c->harmless)
			c->harmless--;
	} else if (c->real[f->code]) {
		c->real[f->code]--;
		c->nreal--;
	}
}

void summary_loss(struct summary *sm, const char *what, uint64_t n)
{
	for (int i = 0; i < sm->nlosses; i++)
		if (sm->losses[i].what == what) {
			sm->losses[i].n = n;
			return;
		}
	if (n && sm->nlosses < MAX_LOSSES) {
		sm->losses[sm->nlosses].what = what;
		sm->losses[sm->nlosses].n = n;
		sm->nlosses++;
	}
}

/* Rankings: most failures first, then by address (or fingerprint). Each
 * is a total order, so the first entries do not depend on the order in
 * which the entries were met, and only those first ones are kept. */
static int by_failed(const void *a, const void *b)
{
	const struct client_count *x = a, *y = b;

	if (x->failed != y->failed)
		return x->failed > y->failed ? -1 : 1;
	return memcmp(&x->ip, &y->ip, sizeof(x->ip));
}

static int by_real(const void *a, const void *b)
{
	const struct client_count *x = a, *y = b;

	if (x->nreal != y->nreal)
		return x->nreal > y->nreal ? -1 : 1;
	return memcmp(&x->ip, &y->ip, sizeof(x->ip));
}

static int by_fp(const void *a, const void *b)
{
	const struct fp_count *x = a, *y = b;

	if (x->failed != y->failed)
		return x->failed > y->failed ? -1 : 1;
	return strcmp(x->ja4, y->ja4);
}

/* Puts e among top[0..*k), the first SUMMARY_TOP entries under cmp met so
 * far, in order. */
static void top_insert(const void **top, uint32_t *k, const void *e,
		       int (*cmp)(const void *, const void *))
{
	uint32_t i = *k;

	if (i == SUMMARY_TOP) {
		if (cmp(e, top[i - 1]) >= 0)
			return;
		i--;
	} else {
		(*k)++;
	}
	for (; i > 0 && cmp(e, top[i - 1]) < 0; i--)
		top[i] = top[i - 1];
	top[i] = e;
}

/* The clients that failed, the first ones by failures in top[0..*k);
 * returns how many failed. */
static uint32_t top_clients(const struct summary *sm, const void **top,
			    uint32_t *k)
{
	uint32_t n = 0;

	*k = 0;
	for (uint32_t i = 0; i < sm->nclients; i++)
		if (sm->clients[i].failed) {
			n++;
			top_insert(top, k, &sm->clients[i], by_failed);
		}
	return n;
}

static uint32_t top_fps(const struct summary *sm, const void **top,
			uint32_t *k)
{
	*k = 0;
	for (uint32_t i = 0; i < sm->nfps; i++)
		top_insert(top, k, &sm->fps[i], by_fp);
	return sm->nfps;
}

/* "server_alert 3, client_closed 1" */
static void reason_mix(const uint32_t *reasons, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int r = 1; r < REASON__COUNT && off < len; r++)
		if (reasons[r])
			off += snprintf(buf + off, len - off, "%s%s %u",
					off ? ", " : "", reason_name(r),
					reasons[r]);
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

/* ---- the verdict ---- */

/* What keeps one client out, in a few words. */
static void client_why(const struct summary *sm, const struct client_count *c,
		       char *buf, size_t len)
{
	char v[8], range[32];
	const char *a = tls_alert_name(c->alert);

	profiles_versions(sm->profiles, c->port, range, sizeof(range));
	switch (c->code) {
	case DIAG_VERSION_TOO_LOW:
		snprintf(buf, len, "offers at most %s%s%s%s",
			 tls_version_str(c->max_version, v),
			 range[0] ? " (port has accepted " : "", range,
			 range[0] ? ")" : "");
		break;
	case DIAG_VERSION_TOO_HIGH:
		snprintf(buf, len, "offers nothing below %s%s%s%s",
			 tls_version_str(c->min_version, v),
			 range[0] ? " (port has accepted " : "", range,
			 range[0] ? ")" : "");
		break;
	case DIAG_NO_SHARED_CIPHER:
		snprintf(buf, len, "no shared cipher");
		break;
	case DIAG_NO_SHARED_GROUP:
		snprintf(buf, len, "no shared key exchange group");
		break;
	case DIAG_CLIENT_CERTIFICATE_REJECTED:
		snprintf(buf, len, "its client certificate is refused, or missing");
		break;
	case DIAG_FALLBACK_PROBE:
		snprintf(buf, len, "fallback probe not followed by a successful retry");
		break;
	case DIAG_CERTIFICATE_REJECTED:
		snprintf(buf, len, "rejects the server's certificate%s%s",
			 a && c->alert ? ": " : "", a && c->alert ? a : "");
		break;
	default:
		snprintf(buf, len, "%s", diag_code_name(c->code) ?
			 diag_code_name(c->code) : "failed");
		break;
	}
}

/* Appends to buf at *off. */
static void addf(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#include <stdarg.h>
static void addf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < len - *off ? (size_t)n : len - *off - 1;
}

/* Scanners (nmap ssl-enum-ciphers, certificate checkers) close after the
 * server's flight over and over; users' clients hardly ever do. */
#define SCANNER_PROBES 3

static bool scanner(const struct client_count *c)
{
	return c->harmless >= SCANNER_PROBES;
}

/* A client with real failures that is not a scanner. */
static bool locked_out(const struct client_count *c)
{
	return c->failed && c->nreal && !scanner(c);
}

/* Server changes that would let the locked-out clients in. Where clients
 * differ in the port they name, the one ranked first by real failures
 * (by_real) speaks for the highest minimum version, the one ranked last
 * for each highest version. */
static void changes(const struct summary *sm, char *buf, size_t len,
		    size_t *off)
{
	static const uint16_t vs[7] = {
		0, TLS_V_SSL2, TLS_V_SSL3, TLS_V_TLS10, TLS_V_TLS11,
		TLS_V_TLS12, TLS_V_TLS13,
	};
	uint32_t per[DIAG__COUNT] = { 0 };
	const struct client_count *high = NULL, *low[7] = { NULL };
	uint32_t low_n[7] = { 0 };
	uint16_t high_port = 0, high_v = 0;
	uint32_t best = 0, best_n = 0;
	bool any = false, learnt = false;
	char v[8];

	for (uint32_t i = 0; i < sm->nclients; i++) {
		const struct client_count *c = &sm->clients[i];
		uint16_t lo, hi;

		if (!locked_out(c))
			continue;
		per[c->code]++;
		if (c->code == DIAG_VERSION_TOO_HIGH && c->min_version &&
		    (!high || c->min_version > high->min_version ||
		     (c->min_version == high->min_version &&
		      by_real(c, high) < 0)))
			high = c;
		if (c->code == DIAG_VERSION_TOO_LOW)
			for (int k = 0; k < 7; k++)
				if (c->max_version == vs[k]) {
					low_n[k]++;
					if (!low[k] || by_real(c, low[k]) > 0)
						low[k] = c;
					break;
				}
		/* A cipher to name only where the port's own choices were
		 * seen: otherwise the server may already have it, and
		 * something else refused the hello. */
		if (c->code == DIAG_NO_SHARED_CIPHER && !learnt &&
		    profiles_version_range(sm->profiles, c->port, &lo, &hi))
			learnt = true;
	}
	if (high) {
		high_v = high->min_version;
		high_port = high->port;
	}
	/* The cipher most of them offer, among those a server may enable:
	 * advice to enable a NULL or export suite would be worse than none. */
	for (uint32_t k = 0; per[DIAG_NO_SHARED_CIPHER] && k < 65536; k++)
		if (sm->cipher_tally[k] > best_n && k != TLS_CIPHER_FALLBACK_SCSV &&
		    k != TLS_CIPHER_EMPTY_RENEGOTIATION_INFO_SCSV &&
		    !tls_is_grease(k) && !tls_cipher_weak(k)) {
			best = k;
			best_n = sm->cipher_tally[k];
		}
#define CHANGE(...) do { \
		addf(buf, len, off, "%s", any ? "; " : " What would let them in: "); \
		addf(buf, len, off, __VA_ARGS__); \
		any = true; \
	} while (0)
	/* By the highest version each offers, newest first: allowing it
	 * lets in those clients and every newer one. SSL 2.0 and 3.0 are
	 * broken beyond configuration: only the clients can change. */
	for (int k = 6; k >= 0; k--) {
		uint32_t cnt = low_n[k];

		if (!cnt)
			continue;
		if (vs[k] <= TLS_V_SSL3)
			CHANGE("nothing safe for the %u client%s offering at most %s: they must be upgraded",
			       cnt, cnt == 1 ? "" : "s", tls_version_str(vs[k], v));
		else
			CHANGE("allow %s on port %u (%u client%s; it weakens security, so upgrading them is better)",
			       tls_version_str(vs[k], v), low[k]->port, cnt,
			       cnt == 1 ? "" : "s");
	}
	if (per[DIAG_VERSION_TOO_HIGH])
		CHANGE("enable %s on port %u (%u client%s)",
		       tls_version_str(high_v, v), high_port,
		       per[DIAG_VERSION_TOO_HIGH],
		       per[DIAG_VERSION_TOO_HIGH] == 1 ? "" : "s");
	if (per[DIAG_NO_SHARED_CIPHER] && best_n && !learnt)
		CHANGE("compare the ciphers they offer with the server's list (%u client%s)",
		       per[DIAG_NO_SHARED_CIPHER],
		       per[DIAG_NO_SHARED_CIPHER] == 1 ? "" : "s");
	else if (per[DIAG_NO_SHARED_CIPHER] && best_n)
		CHANGE("enable a cipher they offer, such as 0x%04x (%u client%s)",
		       best, per[DIAG_NO_SHARED_CIPHER],
		       per[DIAG_NO_SHARED_CIPHER] == 1 ? "" : "s");
	else if (per[DIAG_NO_SHARED_CIPHER])
		CHANGE("nothing safe for the %u client%s offering only weak ciphers (NULL, export, anonymous, RC4 or DES): they must be upgraded",
		       per[DIAG_NO_SHARED_CIPHER],
		       per[DIAG_NO_SHARED_CIPHER] == 1 ? "" : "s");
	if (per[DIAG_NO_SHARED_GROUP])
		CHANGE("enable a key exchange group they offer (%u client%s)",
		       per[DIAG_NO_SHARED_GROUP],
		       per[DIAG_NO_SHARED_GROUP] == 1 ? "" : "s");
	if (per[DIAG_CERTIFICATE_REJECTED])
		CHANGE("serve a certificate they trust, valid and matching the name they ask for (%u client%s)",
		       per[DIAG_CERTIFICATE_REJECTED],
		       per[DIAG_CERTIFICATE_REJECTED] == 1 ? "" : "s");
	if (per[DIAG_CLIENT_CERTIFICATE_REJECTED])
		CHANGE("check which client certificates the server accepts, or make them optional (%u client%s)",
		       per[DIAG_CLIENT_CERTIFICATE_REJECTED],
		       per[DIAG_CLIENT_CERTIFICATE_REJECTED] == 1 ? "" : "s");
	if (per[DIAG_SNI_UNKNOWN])
		CHANGE("serve the names they ask for (%u client%s)",
		       per[DIAG_SNI_UNKNOWN],
		       per[DIAG_SNI_UNKNOWN] == 1 ? "" : "s");
	if (per[DIAG_ALPN_MISMATCH])
		CHANGE("accept an application protocol (ALPN) they offer (%u client%s)",
		       per[DIAG_ALPN_MISMATCH],
		       per[DIAG_ALPN_MISMATCH] == 1 ? "" : "s");
	if (per[DIAG_NOT_TLS])
		CHANGE("none on the TLS side for the %u that do not speak TLS",
		       per[DIAG_NOT_TLS]);
#undef CHANGE
	if (any)
		addf(buf, len, off, ".");
}

/* The verdict, in sentences; sep goes between client entries. */
static void verdict(const struct summary *sm, char *buf, size_t len,
		    const char *sep)
{
	uint64_t failed = sm->outcomes[OUTCOME_FAILED];
	uint64_t fb = sm->diag_recovered[DIAG_FALLBACK_PROBE];
	uint64_t harmless = sm->recovered + sm->harmless, real, scan = 0;
	const void *top[SUMMARY_TOP];
	uint32_t n = 0, nscan = 0, k = 0;
	size_t off = 0;
	char ip[64], why[128];

	buf[0] = '\0';
	if (!failed) {
		addf(buf, len, &off, "No failed handshakes.");
		return;
	}
	/* A client that also closed after the server's flight again and
	 * again is a scanner: its refused hellos probe what the server
	 * takes, they lock no user out. */
	for (uint32_t i = 0; i < sm->nclients; i++) {
		const struct client_count *c = &sm->clients[i];

		if (!c->failed || !c->nreal)
			continue;
		if (scanner(c)) {
			scan += c->nreal;
			nscan++;
		} else {
			n++;
			top_insert(top, &k, c, by_real);
		}
	}
	harmless += scan;
	real = failed > harmless ? failed - harmless : 0;
	addf(buf, len, &off, "%llu of %llu failures (%llu%%) are harmless",
	     (unsigned long long)harmless, (unsigned long long)failed,
	     (unsigned long long)(harmless * 100 / failed));
	if (harmless) {
		const char *s = ": ";

		if (fb) {
			addf(buf, len, &off, "%s%llu fallback probe%s retried successfully",
			     s, (unsigned long long)fb, fb == 1 ? "" : "s");
			s = ", ";
		}
		if (sm->recovered > fb) {
			addf(buf, len, &off, "%s%llu other failure%s followed by a successful handshake within %llu s",
			     s, (unsigned long long)(sm->recovered - fb),
			     sm->recovered - fb == 1 ? "" : "s",
			     (unsigned long long)(sm->window_us / 1000000));
			s = ", ";
		}
		if (sm->harmless) {
			addf(buf, len, &off, "%s%llu scanner-like probe%s", s,
			     (unsigned long long)sm->harmless,
			     sm->harmless == 1 ? "" : "s");
			s = ", ";
		}
		if (scan)
			addf(buf, len, &off, "%s%llu refused hello%s from %u scanner-like client%s",
			     s, (unsigned long long)scan, scan == 1 ? "" : "s",
			     nscan, nscan == 1 ? "" : "s");
	}
	addf(buf, len, &off, ".");
	if (sm->pending)
		addf(buf, len, &off, " %llu fallback probe%s still wait%s for a retry.",
		     (unsigned long long)sm->pending, sm->pending == 1 ? "" : "s",
		     sm->pending == 1 ? "s" : "");
	if (!real || !n) {
		if (real)
			addf(buf, len, &off, " %llu failure%s from clients not tracked one by one.",
			     (unsigned long long)real, real == 1 ? "" : "s");
		else
			addf(buf, len, &off, " No client is locked out.");
		return;
	}
	addf(buf, len, &off, " Locked out: %u client%s with %llu failure%s:",
	     n, n == 1 ? "" : "s", (unsigned long long)real,
	     real == 1 ? "" : "s");
	for (uint32_t i = 0; i < k; i++) {
		const struct client_count *c = top[i];

		client_why(sm, c, why, sizeof(why));
		addf(buf, len, &off, "%s%s%s (%u failure%s: %s)", i ? ";" : "", sep,
		     endpoint_ip(&c->ip, ip, sizeof(ip)),
		     c->nreal, c->nreal == 1 ? "" : "s", why);
	}
	if (n > SUMMARY_TOP)
		addf(buf, len, &off, "%sand %u more", sep, n - SUMMARY_TOP);
	addf(buf, len, &off, ".");
	changes(sm, buf, len, &off);
}

#define VERDICT_LEN 4096

void summary_print(const struct summary *sm, FILE *out)
{
	uint64_t total = 0;
	const void *top[SUMMARY_TOP];
	uint32_t n, k;
	char mix[512], ip[64], v[8], *text;

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
		fprintf(out, "failures by diagnosis:            failed  recovered\n");
		for (int c = 1; c < DIAG__COUNT; c++)
			if (sm->diag_failed[c])
				fprintf(out, "  %-30s %8llu %10llu\n",
					diag_code_name(c),
					(unsigned long long)sm->diag_failed[c],
					(unsigned long long)sm->diag_recovered[c]);
	}

	n = top_clients(sm, top, &k);
	if (n)
		fprintf(out, "top clients by failures:          failed  recovered\n");
	for (uint32_t i = 0; i < k; i++) {
		const struct client_count *c = top[i];

		reason_mix(c->reasons, mix, sizeof(mix));
		fprintf(out, "  %-30s %8u %10u  %s\n",
			endpoint_ip(&c->ip, ip, sizeof(ip)),
			c->failed, c->recovered, mix);
	}
	if (n > SUMMARY_TOP)
		fprintf(out, "  (%u more client%s)\n", n - SUMMARY_TOP,
			n - SUMMARY_TOP == 1 ? "" : "s");
	if (sm->other_failed)
		fprintf(out, "  %llu failures from clients beyond the first %u\n",
			(unsigned long long)sm->other_failed,
			SUMMARY_MAX_CLIENTS);

	if (top_fps(sm, top, &k))
		fprintf(out, "top failing fingerprints (JA4):     failed  offers\n");
	for (uint32_t i = 0; i < k; i++) {
		const struct fp_count *f = top[i];

		fprintf(out, "  %-36s %6u  up to %s%s%s\n", f->ja4,
			f->failed, tls_version_str(f->max_version, v),
			f->sni[0] ? ", SNI " : "", f->sni);
	}

	for (int i = 0; i < sm->nlosses; i++)
		if (sm->losses[i].n)
			fprintf(out, "%s: %llu\n", sm->losses[i].what,
				(unsigned long long)sm->losses[i].n);

	text = malloc(VERDICT_LEN);
	if (text) {
		verdict(sm, text, VERDICT_LEN, "\n    ");
		fprintf(out, "verdict: %s\n", text);
		free(text);
	}
}

void summary_json(const struct summary *sm, struct json *j, uint64_t ts,
		  bool final)
{
	const void *top[SUMMARY_TOP];
	uint32_t k;
	char t[40], ip[64], v[8], *text;
	uint64_t total = 0;

	for (int o = 1; o < OUTCOME__COUNT; o++)
		total += sm->outcomes[o];
	json_object_begin(j, NULL);
	json_string(j, "event", "summary");
	json_string(j, "time", format_time(ts, t, sizeof(t)));
	json_bool(j, "final", final);
	if (sm->first_ts)
		json_string(j, "since", format_time(sm->first_ts, t, sizeof(t)));
	json_uint(j, "connections", total);
	json_object_begin(j, "outcomes");
	for (int o = 1; o < OUTCOME__COUNT; o++)
		json_uint(j, outcome_name(o), sm->outcomes[o]);
	json_object_end(j);
	json_uint(j, "failed", sm->outcomes[OUTCOME_FAILED]);
	json_uint(j, "recovered", sm->recovered);
	json_uint(j, "harmless", sm->recovered + sm->harmless);
	/* Settled as not recovered: failures still in their window are
	 * pending, in neither count. */
	json_uint(j, "unrecovered", sm->outcomes[OUTCOME_FAILED] -
		  sm->recovered - sm->pending_all);
	json_uint(j, "pending", sm->pending_all);
	json_object_begin(j, "reasons");
	for (int r = 1; r < REASON__COUNT; r++)
		if (sm->reasons[r])
			json_uint(j, reason_name(r), sm->reasons[r]);
	json_object_end(j);
	json_object_begin(j, "diagnoses");
	for (int c = 1; c < DIAG__COUNT; c++) {
		if (!sm->diag_failed[c])
			continue;
		json_object_begin(j, diag_code_name(c));
		json_uint(j, "failed", sm->diag_failed[c]);
		json_uint(j, "recovered", sm->diag_recovered[c]);
		json_object_end(j);
	}
	json_object_end(j);

	top_clients(sm, top, &k);
	json_array_begin(j, "clients");
	for (uint32_t i = 0; i < k; i++) {
		const struct client_count *c = top[i];

		json_object_begin(j, NULL);
		json_string(j, "ip", endpoint_ip(&c->ip, ip, sizeof(ip)));
		json_uint(j, "failed", c->failed);
		json_uint(j, "recovered", c->recovered);
		json_object_begin(j, "reasons");
		for (int r = 1; r < REASON__COUNT; r++)
			if (c->reasons[r])
				json_uint(j, reason_name(r), c->reasons[r]);
		json_object_end(j);
		json_object_end(j);
	}
	json_array_end(j);

	top_fps(sm, top, &k);
	json_array_begin(j, "fingerprints");
	for (uint32_t i = 0; i < k; i++) {
		const struct fp_count *f = top[i];

		json_object_begin(j, NULL);
		json_string(j, "ja4", f->ja4);
		json_uint(j, "failed", f->failed);
		json_string(j, "version", tls_version_str(f->max_version, v));
		if (f->sni[0])
			json_string(j, "sni", f->sni);
		else
			json_null(j, "sni");
		json_object_end(j);
	}
	json_array_end(j);

	json_object_begin(j, "losses");
	for (int i = 0; i < sm->nlosses; i++)
		if (sm->losses[i].n)
			json_uint(j, sm->losses[i].what, sm->losses[i].n);
	json_object_end(j);
	text = malloc(VERDICT_LEN);
	if (text) {
		verdict(sm, text, VERDICT_LEN, " ");
		json_string(j, "verdict", text);
		free(text);
	}
	json_object_end(j);
}

void summary_free(struct summary *sm)
{
	if (!sm)
		return;
	free(sm->client_slots);
	free(sm->clients);
	free(sm->fp_slots);
	free(sm->fps);
	free(sm->cipher_tally);
	free(sm);
}
