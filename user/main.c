// SPDX-License-Identifier: BSD-3-Clause
/* tlswatch: report failed TLS handshakes, per client, and why. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "../bpf/tlswatch.h"
#include "bpf_events.h"
#include "cli.h"
#include "flows.h"
#include "json.h"
#include "loader.h"
#include "pcap_src.h"
#include "report.h"
#include "summary.h"

#define TLSWATCH_VERSION "0.1.0"
/* How late an event may be read after it was made, in normal running. */
#define LIVE_MARGIN_US 200000

static volatile sig_atomic_t exiting;

static struct env {
	uint8_t ports[PORT_MAP_BYTES];
	bool ports_given;
	const char *read_path;
	uint64_t duration_us;
	bool json;
	bool all;
	bool verbose;
	uint64_t timeout_us;
	struct cidr_list exclude;
	const char *ports_arg;
	const char *cgroup;
	bool check;
} env = {
	.timeout_us = 10000000,
	.ports_arg = "443",
};

struct run {
	struct loader *loader;	/* live capture, or NULL */
	struct bpf_events_stats bpf;
	int64_t mono_offset_ns;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	struct flows *flows;
	struct summary *summary;
	struct json json;
	uint64_t first_ts;
	bool write_failed;
};

static const char usage[] =
"Usage: tlswatch [OPTIONS]\n"
"Report failed TLS handshakes: who failed, where and why.\n"
"\n"
"  -p, --port LIST            server ports: 443, 443,8443, 8000-8100 (default\n"
"                             443; with --read, every connection that opens\n"
"                             with a ClientHello)\n"
"  -r, --read FILE            decode a pcap or pcapng file (- for stdin)\n"
"                             instead of capturing live\n"
"  -d, --duration SECS        stop after SECS seconds (with --read: of capture\n"
"                             time)\n"
"  -j, --json                 JSON Lines on stdout, one event per line\n"
"  -a, --all                  report every connection, not only failures\n"
"      --handshake-timeout SECS  a handshake unfinished after SECS is a\n"
"                             timeout failure (default 10)\n"
"      --exclude CIDRS        ignore these clients: 10.0.0.0/8,2001:db8::/32\n"
"      --cgroup PATH          cgroup v2 directory to attach to (default: the\n"
"                             cgroup v2 root)\n"
"      --check                say whether live capture can work here\n"
"  -v, --verbose              more detail on stderr\n"
"  -V, --version              print the version and exit\n"
"  -h, --help                 print this help and exit\n"
"\n"
"Exit status: 0 done, 1 runtime failure, 2 bad usage.\n";

enum { OPT_TIMEOUT = 256, OPT_EXCLUDE, OPT_CGROUP, OPT_CHECK };

static const struct option long_opts[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "read", required_argument, NULL, 'r' },
	{ "duration", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ "all", no_argument, NULL, 'a' },
	{ "handshake-timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int usage_error(const char *msg)
{
	fprintf(stderr, "tlswatch: %s (see tlswatch --help)\n", msg);
	return 2;
}

/* 0 to go on, or the exit status. */
static int parse_args(int argc, char **argv)
{
	char err[256];
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:r:d:javVh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!parse_ports(optarg, env.ports, err, sizeof(err)))
				return usage_error(err);
			env.ports_given = true;
			env.ports_arg = optarg;
			break;
		case 'r':
			env.read_path = optarg;
			break;
		case 'd':
			if (!parse_seconds(optarg, &env.duration_us, err, sizeof(err)))
				return usage_error(err);
			break;
		case 'j':
			env.json = true;
			break;
		case 'a':
			env.all = true;
			break;
		case OPT_TIMEOUT:
			if (!parse_seconds(optarg, &env.timeout_us, err, sizeof(err)))
				return usage_error(err);
			break;
		case OPT_EXCLUDE:
			if (!parse_cidrs(optarg, &env.exclude, err, sizeof(err)))
				return usage_error(err);
			break;
		case OPT_CGROUP:
			env.cgroup = optarg;
			break;
		case OPT_CHECK:
			env.check = true;
			break;
		case 'v':
			env.verbose = true;
			break;
		case 'V':
			printf("tlswatch %s\n", TLSWATCH_VERSION);
			exit(0);
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case ':':
			snprintf(err, sizeof(err), "option '%s' needs a value",
				 argv[optind - 1]);
			return usage_error(err);
		default:
			snprintf(err, sizeof(err), "unknown option '%s'",
				 argv[optind - 1]);
			return usage_error(err);
		}
	}
	if (optind < argc) {
		snprintf(err, sizeof(err), "unexpected argument '%s'", argv[optind]);
		return usage_error(err);
	}
	return 0;
}

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

static bool ignore_client(void *ctx, const struct endpoint *client)
{
	(void)ctx;
	return cidr_match(&env.exclude, client);
}

static void on_report(void *ctx, const struct session *s)
{
	struct run *run = ctx;
	char line[512];

	/* A socket already gone needs no marking: its kernel state went with
	 * it, and a mark would outlive it into the next connection. */
	if (run->loader && !s->gone)
		loader_decided(run->loader, &s->client, &s->server);
	summary_add(run->summary, s);
	if (!env.all && !report_by_default(s))
		return;
	if (env.json) {
		report_json(&run->json, s);
		if (!json_flush_line(&run->json, stdout))
			run->write_failed = true;
	} else {
		report_text(s, line, sizeof(line));
		if (puts(line) == EOF)
			run->write_failed = true;
	}
}

static int on_segment(void *ctx, const struct segment *seg)
{
	struct run *run = ctx;

	if (exiting || run->write_failed)
		return 1;
	if (!run->first_ts)
		run->first_ts = seg->ts_us;
	if (env.duration_us && seg->ts_us > run->first_ts + env.duration_us) {
		flows_advance(run->flows, run->first_ts + env.duration_us);
		return 1;
	}
	return flows_segment(run->flows, seg);
}

static void on_bpf_event(void *ctx, const void *data, size_t size)
{
	struct run *run = ctx;

	bpf_events_handle(run->flows, data, size, run->mono_offset_ns,
			  &run->bpf);
}

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Live capture until a signal or --duration: 0, or 1 with a reason. */
static int run_live(struct run *run, char *err, size_t errlen)
{
	struct loader_opts lo = {
		.ports = env.ports,
		.cgroup = env.cgroup,
		.verbose = env.verbose,
		.on_event = on_bpf_event,
		.ctx = run,
	};
	uint64_t start, now;
	int rc;

	run->mono_offset_ns = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
	run->loader = loader_open(&lo, err, errlen);
	if (!run->loader)
		return 1;
	fprintf(stderr, "tlswatch: watching TCP port%s %s on cgroup %s\n",
		strpbrk(env.ports_arg, ",-") ? "s" : "", env.ports_arg,
		loader_cgroup(run->loader));
	start = now_ns(CLOCK_MONOTONIC);
	while (!exiting && !run->write_failed) {
		rc = loader_poll(run->loader, 100);
		if (rc < 0 && rc != -EINTR) {
			snprintf(err, errlen, "reading the ring buffer: %s",
				 strerror(-rc));
			return 1;
		}
		now = now_ns(CLOCK_MONOTONIC);
		/* Events carry their own time and move the clock as they are
		 * read. The wall clock may move it further only once the ring
		 * buffer is empty: after a pause (SIGSTOP, a debugger, a
		 * frozen container) or while behind, deadlines must not pass
		 * before the events of the connections they belong to. The
		 * margin covers events made just before the poll returned. */
		if (rc == 0)
			flows_advance(run->flows, (now + run->mono_offset_ns) / 1000 -
				      LIVE_MARGIN_US);
		if (env.duration_us && now - start >= env.duration_us * 1000)
			break;
		/* Lines as they happen, for people and for pipes alike. */
		fflush(stdout);
	}
	return 0;
}

static void show_losses(struct run *run, const struct pcap_src_stats *ps)
{
	const struct flows_stats *fs = flows_stats(run->flows);
	struct summary *sm = run->summary;
	uint64_t k[TW_STAT__COUNT] = {};

	if (run->loader) {
		loader_stats(run->loader, k, TW_STAT__COUNT);
		summary_loss(sm, "events lost: ring buffer full",
			     k[TW_STAT_RINGBUF_FULL]);
		summary_loss(sm, "connections not followed: kernel flow table full",
			     k[TW_STAT_FLOW_FULL]);
		summary_loss(sm, "directions whose records the kernel lost track of",
			     k[TW_STAT_NOSYNC]);
		summary_loss(sm, "ring buffer events that did not parse",
			     run->bpf.malformed);
	}

	summary_loss(sm, "packets that did not parse", ps->malformed);
	summary_loss(sm, "segments cut short by the capture's snaplen",
		     ps->truncated);
	summary_loss(sm, "connections pushed out of the flow table",
		     fs->evicted);
	summary_loss(sm, "bytes missing from streams (gaps)",
		     fs->stream.gap_bytes);
	summary_loss(sm, "holes given up on to bound memory",
		     fs->stream.forced_gaps);
	summary_loss(sm, "retransmitted bytes that differed (first copy kept)",
		     fs->stream.conflicts);
	summary_loss(sm, "segments too far ahead to be plausible",
		     fs->stream.ignored);
	summary_loss(sm, "segments of connections whose start never came",
		     fs->orphans_dropped);
	if (env.verbose) {
		summary_loss(sm, "kernel segment events", k[TW_STAT_SEGMENTS]);
		summary_loss(sm, "segments past a hole, sent whole",
			     k[TW_STAT_AHEAD]);
		summary_loss(sm, "packets read", ps->packets);
		summary_loss(sm, "tcp segments", ps->tcp);
		summary_loss(sm, "connections followed", fs->flows);
		summary_loss(sm, "segments of connections begun before the capture",
			     fs->midstream);
		summary_loss(sm, "connections not opening with a ClientHello",
			     fs->not_hello);
	}
}

int main(int argc, char **argv)
{
	struct flows_config cfg = {};
	struct pcap_src_stats ps = {};
	struct run run = {};
	char err[512] = "";
	int rc;

	rc = parse_args(argc, argv);
	if (rc)
		return rc;
	if (!env.ports_given && !env.read_path)
		parse_ports(env.ports_arg, env.ports, err, sizeof(err));
	if (env.check) {
		struct loader_opts lo = {
			.ports = env.ports,
			.cgroup = env.cgroup,
			.verbose = env.verbose,
		};

		return loader_check(&lo, stdout);
	}
	if (env.read_path && env.cgroup)
		return usage_error("--cgroup is for live capture, not --read");

	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);
	signal(SIGPIPE, SIG_IGN);

	cfg.ports = env.ports_given ? env.ports : NULL;
	cfg.timeout_us = env.timeout_us;
	cfg.ignore = env.exclude.n ? ignore_client : NULL;
	cfg.report = on_report;
	cfg.ctx = &run;
	run.flows = flows_new(&cfg);
	run.summary = summary_new();
	json_init(&run.json);
	if (!run.flows || !run.summary) {
		fprintf(stderr, "tlswatch: out of memory\n");
		rc = 1;
		goto cleanup;
	}

	if (env.read_path) {
		rc = pcap_src_run(env.read_path, on_segment, &run, &ps, err,
				  sizeof(err));
	} else {
		rc = run_live(&run, err, sizeof(err));
		if (rc && !run.loader) {
			fprintf(stderr, "tlswatch: %s\n", err);
			goto cleanup;
		}
		rc = rc ? -1 : 0;
	}
	/* Whatever was read is reported, even when reading failed part way. */
	flows_finish(run.flows);
	fflush(stdout);
	/* A file that could not be opened gets its error line alone. */
	if (rc >= 0 || ps.packets || run.loader) {
		show_losses(&run, &ps);
		summary_print(run.summary, stderr);
	}
	if (rc < 0) {
		fprintf(stderr, "tlswatch: %s\n", err);
		rc = 1;
	} else if (run.write_failed) {
		fprintf(stderr, "tlswatch: writing output: %s\n", strerror(errno));
		rc = 1;
	} else {
		rc = 0;
	}

cleanup:
	loader_close(run.loader);
	json_free(&run.json);
	summary_free(run.summary);
	flows_free(run.flows);
	cidr_list_free(&env.exclude);
	return rc;
}
