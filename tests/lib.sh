# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the live test scripts that start servers. Before sourcing,
# set suite (the name on PASS/FAIL lines), tmp (removed at the end), pids
# (servers to stop) and tw (a running tlswatch, or empty).

cleanup() {
	set +e
	[ -n "$tw" ] && kill -9 "$tw" 2>/dev/null && wait "$tw" 2>/dev/null
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pass=0
fail=0
ok() { echo "PASS $suite $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $suite $1: $2"; fail=$((fail + 1)); }
