// SPDX-License-Identifier: BSD-3-Clause
/* libFuzzer target: a whole capture, the way `tlswatch --read FILE`
 * decodes it: pcap_src_run (libpcap, then pcap_src_decode) -> flows ->
 * session -> diagnose -> JSON or text records, recovery, the summary,
 * and with some options -w and metrics; output goes to /dev/null. The
 * input is the file (pcap or pcapng), handed over through a memfd so
 * that a crashing input is also a file tlswatch itself can read.
 *
 * Options come from the classic pcap header's sigfigs field (byte 12),
 * which libpcap ignores, so that seeds are plain captures: bit 0 watch
 * ports 443/4433/8443 only, bit 1 PROXY protocol on every port (trusted
 * unless bit 2), bit 3 text instead of JSON, bit 4 -w, bit 5 metrics,
 * bit 6 a flow table of 2, bit 7 the run-wide summary and recovery.
 * Those two are left out otherwise because their tables (some 10 MB,
 * made and freed per input under ASan) cost ten times the decoding. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check_output.h"
#include "cli.h"
#include "diagnose.h"
#include "fingerprint.h"
#include "flows.h"
#include "json.h"
#include "metrics.h"
#include "pcap_out.h"
#include "pcap_src.h"
#include "recovery.h"
#include "report.h"
#include "summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	uint8_t opt;
	FILE *out;
	struct flows *flows;
	struct profiles *profiles;
	struct summary *summary;
	struct recovery *recovery;
	struct metrics *metrics;
	struct pcap_out *w;
	struct json json;
	uint64_t now;
};

static void on_settled(void *ctx, const struct pending_failure *f,
		       bool recovered, uint64_t ts)
{
	struct run *run = ctx;

	(void)ts;
	if (run->summary)
		summary_settled(run->summary, f, recovered);
	if (run->metrics)
		metrics_settled(run->metrics, f, recovered);
}

static void on_report(void *ctx, const struct session *s)
{
	struct run *run = ctx;
	struct diagnosis d;
	struct report_extra x = {};
	char line[2048], fp[JA4_LEN];

	if (s->decided_ts > run->now)
		run->now = s->decided_ts;
	if (run->recovery)
		recovery_expire(run->recovery, run->now);
	if (s->outcome == OUTCOME_ESTABLISHED)
		profiles_learn(run->profiles, s);
	diagnose(run->profiles, s, &d);
	if (s->ch && ja4(s->ch, fp))
		x.ja4 = fp;
	if (run->summary)
		summary_add(run->summary, s, &d, x.ja4);
	if (run->metrics)
		metrics_connection(run->metrics, s, &d, NULL);
	if (run->w && s->outcome == OUTCOME_FAILED)
		pcap_out_reported(run->w, run->flows, session_tcp_client(s),
				  &s->server);
	if (run->opt & 8) {
		report_text(s, &d, &x, line, sizeof(line));
		if (!text_printable(line))
			__builtin_trap();
		fputs(line, run->out);
	} else {
		report_json(&run->json, s, &d, &x);
		if (!run->json.failed &&
		    !json_valid(run->json.buf, run->json.len))
			__builtin_trap();
		json_flush_line(&run->json, run->out);
	}
	if (!run->recovery)
		return;
	if (s->outcome == OUTCOME_FAILED)
		recovery_failed(run->recovery, s, &d);
	else if (s->outcome == OUTCOME_ESTABLISHED)
		recovery_established(run->recovery, s);
}

static int proxy_mode(void *ctx, const struct endpoint *client,
		      const struct endpoint *server)
{
	struct run *run = ctx;

	(void)client;
	(void)server;
	return run->opt & 4 ? 2 : 1;
}

static int on_segment(void *ctx, const struct segment *seg)
{
	struct run *run = ctx;

	return flows_segment(run->flows, seg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	static int fd = -1;
	static uint8_t ports[PORT_MAP_BYTES];
	struct flows_config cfg = {};
	struct pcap_src_stats ps = {};
	struct run run = {};
	char path[64], err[512];
	size_t len;
	char *text;

	if (fd < 0) {
		fd = memfd_create("fuzz-pcap", 0);
		devnull = fopen("/dev/null", "w");
		if (fd < 0 || !devnull ||
		    !parse_ports("443,4433,8443", ports, err, sizeof(err)))
			abort();
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (size >= 24 && (!memcmp(data, "\xd4\xc3\xb2\xa1", 4) ||
			   !memcmp(data, "\x4d\x3c\xb2\xa1", 4)))
		run.opt = data[12];
	else if (size >= 24)
		run.opt = data[15];
	run.out = devnull;

	cfg.ports = run.opt & 1 ? ports : NULL;
	cfg.timeout_us = 10000000;
	cfg.max_flows = run.opt & 0x40 ? 2 : 1024;
	cfg.proxy = run.opt & 2 ? proxy_mode : NULL;
	cfg.keep_packets = run.opt & 0x10;
	cfg.report = on_report;
	cfg.ctx = &run;
	run.flows = flows_new(&cfg);
	run.profiles = profiles_new();
	if (run.opt & 0x80) {
		run.summary = summary_new(run.profiles, 30000000);
		run.recovery = recovery_new(30000000, on_settled, &run);
		if (!run.summary || !run.recovery)
			abort();
	}
	json_init(&run.json);
	if (run.opt & 0x20) {
		run.metrics = metrics_new(20, "fuzz");
		metrics_port(run.metrics, 443);
	}
	if (run.opt & 0x10)
		run.w = pcap_out_open("/dev/null", err, sizeof(err));
	if (!run.flows || !run.profiles)
		abort();

	pcap_src_run(path, on_segment, &run, &ps, err, sizeof(err));
	flows_finish(run.flows);
	if (run.opt & 0x80) {
		recovery_finish(run.recovery, run.now);
		summary_json(run.summary, &run.json, run.now, true);
		if (!run.json.failed && !json_valid(run.json.buf, run.json.len))
			__builtin_trap();
		json_flush_line(&run.json, run.out);
		summary_print(run.summary, run.out);
	}
	if (run.metrics) {
		text = metrics_render(run.metrics, run.now, &len);
		if (text)
			fwrite(text, 1, len, run.out);
		free(text);
	}

	pcap_out_close(run.w);
	metrics_free(run.metrics);
	json_free(&run.json);
	summary_free(run.summary);
	recovery_free(run.recovery);
	profiles_free(run.profiles);
	flows_free(run.flows);
	return 0;
}
