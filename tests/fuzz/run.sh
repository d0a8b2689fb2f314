#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Run each fuzz target given (build/fuzz/fuzz_NAME) for FUZZ_TIME seconds
# (default 60), one after the other, from seeds made from the golden
# captures (seeds.py, made once into build/fuzz/seeds) and the corpus
# kept from earlier runs (build/fuzz/corpus/NAME). Prints per target the
# executions, their rate and libFuzzer's coverage (cov: edges, ft:
# features); a crash, leak or sanitizer report is a FAIL line with the
# input saved under build/fuzz/artifacts/NAME/.
# FUZZ_JOBS=2 runs two targets at once.
set -u
cd "$(dirname "$0")/../.."
out=build/fuzz
time=${FUZZ_TIME:-60}
jobs=${FUZZ_JOBS:-1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ ! -d $out/seeds ]; then
	echo "fuzz: making seeds from tests/golden (tshark, once)"
	tests/fuzz/seeds.py $out/seeds.tmp tests/golden/captures/*.pcap \
		tests/golden/corpora/*.pcap && mv $out/seeds.tmp $out/seeds || exit 1
fi

one() {
	local bin=$1 name=${1##*/fuzz_} dict=() regs=()
	local log=$out/logs/$name.log
	mkdir -p $out/corpus/$name $out/artifacts/$name $out/logs
	[ -f tests/fuzz/$name.dict ] && dict=(-dict=tests/fuzz/$name.dict)
	[ -d tests/fuzz/regressions/$name ] && regs=(tests/fuzz/regressions/$name)
	"$bin" -max_total_time="$time" -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix=$out/artifacts/$name/ \
		$out/corpus/$name $out/seeds/$name "${regs[@]}" \
		>"$log" 2>&1
	local rc=$? last execs rate
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: //p' "$log")
	printf '%-8s time %ss execs %s exec/s %s %s\n' "$name" "$time" \
		"${execs:-?}" "${rate:-?}" \
		"$(grep -o 'cov: [0-9]* ft: [0-9]*' <<<"$last")"
	if [ $rc -ne 0 ] || grep -qE '^==[0-9]+==ERROR|runtime error:' "$log"; then
		echo "FAIL fuzz $name: see $log and $out/artifacts/$name/"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -5
		return 1
	fi
	echo "PASS fuzz $name"
}

fail=0
running=0
for bin in "$@"; do
	one "$bin" &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then
		wait -n || fail=1
		running=$((running - 1))
	fi
done
while [ $running -gt 0 ]; do
	wait -n || fail=1
	running=$((running - 1))
done
exit $fail
