#!/usr/bin/awk -f
# SPDX-License-Identifier: BSD-3-Clause
# The tables of bench/overhead.sh from its runs.tsv (one line per run:
# workload round mode units bytes secs work_us tool_user_us tool_sys_us
# bpf_ns bg_ns_per_s kern_perf_ns). The tool's work in the kernel is
# perf's count (kern_perf_ns) when the runs have one; else, for the BPF
# tools, run_time_ns less the BPF time the host's other traffic made in
# the second before the load (bg, scaled to the run, shown on its own).
# Every ratio is taken within a round, against mode `base`.
# Plain POSIX awk (Debian's default is mawk).

function median(a, n,    i, j, t, s) {
	for (i = 1; i <= n; i++) s[i] = a[i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && s[j - 1] > s[j]; j--) {
			t = s[j]; s[j] = s[j - 1]; s[j - 1] = t
		}
	lo = s[1]; hi = s[n]
	return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
}

# Two-sided 95% quantile of Student's t with df degrees of freedom.
function t95(df) {
	if (df <= 0) return 0
	split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 " \
	      "2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086", T, " ")
	if (df <= 20) return T[df]
	if (df <= 30) return 2.06
	return 1.98
}

NR == 1 { next }
{
	w = $1; r = $2; m = $3
	if (!(w in seenw)) { seenw[w] = 1; wl[++nw] = w }
	if (!((w, m) in seenm)) { seenm[w, m] = 1; ml[w, ++nm[w]] = m }
	if (m == "floor") floor_seen = 1
	if (m == "empty") empty_seen = 1
	if (m == "floor_state") state_seen = 1
	if (r + 1 > nr[w]) nr[w] = r + 1
	units[w, r, m] = $4; bytes[w, r, m] = $5; secs[w, r, m] = $6
	work[w, r, m] = $7; tuser[w, r, m] = $8; tsys[w, r, m] = $9
	bpf[w, r, m] = $10; bg[w, r, m] = $11 * $6
	kern[w, r, m] = NF >= 12 ? $12 : 0
	if (kern[w, r, m] > 0) perf_seen = 1
}

END {
	for (k = 1; k <= nw; k++) {
		w = wl[k]
		hs = w == "handshake"
		unit = hs ? "handshakes/s" : "MiB/s"
		per = hs ? "per 1000 handshakes" : "per GiB"
		printf "\n%s (%d rounds; throughput in %s)\n\n", w, nr[w], unit
		printf "| mode | throughput, median | ratio: mean [95%% CI] | ratio: median (min-max) | tool user + sys, ms/run | BPF, net, ms/run | BPF of other traffic, ms/run | in the kernel (perf), ms/run | tool CPU %s, ms | tool %% of workload CPU | workload CPU per unit vs %s |\n", per, base
		printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
		for (j = 1; j <= nm[w]; j++) {
			m = ml[w, j]; n = 0
			for (r = 0; r < nr[w]; r++) {
				if (!((w, r, m) in units) || !((w, r, base) in units)) continue
				n++
				q = hs ? units[w, r, m] : bytes[w, r, m] / 1048576
				qb = hs ? units[w, r, base] : bytes[w, r, base] / 1048576
				thr[n] = q / secs[w, r, m]
				ratio[n] = thr[n] / (qb / secs[w, r, base])
				net = bpf[w, r, m] - bg[w, r, m]
				if (net < 0) net = 0
				bcpu[n] = net / 1e6
				if (perf_seen)
					net = kern[w, r, m]
				tool = tuser[w, r, m] + tsys[w, r, m] + net / 1000
				kcpu[n] = kern[w, r, m] / 1e6
				ucpu[n] = tuser[w, r, m] / 1000
				scpu[n] = tsys[w, r, m] / 1000
				bgcpu[n] = bg[w, r, m] / 1e6
				amount = hs ? units[w, r, m] / 1000 : bytes[w, r, m] / 1073741824
				perunit[n] = amount > 0 ? tool / 1000 / amount : 0
				share[n] = work[w, r, m] > 0 ? 100 * tool / work[w, r, m] : 0
				wcu[n] = (work[w, r, m] / q) / (work[w, r, base] / qb)
			}
			if (n == 0) continue
			sum = 0
			for (i = 1; i <= n; i++) sum += ratio[i]
			mean = sum / n; ss = 0
			for (i = 1; i <= n; i++) ss += (ratio[i] - mean) ^ 2
			ci = n > 1 ? t95(n - 1) * sqrt(ss / (n - 1)) / sqrt(n) : 0
			tm = median(thr, n)
			rm = median(ratio, n); rlo = lo; rhi = hi
			shm = median(share, n); slo = lo; shi = hi
			pu = median(perunit, n)
			res_share[w, m] = shm; res_pu[w, m] = pu; res_ratio[w, m] = mean
			printf "| %s | %.1f | %.3f [%.3f, %.3f] | %.3f (%.3f-%.3f) | %.1f + %.1f | %.1f | %.1f | %.1f | %.2f | %.3f%% (%.3f-%.3f) | %.3f |\n",
				m, tm, mean, mean - ci, mean + ci, rm, rlo, rhi,
				median(ucpu, n), median(scpu, n), median(bcpu, n),
				median(bgcpu, n), median(kcpu, n),
				pu, shm, slo, shi,
				median(wcu, n)
		}
		if (((w, "tlswatch") in res_share) && ((w, "tcpdump") in res_share))
			printf "\ngoal (%s): tlswatch <= 1%% of the workload's CPU: %s (%.3f%%); below tcpdump: %s (%.2f vs %.2f ms %s)\n",
				w, res_share[w, "tlswatch"] <= 1 ? "met" : "NOT met",
				res_share[w, "tlswatch"],
				res_pu[w, "tlswatch"] < res_pu[w, "tcpdump"] ? "met" : "NOT met",
				res_pu[w, "tlswatch"], res_pu[w, "tcpdump"], per
	}
	print ""
	print "ratio: throughput over that of `" base "` in the same round; the CI is Student's t over the rounds."
	if (perf_seen) {
		print "tool CPU: user+sys of the tool's cgroup, plus its work in the kernel from perf's samples of the host"
		print "(\"in the kernel (perf)\"): for the BPF tools (tlswatch, floor, floor_state, empty) their programs and the cgroup hooks"
		print "calling them, with bpf_stats off as in production (so no run_time_ns); for tcpdump its tap, the"
		print "packet socket's filter and copy of each packet, run in the workload's context. perf runs in every"
		print "mode, so its own cost weighs on all alike."
	} else {
		print "tool CPU: user+sys of the tool's cgroup, plus its BPF programs' run_time_ns (tlswatch, floor, floor_state, empty) less what"
		print "the host's other traffic made (measured for 1 s before the load, scaled to the run). No perf in"
		print "these runs: tcpdump's tap in the kernel is NOT counted, and its figures are too low."
	}
	if (floor_seen)
		print "floor: no state, no decoding, each ClientHello and the server's answer sent and thrown away: the least a watcher on these hooks pays."
	if (state_seen)
		print "floor_state: as floor, but each connection followed as tlswatch does (state in its socket, open and close, capture ended by the server's second segment; five events per TLS 1.2 handshake), decoding nothing: the least a watcher that keeps connections pays."
	if (empty_seen)
		print "empty: programs that only return, on the three hooks tlswatch uses: what the hooks themselves cost."
}
