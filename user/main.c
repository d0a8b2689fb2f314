// SPDX-License-Identifier: BSD-3-Clause
/* tlswatch: report failed TLS handshakes, per client, and why. */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../bpf/tlswatch.h"
#include "bpf_events.h"
#include "cgroup.h"
#include "cli.h"
#include "diagnose.h"
#include "fingerprint.h"
#include "flows.h"
#include "json.h"
#include "loader.h"
#include "metrics.h"
#include "metrics_http.h"
#include "owner.h"
#include "pcap_live.h"
#include "pcap_out.h"
#include "pcap_src.h"
#include "privacy.h"
#include "privs.h"
#include "recovery.h"
#include "report.h"
#include "summary.h"

#define TLSWATCH_VERSION "0.1.0"
/* How late an event may be read after it was made, in normal running. */
#define LIVE_MARGIN_US 200000
/* Human-readable lines per second of wall clock before a storm is
 * summed up instead (live capture; --json is never limited). */
#define TEXT_LINES_PER_SEC 50

static volatile sig_atomic_t exiting;

enum capture_method {
	CAPTURE_AUTO,		/* BPF, or libpcap where BPF cannot load */
	CAPTURE_BPF,
	CAPTURE_PCAP,
};

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
	struct cidr_list clients;	/* --client */
	const char *sni_pattern;	/* --sni */
	uint64_t recovery_us;
	uint64_t interval_us;
	uint8_t proxy_ports[PORT_MAP_BYTES];
	bool proxy_given;
	struct cidr_list proxy_trust;
	const char *write_path;
	const char *metrics_at;		/* --metrics */
	const char *textfile;		/* --textfile */
	uint32_t top_clients;
	const char *ports_arg;
	const char *cgroup;
	enum capture_method capture;
	bool capture_given;
	bool check;
	struct privacy privacy;		/* --anonymize-ip, --hash-sni */
	const char *sni_key_path;	/* --hash-sni-key */
	const char *user;		/* --user */
	bool user_given;
} env = {
	.timeout_us = 10000000,
	.recovery_us = 30000000,
	.top_clients = 20,
	.ports_arg = "443",
};

struct run {
	bool live;
	struct loader *loader;	/* live capture through BPF, or NULL */
	struct pcap_live *pcap;	/* live capture through libpcap, or NULL */
	struct bpf_events_stats bpf;
	int64_t mono_offset_ns;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	struct flows *flows;
	struct summary *summary;
	struct pcap_out *out;	/* -w */
	uint64_t w_partial;	/* connections -w could not write whole */
	struct profiles *profiles;
	struct recovery *recovery;
	struct metrics *metrics;	/* --metrics or --textfile */
	struct metrics_http *http;	/* --metrics */
	struct owners *owners;		/* live: cgroup ids to services */
	uint64_t next_publish, next_textfile;	/* monotonic ns */
	struct json json;
	uint64_t first_ts;
	uint64_t now;		/* capture time of the latest outcome */
	bool write_failed;
	/* Text-line storm limit: lines shown in the current second, and
	 * those held back. */
	uint64_t rl_second;
	uint32_t rl_shown;
	uint64_t rl_held;
	uint64_t next_interval;	/* wall clock (live) or capture time */
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
"      --client CIDRS         report only these clients\n"
"      --sni PATTERNS         report only handshakes whose SNI matches one of\n"
"                             these shell patterns: '*.example.com,api.*'\n"
"      --recovery-window SECS  a failure followed within SECS by a handshake\n"
"                             from the same client IP and SNI is recovered\n"
"                             (default 30)\n"
"      --interval SECS        also write a summary every SECS seconds\n"
"  -w, --write FILE           write the packets of failed connections to FILE\n"
"                             (pcap; live capture has headers rebuilt and\n"
"                             payload up to the capture budget)\n"
"      --proxy-protocol PORTS  these ports receive a PROXY protocol v1/v2\n"
"                             header before TLS (from a load balancer)\n"
"      --proxy-trust CIDRS    believe the header's client address only from\n"
"                             these peers (required with --proxy-protocol)\n"
"      --metrics [ADDR:]PORT  serve Prometheus metrics at /metrics (a bare\n"
"                             port binds 127.0.0.1)\n"
"      --textfile PATH        write the metrics to PATH every 15 s (or every\n"
"                             --interval), for node_exporter's textfile\n"
"                             collector\n"
"      --top-clients N        clients in tlswatch_top_client_failures\n"
"                             (default 20, 0 for none)\n"
"      --capture bpf|pcap     live capture through BPF programs, or through\n"
"                             libpcap on every interface (needs only\n"
"                             CAP_NET_RAW; default: BPF, or libpcap where\n"
"                             BPF cannot load)\n"
"      --cgroup PATH          cgroup v2 directory to attach to (default: the\n"
"                             cgroup v2 root)\n"
"      --user USER            once capture is attached, run as USER with no\n"
"                             capability but CAP_BPF where the kernel needs\n"
"                             it (default nobody; root with --textfile)\n"
"      --anonymize-ip         report client addresses as their /24 (IPv4) or\n"
"                             /48 (IPv6) network\n"
"      --hash-sni             report server names as a keyed hash (a random\n"
"                             key per run)\n"
"      --hash-sni-key FILE    --hash-sni with the key in FILE, so that hashes\n"
"                             match across hosts and runs\n"
"      --check                say whether live capture can work here\n"
"  -v, --verbose              more detail on stderr\n"
"  -V, --version              print the version and exit\n"
"  -h, --help                 print this help and exit\n"
"\n"
"Exit status: 0 done, 1 runtime failure, 2 bad usage.\n";

enum {
	OPT_TIMEOUT = 256, OPT_EXCLUDE, OPT_CGROUP, OPT_CHECK, OPT_CLIENT,
	OPT_CAPTURE,
	OPT_SNI, OPT_RECOVERY, OPT_INTERVAL, OPT_PROXY, OPT_PROXY_TRUST,
	OPT_METRICS, OPT_TEXTFILE, OPT_TOP_CLIENTS,
	OPT_USER, OPT_ANONYMIZE_IP, OPT_HASH_SNI, OPT_HASH_SNI_KEY,
};

static const struct option long_opts[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "read", required_argument, NULL, 'r' },
	{ "duration", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ "all", no_argument, NULL, 'a' },
	{ "handshake-timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "client", required_argument, NULL, OPT_CLIENT },
	{ "sni", required_argument, NULL, OPT_SNI },
	{ "recovery-window", required_argument, NULL, OPT_RECOVERY },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "write", required_argument, NULL, 'w' },
	{ "proxy-protocol", required_argument, NULL, OPT_PROXY },
	{ "proxy-trust", required_argument, NULL, OPT_PROXY_TRUST },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "textfile", required_argument, NULL, OPT_TEXTFILE },
	{ "top-clients", required_argument, NULL, OPT_TOP_CLIENTS },
	{ "capture", required_argument, NULL, OPT_CAPTURE },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "user", required_argument, NULL, OPT_USER },
	{ "anonymize-ip", no_argument, NULL, OPT_ANONYMIZE_IP },
	{ "hash-sni", no_argument, NULL, OPT_HASH_SNI },
	{ "hash-sni-key", required_argument, NULL, OPT_HASH_SNI_KEY },
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
	while ((c = getopt_long(argc, argv, ":p:r:d:w:javVh", long_opts, NULL)) != -1) {
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
		case OPT_CLIENT:
			if (!parse_cidrs(optarg, &env.clients, err, sizeof(err)))
				return usage_error(err);
			break;
		case OPT_SNI:
			if (!*optarg)
				return usage_error("--sni needs a pattern");
			if (strlen(optarg) > 1024)
				return usage_error("--sni: patterns too long");
			for (const char *q = optarg; *q;) {
				size_t n = strcspn(q, ",");

				if (n == 0 || n > 255)
					return usage_error("--sni: each pattern is 1 to 255 characters");
				q += n + (q[n] == ',');
			}
			env.sni_pattern = optarg;
			break;
		case OPT_RECOVERY:
			if (!parse_seconds(optarg, &env.recovery_us, err, sizeof(err)))
				return usage_error(err);
			break;
		case OPT_INTERVAL:
			if (!parse_seconds(optarg, &env.interval_us, err, sizeof(err)))
				return usage_error(err);
			break;
		case 'w':
			env.write_path = optarg;
			break;
		case OPT_PROXY:
			if (!parse_ports(optarg, env.proxy_ports, err, sizeof(err)))
				return usage_error(err);
			env.proxy_given = true;
			break;
		case OPT_PROXY_TRUST:
			if (!parse_cidrs(optarg, &env.proxy_trust, err, sizeof(err)))
				return usage_error(err);
			break;
		case OPT_METRICS: {
			struct sockaddr_storage ss;

			if (metrics_http_parse(optarg, &ss, err, sizeof(err)))
				return usage_error(err);
			env.metrics_at = optarg;
			break;
		}
		case OPT_TEXTFILE:
			if (!*optarg)
				return usage_error("--textfile needs a path");
			env.textfile = optarg;
			break;
		case OPT_TOP_CLIENTS: {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || n > 1000)
				return usage_error("--top-clients: a number from 0 to 1000");
			env.top_clients = n;
			break;
		}
		case OPT_CAPTURE:
			if (!strcmp(optarg, "bpf"))
				env.capture = CAPTURE_BPF;
			else if (!strcmp(optarg, "pcap"))
				env.capture = CAPTURE_PCAP;
			else
				return usage_error("--capture is bpf or pcap");
			env.capture_given = true;
			break;
		case OPT_CGROUP:
			env.cgroup = optarg;
			break;
		case OPT_CHECK:
			env.check = true;
			break;
		case OPT_USER:
			if (!*optarg)
				return usage_error("--user needs a user name");
			env.user = optarg;
			env.user_given = true;
			break;
		case OPT_ANONYMIZE_IP:
			env.privacy.anonymize_ip = true;
			break;
		case OPT_HASH_SNI:
			env.privacy.hash_sni = true;
			break;
		case OPT_HASH_SNI_KEY:
			env.privacy.hash_sni = true;
			env.sni_key_path = optarg;
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
	/* Without a list of trusted peers, anyone could choose the address
	 * they are reported under. */
	if (env.proxy_given && !env.proxy_trust.n)
		return usage_error("--proxy-protocol needs --proxy-trust: the load balancers whose headers are believed");
	if (env.proxy_trust.n && !env.proxy_given)
		return usage_error("--proxy-trust is for --proxy-protocol ports");
	if (env.capture_given && env.read_path)
		return usage_error("--capture is for live capture, not --read");
	if (env.capture == CAPTURE_PCAP && env.cgroup)
		return usage_error("--cgroup is for BPF capture, not --capture pcap");
	if (env.metrics_at && env.read_path)
		return usage_error("--metrics is for live capture; with --read, use --textfile");
	/* Packets carry what these options hide. */
	if (env.write_path && (env.privacy.anonymize_ip || env.privacy.hash_sni))
		return usage_error("-w keeps whole packets, addresses and names included: it cannot go with --anonymize-ip or --hash-sni");
	if (env.user_given && env.read_path)
		return usage_error("--user is for live capture; --read needs no privileges");
	/* The textfile's directory is often root's (node_exporter's). */
	if (!env.user_given)
		env.user = env.textfile ? NULL : "nobody";
	else if (!strcmp(env.user, "root"))
		env.user = NULL;
	else if (!getpwnam(env.user)) {
		snprintf(err, sizeof(err), "--user %s: no such user", env.user);
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

/* Does the SNI match one of the comma-separated shell patterns? */
static bool sni_matches(const struct session *s)
{
	char name[TLS_MAX_SNI + 1], pat[256];
	const char *p = env.sni_pattern;

	if (!s->ch || !s->ch->has_sni)
		return false;
	memcpy(name, s->ch->sni, s->ch->sni_len);
	name[s->ch->sni_len] = '\0';
	if (strlen(name) != s->ch->sni_len)
		return false;	/* a NUL inside: no pattern means that */
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = '\0';
			if (fnmatch(pat, name, FNM_CASEFOLD) == 0)
				return true;
		}
		p += n + (p[n] == ',');
	}
	return false;
}

/* --client, --exclude (on the address reported, which PROXY protocol
 * may have changed) and --sni. */
static bool wanted(const struct session *s)
{
	if (env.clients.n && !cidr_match(&env.clients, &s->client))
		return false;
	if (env.exclude.n && cidr_match(&env.exclude, &s->client))
		return false;
	return !env.sni_pattern || sni_matches(s);
}

static void write_summary(struct run *run, const struct pcap_src_stats *ps,
			  uint64_t ts, bool final);

static void emit_json(struct run *run)
{
	if (!json_flush_line(&run->json, stdout))
		run->write_failed = true;
}

/* A text line, unless a storm is on: then it is counted, and the count
 * shown once a second. */
static void emit_text(struct run *run, const char *line)
{
	uint64_t sec = 0;

	if (run->live) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		sec = ts.tv_sec;
	}
	if (sec != run->rl_second) {
		if (run->rl_held)
			printf("tlswatch: %llu more line%s held back in the last second (storm); every connection is still counted in the summary\n",
			       (unsigned long long)run->rl_held,
			       run->rl_held == 1 ? "" : "s");
		run->rl_second = sec;
		run->rl_shown = 0;
		run->rl_held = 0;
	}
	if (!line)
		return;
	if (run->live && run->rl_shown >= TEXT_LINES_PER_SEC) {
		run->rl_held++;
		return;
	}
	run->rl_shown++;
	if (puts(line) == EOF)
		run->write_failed = true;
}

static void on_settled(void *ctx, const struct pending_failure *f,
		       bool recovered, uint64_t ts)
{
	struct run *run = ctx;
	struct json *j = &run->json;
	char t[40], ip[64], line[512], sni[TLS_MAX_SNI + 1];
	enum diag_code code = f->code == DIAG_FALLBACK_PROBE ?
			      DIAG_FALLBACK_RETRY : f->code;

	summary_settled(run->summary, f, recovered);
	if (run->metrics)
		metrics_settled(run->metrics, f, recovered);
	if (!recovered)
		return;
	printable(f->sni, f->sni_len, sni, sizeof(sni));
	if (env.json) {
		json_object_begin(j, NULL);
		json_string(j, "event", "recovered");
		json_string(j, "time", format_time(ts, t, sizeof(t)));
		json_object_begin(j, "client");
		json_string(j, "ip", endpoint_ip(&f->client, ip, sizeof(ip)));
		json_uint(j, "port", f->client.port);
		json_object_end(j);
		if (f->has_sni)
			json_bytes(j, "sni", f->sni, f->sni_len);
		else
			json_null(j, "sni");
		json_string(j, "failed_time", format_time(f->failed_ts, t, sizeof(t)));
		json_fixed(j, "delay_ms", ts - f->failed_ts, 3);
		json_string(j, "reason", reason_name(f->reason));
		json_object_begin(j, "diagnosis");
		json_string(j, "code", diag_code_name(code));
		json_bool(j, "harmless", true);
		if (code == DIAG_FALLBACK_RETRY)
			json_string(j, "text", "The client retried at a higher version and succeeded: a harmless fallback probe.");
		else
			json_string(j, "text", "The same client then established a handshake with the same SNI.");
		json_object_end(j);
		json_object_end(j);
		emit_json(run);
		return;
	}
	format_time(ts, t, sizeof(t));
	snprintf(line, sizeof(line), "%.12s %s%s%s recovered %s%s after %llu ms: %s, harmless",
		 t + 11, f->client.family == AF_INET6 ? "[" : "",
		 endpoint_ip(&f->client, ip, sizeof(ip)),
		 f->client.family == AF_INET6 ? "]" : "",
		 f->has_sni ? "SNI " : "(no SNI)", sni,
		 (unsigned long long)((ts - f->failed_ts) / 1000),
		 diag_code_name(code));
	emit_text(run, line);
}

/* -w: the failed connection's packets; live capture saw no handshake
 * packets, so they are rebuilt from the sequence numbers it told. */
static void write_packets(struct run *run, const struct session *s)
{
	if (!pcap_out_reported(run->out, run->flows, session_tcp_client(s),
			       &s->server))
		run->w_partial++;
}

/* What --anonymize-ip and --hash-sni leave of a connection: a copy, so
 * that the flow's own state keeps the real addresses it is keyed by. */
static const struct session *private_view(const struct session *s,
					  struct session *view,
					  struct tls_client_hello *ch,
					  struct x509_info *cert)
{
	*view = *s;
	if (env.privacy.anonymize_ip)
		privacy_mask(&view->client);
	if (env.privacy.hash_sni && s->ch) {
		*ch = *s->ch;
		privacy_hash_sni(&env.privacy, ch);
		view->ch = ch;
	}
	if (env.privacy.hash_sni && s->cert) {
		*cert = *s->cert;
		privacy_hash_cert(&env.privacy, cert);
		view->cert = cert;
	}
	return view;
}

static void on_report(void *ctx, const struct session *real)
{
	struct run *run = ctx;
	struct diagnosis d;
	struct report_extra x = {};
	char line[2048], fp[JA4_LEN];
	const struct session *s = real;
	struct session view;
	struct tls_client_hello ch;
	struct x509_info cert;
	bool want, print;

	/* A socket already gone needs no marking: its kernel state went with
	 * it, and a mark would outlive it into the next connection. */
	if (run->loader && !s->gone && !s->final)
		loader_decided(run->loader, session_tcp_client(s), &s->server);
	if (s->decided_ts > run->now)
		run->now = s->decided_ts;
	recovery_expire(run->recovery, run->now);
	/* Filters see the real address and name; nothing after them does. */
	want = wanted(s);
	if (env.privacy.anonymize_ip || env.privacy.hash_sni)
		s = private_view(real, &view, &ch, &cert);
	/* What a port accepts is learnt from every handshake, filtered or
	 * not. */
	if (s->outcome == OUTCOME_ESTABLISHED)
		profiles_learn(run->profiles, s);
	if (!want)
		return;
	diagnose(run->profiles, s, &d);
	print = env.all || report_by_default(s);
	/* Once, for the record and the summary (which counts failures
	 * only). */
	if (s->ch && (print || s->outcome == OUTCOME_FAILED) && ja4(s->ch, fp))
		x.ja4 = fp;
	summary_add(run->summary, s, &d, x.ja4);
	if (run->owners && s->owner)
		owners_lookup(run->owners, s->owner, run->now, &x.owner_path,
			      &x.owner_name);
	if (run->metrics)
		metrics_connection(run->metrics, s, &d, x.owner_name);
	if (run->out && s->outcome == OUTCOME_FAILED)
		write_packets(run, s);
	if (print) {
		if (env.json) {
			report_json(&run->json, s, &d, &x);
			emit_json(run);
		} else {
			report_text(s, &d, &x, line, sizeof(line));
			emit_text(run, line);
		}
	}
	/* After the record, so that a recovered event follows the
	 * connection that recovered. */
	if (s->outcome == OUTCOME_FAILED)
		recovery_failed(run->recovery, s, &d);
	else if (s->outcome == OUTCOME_ESTABLISHED)
		recovery_established(run->recovery, s);
}

static int proxy_mode(void *ctx, const struct endpoint *client,
		      const struct endpoint *server)
{
	(void)ctx;
	if (!(env.proxy_ports[server->port >> 3] & (1u << (server->port & 7))))
		return 0;
	return cidr_match(&env.proxy_trust, client) ? 1 : 2;
}

static int on_segment(void *ctx, const struct segment *seg)
{
	struct run *run = ctx;

	if (exiting || run->write_failed)
		return 1;
	if (!run->first_ts) {
		run->first_ts = seg->ts_us;
		run->next_interval = seg->ts_us + env.interval_us;
	}
	/* Every interval that passed gets its summary, also across a
	 * silence in the capture. */
	while (env.interval_us && seg->ts_us >= run->next_interval) {
		struct pcap_src_stats none = {};

		flows_advance(run->flows, run->next_interval);
		recovery_expire(run->recovery, run->next_interval);
		write_summary(run, &none, run->next_interval, false);
		run->next_interval += env.interval_us;
		/* A long silence: one summary for it, not one per interval. */
		if (seg->ts_us >= run->next_interval + 16 * env.interval_us)
			run->next_interval += (seg->ts_us - run->next_interval) /
					      env.interval_us * env.interval_us;
	}
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

static void show_losses(struct run *run, const struct pcap_src_stats *ps);

/* A summary: the JSON event on stdout with --json, the text on stderr
 * otherwise (and always at the end). */
static void write_summary(struct run *run, const struct pcap_src_stats *ps,
			  uint64_t ts, bool final)
{
	show_losses(run, ps);
	if (env.json) {
		summary_json(run->summary, &run->json, ts, final);
		emit_json(run);
		fflush(stdout);
	}
	if (!env.json || final)
		summary_print(run->summary, stderr);
}

/* How often the metrics are rendered for --metrics, and written for
 * --textfile when --interval does not say. */
#define PUBLISH_NS 1000000000ULL
#define TEXTFILE_NS (15 * 1000000000ULL)

/* Render the metrics and hand them to --metrics and --textfile: once a
 * second while capturing (mono: CLOCK_MONOTONIC ns), and at the end. */
static void publish_metrics(struct run *run, uint64_t mono, uint64_t now_us,
			    const struct pcap_src_stats *ps, bool final)
{
	static bool warned;
	char *text;
	size_t len;

	if (!run->metrics || (!final && mono < run->next_publish))
		return;
	run->next_publish = mono + PUBLISH_NS;
	show_losses(run, ps);
	metrics_in_flight(run->metrics, flows_undecided(run->flows));
	for (int i = 0; run->loader; i++) {
		const char *name;
		uint64_t ns, runs;

		if (!loader_prog_stats(run->loader, i, &name, &ns, &runs))
			break;
		if (runs)
			metrics_bpf(run->metrics, name, ns, runs);
	}
	text = metrics_render(run->metrics, now_us, &len);
	if (!text)
		return;
	if (env.textfile && (final || mono >= run->next_textfile)) {
		int e = metrics_write_file(env.textfile, text, len);

		run->next_textfile = mono + (env.interval_us ?
					     env.interval_us * 1000 : TEXTFILE_NS);
		/* Said once: a full disk must not fill the log too. */
		if (e < 0 && !warned) {
			fprintf(stderr, "tlswatch: writing %s: %s (capture goes on)\n",
				env.textfile, strerror(-e));
			warned = true;
		}
	}
	if (run->http)
		metrics_http_publish(run->http, text, len);
	else
		free(text);
}

/* Attached: from here on, reading the ring buffer and marking
 * connections decided need at most CAP_BPF. The metrics thread starts
 * after, with what is left. */
static int drop_privileges(struct run *run, char *err, size_t errlen)
{
	struct privs_opts po = {
		.user = env.user,
		.needs_bpf = run->loader ? loader_needs_cap : NULL,
		.ctx = run->loader,
	};
	char kept[96], why[160];

	int rc = privs_drop(&po, kept, sizeof(kept), why, sizeof(why));

	/* A container may forbid changing user: stay, with the capabilities
	 * dropped, unless --user asked for it. */
	if (rc && po.user && !env.user_given) {
		po.user = NULL;
		rc = privs_drop(&po, kept, sizeof(kept), why, sizeof(why));
	}
	if (rc) {
		snprintf(err, errlen, "giving up privileges: %s", why);
		return -1;
	}
	if (env.verbose)
		fprintf(stderr, "tlswatch: now running as %s\n", kept);
	if (run->http && metrics_http_start(run->http, err, errlen))
		return -1;
	return 0;
}

/* Live capture until a signal or --duration: 0, or 1 with a reason. */
static int run_live(struct run *run, char *err, size_t errlen)
{
	struct loader_opts lo = {
		.ports = env.ports,
		.proxy_ports = env.proxy_given ? env.proxy_ports : NULL,
		.cgroup = env.cgroup,
		.verbose = env.verbose,
		.on_event = on_bpf_event,
		.ctx = run,
	};
	const char *plural = strpbrk(env.ports_arg, ",-") ? "s" : "";
	char bpf_err[256] = "", pcap_err[240];
	uint64_t start, now;
	int rc;

	run->mono_offset_ns = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
	if (env.capture != CAPTURE_PCAP) {
		run->loader = loader_open(&lo, bpf_err, sizeof(bpf_err));
		/* Falling back is for a kernel or privileges that refuse BPF;
		 * a cgroup problem has its fix in --cgroup. */
		if (!run->loader && (env.capture == CAPTURE_BPF || env.cgroup ||
				     cgroup_namespaced())) {
			snprintf(err, errlen, "%s", bpf_err);
			return 1;
		}
	}
	if (!run->loader) {
		run->pcap = pcap_live_open(env.ports, pcap_err,
					   sizeof(pcap_err));
		if (!run->pcap) {
			if (env.capture == CAPTURE_PCAP)
				snprintf(err, errlen, "%s", pcap_err);
			else
				snprintf(err, errlen, "%s; and %s", bpf_err,
					 pcap_err);
			return 1;
		}
		if (env.capture == CAPTURE_AUTO)
			fprintf(stderr, "tlswatch: BPF capture unavailable (%s): capturing with libpcap instead\n",
				bpf_err);
		fprintf(stderr, "tlswatch: watching TCP port%s %s on all interfaces (libpcap)\n",
			plural, env.ports_arg);
	} else {
		/* Which service owns each server socket: for records and
		 * metrics alike (out of memory: not said). */
		if (loader_cgroup_tree(run->loader))
			run->owners = owners_new(loader_cgroup_tree(run->loader));
		fprintf(stderr, "tlswatch: watching TCP port%s %s on cgroup %s\n",
			plural, env.ports_arg, loader_cgroup(run->loader));
	}
	if (drop_privileges(run, err, errlen))
		return 1;
	run->live = true;
	/* Into a pipe or file, records go out in one write per read of the
	 * ring buffer (flushed below) rather than one per 4 KiB. */
	if (!isatty(STDOUT_FILENO)) {
		/* glibc takes the size only with a buffer given. */
		static char outbuf[1 << 16];

		setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	}
	start = now_ns(CLOCK_MONOTONIC);
	run->next_interval = start + env.interval_us * 1000;
	while (!exiting && !run->write_failed) {
		/* Dropped events belong to connections unknown: those open
		 * or opened by the events in hand cannot trust an outcome
		 * that rests on silence. */
		if (run->loader)
			flows_maybe_lost(run->flows, loader_lossy(run->loader));
		/* Packets carry their capture time as BPF events do, so the
		 * clock below runs the same for both. */
		if (run->pcap)
			rc = pcap_live_poll(run->pcap, 100, flows_segment,
					    run->flows);
		else
			rc = loader_poll(run->loader, 100);
		if (rc < 0 && rc != -EINTR) {
			if (run->pcap && rc == -EIO)
				snprintf(err, errlen, "%s",
					 pcap_live_error(run->pcap));
			else
				snprintf(err, errlen, "reading the %s: %s",
					 run->pcap ? "capture" : "ring buffer",
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
		if (rc == 0) {
			uint64_t t = (now + run->mono_offset_ns) / 1000 -
				     LIVE_MARGIN_US;

			flows_advance(run->flows, t);
			if (t > run->now)
				run->now = t;
			recovery_expire(run->recovery, run->now);
		}
		if (env.interval_us && now >= run->next_interval) {
			struct pcap_src_stats none = {};

			run->next_interval = now + env.interval_us * 1000;
			write_summary(run, &none,
				      (now + run->mono_offset_ns) / 1000, false);
		}
		/* A storm's count of held-back lines, once it is over. */
		if (!env.json && run->rl_held)
			emit_text(run, NULL);
		{
			struct pcap_src_stats none = {};

			publish_metrics(run, now, (now + run->mono_offset_ns) / 1000,
					&none, false);
		}
		if (env.duration_us && now - start >= env.duration_us * 1000)
			break;
		/* Lines as they happen, for people and for pipes alike. */
		fflush(stdout);
	}
	/* What the ring buffer still holds from before the stop belongs to
	 * the run: behind in a storm, that can be many connections. */
	if (run->loader && !run->write_failed)
		loader_drain(run->loader, now_ns(CLOCK_MONOTONIC));
	return 0;
}

/* A loss: in the summary under its words, and in the metrics under its
 * cause. */
static void loss(struct run *run, const char *cause, const char *words,
		 uint64_t n)
{
	summary_loss(run->summary, words, n);
	if (run->metrics && cause)
		metrics_loss(run->metrics, cause, n);
}

static void show_losses(struct run *run, const struct pcap_src_stats *ps)
{
	const struct flows_stats *fs = flows_stats(run->flows);
	struct summary *sm = run->summary;
	uint64_t k[TW_STAT__COUNT] = {};
	struct pcap_live_stats pl = {};
	struct pcap_src_stats all = *ps;

	if (run->pcap) {
		pcap_live_stats(run->pcap, &pl);
		loss(run, "pcap_kernel_drop",
		     "packets dropped by the kernel: capture buffer full",
		     pl.kernel_drops);
		loss(run, "pcap_interface_drop",
		     "packets dropped by network interfaces", pl.if_drops);
		all.packets += pl.packets;
		all.tcp += pl.tcp;
		all.malformed += pl.malformed;
		all.truncated += pl.truncated;
		ps = &all;
	}
	if (run->loader) {
		loader_stats(run->loader, k, TW_STAT__COUNT);
		loss(run, "ringbuf_full", "events lost: ring buffer full",
		     k[TW_STAT_RINGBUF_FULL]);
		loss(run, "kernel_flows_full",
		     "connections not followed: kernel flow table full",
		     k[TW_STAT_FLOW_FULL]);
		loss(run, "walk_lost",
		     "directions whose records the kernel lost track of",
		     k[TW_STAT_NOSYNC]);
		loss(run, "events_malformed", "ring buffer events that did not parse",
		     run->bpf.malformed);
	}

	loss(run, "packets_malformed", "packets that did not parse",
	     ps->malformed);
	loss(run, "snaplen", "segments cut short by the capture's snaplen",
	     ps->truncated);
	loss(run, "flows_evicted", "connections pushed out of the flow table",
	     fs->evicted);
	/* Bytes, not events: the summary's only (the connections they
	 * touched are counted with outcome unknown). */
	loss(run, NULL, "bytes missing from streams (gaps)",
	     fs->stream.gap_bytes);
	loss(run, "holes_abandoned", "holes given up on to bound memory",
	     fs->stream.forced_gaps);
	loss(run, NULL, "retransmitted bytes that differed (first copy kept)",
	     fs->stream.conflicts);
	loss(run, "segments_implausible", "segments too far ahead to be plausible",
	     fs->stream.ignored);
	loss(run, "orphan_segments",
	     "segments of connections whose start never came",
	     fs->orphans_dropped);
	loss(run, "kernel_stopped_early",
	     "connections the kernel stopped sending before their outcome was known",
	     fs->final_undecided);
	loss(run, "recovery_full",
	     "failures settled early as unrecovered (recovery table full)",
	     recovery_overflow(run->recovery));
	loss(run, "write_partial",
	     "failed connections written in part to -w (memory limits)",
	     run->w_partial);
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
		if (run->pcap)
			summary_loss(sm, "outgoing copies of loopback packets left out",
				     pl.lo_copies);
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
	cfg.proxy = env.proxy_given ? proxy_mode : NULL;
	cfg.keep_packets = env.write_path != NULL;
	if (env.privacy.hash_sni &&
	    (env.sni_key_path ?
	     privacy_key_file(&env.privacy, env.sni_key_path, err, sizeof(err)) :
	     privacy_random_key(&env.privacy, err, sizeof(err)))) {
		fprintf(stderr, "tlswatch: %s\n", err);
		return 1;
	}
	cfg.report = on_report;
	cfg.ctx = &run;
	run.flows = flows_new(&cfg);
	run.profiles = profiles_new();
	run.summary = summary_new(run.profiles, env.recovery_us);
	run.recovery = recovery_new(env.recovery_us, on_settled, &run);
	json_init(&run.json);
	if (!run.flows || !run.summary || !run.profiles || !run.recovery) {
		fprintf(stderr, "tlswatch: out of memory\n");
		rc = 1;
		goto cleanup;
	}
	if (env.metrics_at || env.textfile) {
		run.metrics = metrics_new(env.top_clients, TLSWATCH_VERSION);
		if (!run.metrics) {
			fprintf(stderr, "tlswatch: out of memory\n");
			rc = 1;
			goto cleanup;
		}
		/* The first ports watched, as many as the metrics keep. */
		for (uint32_t p = 1, n = 0; p < 65536 && n < 64; p++)
			if ((env.ports_given || !env.read_path) &&
			    (env.ports[p >> 3] & (1u << (p & 7)))) {
				metrics_port(run.metrics, p);
				n++;
			}
	}
	/* Before capture starts: a port in use is a one-line error. */
	if (env.metrics_at) {
		run.http = metrics_http_open(env.metrics_at, err, sizeof(err));
		if (!run.http) {
			fprintf(stderr, "tlswatch: %s\n", err);
			rc = 1;
			goto cleanup;
		}
	}
	if (env.write_path) {
		run.out = pcap_out_open(env.write_path, err, sizeof(err));
		if (!run.out) {
			fprintf(stderr, "tlswatch: %s\n", err);
			rc = 1;
			goto cleanup;
		}
	}

	if (env.read_path) {
		/* As live capture does: into a pipe or file, 64 KiB writes
		 * rather than one per 4 KiB. */
		static char outbuf[1 << 16];

		if (!isatty(STDOUT_FILENO))
			setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
		rc = pcap_src_run(env.read_path, on_segment, &run, &ps, err,
				  sizeof(err));
	} else {
		rc = run_live(&run, err, sizeof(err));
		if (rc && !run.live) {
			fprintf(stderr, "tlswatch: %s\n", err);
			goto cleanup;
		}
		rc = rc ? -1 : 0;
	}
	/* Whatever was read is reported, even when reading failed part way. */
	flows_finish(run.flows);
	/* Failures still in their recovery window are settled as they
	 * stand: not recovered within the run. */
	recovery_finish(run.recovery, run.now);
	publish_metrics(&run, now_ns(CLOCK_MONOTONIC), run.live ?
			now_ns(CLOCK_REALTIME) / 1000 : run.now, &ps, true);
	fflush(stdout);
	/* A file that could not be opened gets its error line alone. */
	if (rc >= 0 || ps.packets || run.live)
		write_summary(&run, &ps, run.live ?
			      now_ns(CLOCK_REALTIME) / 1000 :
			      run.now ? run.now : run.first_ts, true);
	if (run.out) {
		int wrc = pcap_out_close(run.out);

		run.out = NULL;
		if (wrc < 0 && rc >= 0) {
			snprintf(err, sizeof(err), "writing %s: %s",
				 env.write_path, strerror(-wrc));
			rc = -1;
		}
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
	metrics_http_stop(run.http);
	metrics_free(run.metrics);
	owners_free(run.owners);
	loader_close(run.loader);
	pcap_live_close(run.pcap);
	json_free(&run.json);
	summary_free(run.summary);
	recovery_free(run.recovery);
	profiles_free(run.profiles);
	cidr_list_free(&env.clients);
	cidr_list_free(&env.proxy_trust);
	pcap_out_close(run.out);
	flows_free(run.flows);
	cidr_list_free(&env.exclude);
	return rc;
}
