// SPDX-License-Identifier: BSD-3-Clause
/* Series live in one open-addressing table keyed by family and the
 * rendered label values; histograms and the top clients have tables of
 * their own. Rendering walks the families in a fixed order, so that the
 * output is stable from one scrape to the next. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "hash.h"
#include "metrics.h"
#include "report.h"

enum family {
	F_BUILD_INFO,
	F_HANDSHAKES,
	F_FAILURES,
	F_DIAGNOSES,
	F_RECOVERED,
	F_UNRECOVERED,
	F_FAILED_VERSIONS,
	F_ESTABLISHED_VERSIONS,
	F_DURATION,
	F_LOST,
	F_IN_FLIGHT,
	F_BPF_SECONDS,
	F_BPF_RUNS,
	F_TOP_CLIENTS,
	F_TOP_WINDOW,
	F_SERIES_DROPPED,
	F__COUNT,
};

static const struct {
	const char *name, *type, *help;
} families[F__COUNT] = {
	[F_BUILD_INFO] = { "tlswatch_build_info", "gauge",
		"tlswatch's version, always 1." },
	[F_HANDSHAKES] = { "tlswatch_handshakes_total", "counter",
		"Connections to watched ports by outcome and by the service owning the server socket." },
	[F_FAILURES] = { "tlswatch_handshake_failures_total", "counter",
		"Failed handshakes by reason and deciding alert." },
	[F_DIAGNOSES] = { "tlswatch_handshake_diagnoses_total", "counter",
		"Failed handshakes by diagnosis code." },
	[F_RECOVERED] = { "tlswatch_failures_recovered_total", "counter",
		"Failures followed within the recovery window by a handshake of the same client IP and SNI." },
	[F_UNRECOVERED] = { "tlswatch_failures_unrecovered_total", "counter",
		"Failures whose recovery window passed without such a handshake." },
	[F_FAILED_VERSIONS] = { "tlswatch_failed_client_versions_total", "counter",
		"Failed handshakes by the highest version the client offered." },
	[F_ESTABLISHED_VERSIONS] = { "tlswatch_established_versions_total", "counter",
		"Established handshakes by negotiated version." },
	[F_DURATION] = { "tlswatch_handshake_duration_seconds", "histogram",
		"Time from a connection's first packet to its established handshake." },
	[F_LOST] = { "tlswatch_events_lost_total", "counter",
		"Capture events, connections or bytes lost, by cause." },
	[F_IN_FLIGHT] = { "tlswatch_connections_in_flight", "gauge",
		"Connections followed whose outcome is not reported yet." },
	[F_BPF_SECONDS] = { "tlswatch_bpf_run_seconds_total", "counter",
		"Time the kernel spent in each BPF program (with sysctl kernel.bpf_stats_enabled=1)." },
	[F_BPF_RUNS] = { "tlswatch_bpf_runs_total", "counter",
		"Runs of each BPF program (with sysctl kernel.bpf_stats_enabled=1)." },
	[F_TOP_CLIENTS] = { "tlswatch_top_client_failures", "gauge",
		"Failures of the clients that failed most in the last whole window (see tlswatch_top_client_window_seconds)." },
	[F_TOP_WINDOW] = { "tlswatch_top_client_window_seconds", "gauge",
		"Length of the window of tlswatch_top_client_failures." },
	[F_SERIES_DROPPED] = { "tlswatch_metrics_series_dropped_total", "counter",
		"Updates not counted because the series table was full." },
};

/* Durations, seconds. */
static const double buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

#define LABELS_LEN 224
#define SLOTS (2 * METRICS_MAX_SERIES)
#define TOP_SLOTS 32768
#define TOP_MAX 16384

struct series {
	uint8_t used;
	uint8_t family;
	char labels[LABELS_LEN];	/* rendered: port="443",outcome="failed" */
	uint64_t value;
};

struct hist {
	uint16_t port;
	bool used;
	uint64_t counts[NBUCKETS];	/* per bucket, not cumulative */
	uint64_t count;
	uint64_t sum_us;
};

struct top {
	struct endpoint ip;	/* port zero */
	uint32_t failed;
};

struct metrics {
	uint32_t seed;
	uint32_t top_n;
	char version[32];
	struct series *series;
	uint32_t nseries;
	uint64_t dropped;
	struct hist hist[METRICS_MAX_PORTS];
	uint64_t in_flight;
	/* Ports and owners seen, to bound labels. */
	uint16_t ports[METRICS_MAX_PORTS];
	uint32_t nports;
	char owners[METRICS_MAX_OWNERS][64];
	uint32_t nowners;
	/* Top clients: counting in the current window, and the gauges of
	 * the last whole one. */
	struct top *counting;
	uint32_t ncounting;
	uint64_t window_start;
	struct top *shown;
	uint32_t nshown;
	bool first_window;
};

struct metrics *metrics_new(uint32_t top_clients, const char *version)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->series = calloc(SLOTS, sizeof(*m->series));
	m->counting = calloc(TOP_SLOTS, sizeof(*m->counting));
	m->shown = calloc(top_clients ? top_clients : 1, sizeof(*m->shown));
	if (!m->series || !m->counting || !m->shown) {
		metrics_free(m);
		return NULL;
	}
	m->top_n = top_clients;
	m->first_window = true;
	snprintf(m->version, sizeof(m->version), "%s", version);
	if (getrandom(&m->seed, sizeof(m->seed), GRND_NONBLOCK) != sizeof(m->seed))
		m->seed = 0x27d4eb2f;
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->series);
	free(m->counting);
	free(m->shown);
	free(m);
}


/* A label value, escaped as the text format wants. */
static size_t escape(char *out, size_t len, const char *v)
{
	size_t o = 0;

	for (; *v && o + 3 < len; v++) {
		if (*v == '\\' || *v == '"') {
			out[o++] = '\\';
			out[o++] = *v;
		} else if (*v == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *v;
		}
	}
	out[o] = '\0';
	return o;
}

/* Labels from name/value pairs, NULL-ended. */
static void labels(char *out, size_t len, ...)
{
	va_list ap;
	const char *k;
	size_t o = 0;

	out[0] = '\0';
	va_start(ap, len);
	while ((k = va_arg(ap, const char *)) && o + 8 < len) {
		const char *v = va_arg(ap, const char *);

		o += snprintf(out + o, len - o, "%s%s=\"", o ? "," : "", k);
		if (o >= len)
			break;
		o += escape(out + o, len - o, v ? v : "");
		if (o + 2 < len) {
			out[o++] = '"';
			out[o] = '\0';
		}
	}
	va_end(ap);
}

static struct series *get(struct metrics *m, enum family f, const char *lab)
{
	uint32_t h = seeded_hash(m->seed ^ f, lab, strlen(lab));

	for (uint32_t i = 0; i < 64; i++) {
		struct series *s = &m->series[(h + i) % SLOTS];

		if (!s->used) {
			if (m->nseries >= METRICS_MAX_SERIES)
				break;
			s->used = 1;
			s->family = f;
			snprintf(s->labels, sizeof(s->labels), "%s", lab);
			m->nseries++;
			return s;
		}
		if (s->family == f && strcmp(s->labels, lab) == 0)
			return s;
	}
	m->dropped++;
	return NULL;
}

static void add(struct metrics *m, enum family f, const char *lab, uint64_t n)
{
	struct series *s = get(m, f, lab);

	if (s)
		s->value += n;
}

static void set(struct metrics *m, enum family f, const char *lab, uint64_t v)
{
	struct series *s = get(m, f, lab);

	if (s)
		s->value = v;
}

/* The port as a label, or "other" past the limit. */
static const char *port_label(struct metrics *m, uint16_t port, char buf[8])
{
	for (uint32_t i = 0; i < m->nports; i++)
		if (m->ports[i] == port)
			goto found;
	if (m->nports >= METRICS_MAX_PORTS)
		return "other";
	m->ports[m->nports++] = port;
found:
	snprintf(buf, 8, "%u", port);
	return buf;
}

static const char *owner_label(struct metrics *m, const char *owner)
{
	/* Containers come and go with every rollout: as a label, only
	 * their runtime, so that series do not churn. */
	static const char *const runtimes[][2] = {
		{ "docker-", "docker" },
		{ "cri-containerd-", "containerd" },
		{ "crio-", "cri-o" },
		{ "libpod-", "podman" },
	};

	if (!owner || !*owner)
		return "unknown";
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		if (strncmp(owner, runtimes[i][0], strlen(runtimes[i][0])) == 0)
			return runtimes[i][1];
	for (uint32_t i = 0; i < m->nowners; i++)
		if (strcmp(m->owners[i], owner) == 0)
			return m->owners[i];
	if (m->nowners >= METRICS_MAX_OWNERS)
		return "other";
	snprintf(m->owners[m->nowners], sizeof(m->owners[0]), "%s", owner);
	return m->owners[m->nowners++];
}

static struct hist *hist_for(struct metrics *m, uint16_t port)
{
	struct hist *free_slot = NULL;

	for (int i = 0; i < METRICS_MAX_PORTS; i++) {
		if (m->hist[i].used && m->hist[i].port == port)
			return &m->hist[i];
		if (!m->hist[i].used && !free_slot)
			free_slot = &m->hist[i];
	}
	if (free_slot) {
		free_slot->used = true;
		free_slot->port = port;
	}
	return free_slot;
}

static void top_count(struct metrics *m, const struct endpoint *client)
{
	struct endpoint key = *client;
	uint32_t h;

	if (!m->top_n)
		return;
	key.port = 0;
	h = seeded_hash(m->seed, &key, sizeof(key));
	for (uint32_t i = 0; i < 64; i++) {
		struct top *t = &m->counting[(h + i) % TOP_SLOTS];

		if (!t->failed) {
			if (m->ncounting >= TOP_MAX)
				return;
			t->ip = key;
			t->failed = 1;
			m->ncounting++;
			return;
		}
		if (memcmp(&t->ip, &key, sizeof(key)) == 0) {
			t->failed++;
			return;
		}
	}
}

void metrics_connection(struct metrics *m, const struct session *s,
			const struct diagnosis *d, const char *owner)
{
	char lab[LABELS_LEN], pb[8], v[8];
	const char *port = port_label(m, s->server.port, pb);

	labels(lab, sizeof(lab), "port", port, "owner", owner_label(m, owner),
	       "outcome", outcome_name(s->outcome), NULL);
	add(m, F_HANDSHAKES, lab, 1);
	if (s->outcome == OUTCOME_ESTABLISHED) {
		struct hist *h = hist_for(m, s->server.port);
		uint64_t us = s->decided_ts - s->first_ts;

		if (s->has_sh) {
			labels(lab, sizeof(lab), "port", port, "version",
			       tls_version_str(s->sh.version, v), NULL);
			add(m, F_ESTABLISHED_VERSIONS, lab, 1);
		}
		if (h) {
			size_t b = 0;

			while (b < NBUCKETS && us > buckets[b] * 1e6)
				b++;
			if (b < NBUCKETS)
				h->counts[b]++;
			h->count++;
			h->sum_us += us;
		}
		return;
	}
	if (s->outcome != OUTCOME_FAILED)
		return;
	labels(lab, sizeof(lab), "port", port, "reason", reason_name(s->reason),
	       "alert", !s->alert.valid ? "none" : s->alert.encrypted ?
	       "encrypted" : tls_alert_name(s->alert.code) ?
	       tls_alert_name(s->alert.code) : "unassigned", NULL);
	add(m, F_FAILURES, lab, 1);
	labels(lab, sizeof(lab), "port", port, "code", diag_code_name(d->code),
	       NULL);
	add(m, F_DIAGNOSES, lab, 1);
	if (s->ch) {
		labels(lab, sizeof(lab), "port", port, "version",
		       tls_version_str(s->ch->version, v), NULL);
		add(m, F_FAILED_VERSIONS, lab, 1);
	}
	top_count(m, &s->client);
}

void metrics_settled(struct metrics *m, const struct pending_failure *f,
		     bool recovered)
{
	char lab[LABELS_LEN], pb[8];

	labels(lab, sizeof(lab), "port", port_label(m, f->server_port, pb), NULL);
	add(m, recovered ? F_RECOVERED : F_UNRECOVERED, lab, 1);
}

void metrics_port(struct metrics *m, uint16_t port)
{
	char lab[LABELS_LEN], pb[8];

	labels(lab, sizeof(lab), "port", port_label(m, port, pb), NULL);
	add(m, F_RECOVERED, lab, 0);
	add(m, F_UNRECOVERED, lab, 0);
}

void metrics_loss(struct metrics *m, const char *cause, uint64_t total)
{
	char lab[LABELS_LEN];

	labels(lab, sizeof(lab), "cause", cause, NULL);
	set(m, F_LOST, lab, total);
}

void metrics_in_flight(struct metrics *m, uint64_t n)
{
	m->in_flight = n;
}

void metrics_bpf(struct metrics *m, const char *program, uint64_t run_ns,
		 uint64_t runs)
{
	char lab[LABELS_LEN];

	labels(lab, sizeof(lab), "program", program, NULL);
	set(m, F_BPF_SECONDS, lab, run_ns);
	set(m, F_BPF_RUNS, lab, runs);
}

static int by_failed(const void *a, const void *b)
{
	const struct top *x = a, *y = b;

	if (x->failed != y->failed)
		return x->failed > y->failed ? -1 : 1;
	return memcmp(&x->ip, &y->ip, sizeof(x->ip));
}

/* The top of the counting table into dst (at most n). */
static uint32_t top_of(const struct metrics *m, struct top *dst, uint32_t n)
{
	struct top *all = malloc((m->ncounting ? m->ncounting : 1) * sizeof(*all));
	uint32_t k = 0;

	if (!all)
		return 0;
	for (uint32_t i = 0; i < TOP_SLOTS; i++)
		if (m->counting[i].failed)
			all[k++] = m->counting[i];
	qsort(all, k, sizeof(*all), by_failed);
	if (k > n)
		k = n;
	memcpy(dst, all, k * sizeof(*all));
	free(all);
	return k;
}

/* Close the window if its time has come. */
static void top_roll(struct metrics *m, uint64_t now_us)
{
	if (!m->window_start)
		m->window_start = now_us;
	if (now_us < m->window_start + METRICS_TOP_WINDOW_US) {
		/* Until a window has passed, the running count. */
		if (m->first_window)
			m->nshown = top_of(m, m->shown, m->top_n);
		return;
	}
	m->nshown = top_of(m, m->shown, m->top_n);
	memset(m->counting, 0, TOP_SLOTS * sizeof(*m->counting));
	m->ncounting = 0;
	m->window_start = now_us;
	m->first_window = false;
}

struct out {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += n;
			return;
		}
		char *b = realloc(o->buf, o->cap * 2 + n);

		if (!b) {
			o->failed = true;
			return;
		}
		o->buf = b;
		o->cap = o->cap * 2 + n;
	}
}

static void header(struct out *o, enum family f)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", families[f].name,
	    families[f].help, families[f].name, families[f].type);
}

static void table_family(struct out *o, const struct metrics *m, enum family f)
{
	header(o, f);
	for (uint32_t i = 0; i < SLOTS; i++) {
		const struct series *s = &m->series[i];

		if (!s->used || s->family != f)
			continue;
		if (f == F_BPF_SECONDS)
			put(o, "%s{%s} %llu.%09llu\n", families[f].name, s->labels,
			    (unsigned long long)(s->value / 1000000000),
			    (unsigned long long)(s->value % 1000000000));
		else
			put(o, "%s{%s} %llu\n", families[f].name, s->labels,
			    (unsigned long long)s->value);
	}
}

char *metrics_render(struct metrics *m, uint64_t now_us, size_t *len)
{
	struct out o = { .cap = 65536 };
	char lab[LABELS_LEN], ip[64];

	o.buf = malloc(o.cap);
	if (!o.buf)
		return NULL;
	top_roll(m, now_us);
	header(&o, F_BUILD_INFO);
	labels(lab, sizeof(lab), "version", m->version, NULL);
	put(&o, "%s{%s} 1\n", families[F_BUILD_INFO].name, lab);
	for (enum family f = F_HANDSHAKES; f <= F_ESTABLISHED_VERSIONS; f++)
		table_family(&o, m, f);
	header(&o, F_DURATION);
	for (int i = 0; i < METRICS_MAX_PORTS; i++) {
		const struct hist *h = &m->hist[i];
		uint64_t cum = 0;

		if (!h->used)
			continue;
		for (size_t b = 0; b < NBUCKETS; b++) {
			cum += h->counts[b];
			put(&o, "%s_bucket{port=\"%u\",le=\"%g\"} %llu\n",
			    families[F_DURATION].name, h->port, buckets[b],
			    (unsigned long long)cum);
		}
		put(&o, "%s_bucket{port=\"%u\",le=\"+Inf\"} %llu\n",
		    families[F_DURATION].name, h->port,
		    (unsigned long long)h->count);
		put(&o, "%s_sum{port=\"%u\"} %llu.%06llu\n",
		    families[F_DURATION].name, h->port,
		    (unsigned long long)(h->sum_us / 1000000),
		    (unsigned long long)(h->sum_us % 1000000));
		put(&o, "%s_count{port=\"%u\"} %llu\n", families[F_DURATION].name,
		    h->port, (unsigned long long)h->count);
	}
	table_family(&o, m, F_LOST);
	header(&o, F_IN_FLIGHT);
	put(&o, "%s %llu\n", families[F_IN_FLIGHT].name,
	    (unsigned long long)m->in_flight);
	table_family(&o, m, F_BPF_SECONDS);
	table_family(&o, m, F_BPF_RUNS);
	header(&o, F_TOP_CLIENTS);
	for (uint32_t i = 0; i < m->nshown; i++) {
		labels(lab, sizeof(lab), "client",
		       endpoint_ip(&m->shown[i].ip, ip, sizeof(ip)), NULL);
		put(&o, "%s{%s} %u\n", families[F_TOP_CLIENTS].name, lab,
		    m->shown[i].failed);
	}
	header(&o, F_TOP_WINDOW);
	put(&o, "%s %llu\n", families[F_TOP_WINDOW].name,
	    (unsigned long long)(METRICS_TOP_WINDOW_US / 1000000));
	header(&o, F_SERIES_DROPPED);
	put(&o, "%s %llu\n", families[F_SERIES_DROPPED].name,
	    (unsigned long long)m->dropped);
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}

int metrics_write_file(const char *path, const char *text, size_t len)
{
	char tmp[4096];
	int fd, err = 0;
	size_t off = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		off += n;
	}
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
