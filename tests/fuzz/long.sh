#!/usr/bin/env bash
# make fuzz-long: builds every libFuzzer target (tests/fuzz/build.sh) and
# runs each for FUZZ_RUNS executions (default 10 000 000) from its seeds,
# FUZZ_JOBS targets at a time (default 2), then prints one line a target:
# executions, coverage (cov: and ft: of libFuzzer's last stats line),
# seconds, and the crashes, leaks, timeouts and OOMs it wrote.  Not in CI:
# at a few thousand executions a second a target takes the better part of
# an hour.  Exit 0 only when no target found anything.
#
# Usage: tests/fuzz/long.sh BUILD_DIR   (targets in BUILD_DIR/fuzz, runs in
# BUILD_DIR/fuzz-long: logs, grown corpora, artifacts).
set -u
BUILD=$(cd "${1:?usage: long.sh BUILD_DIR}" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${FUZZ_RUNS:-10000000}
JOBS=${FUZZ_JOBS:-2}
OUT=$BUILD/fuzz-long
. "$TOP/tests/fuzz/seeds.sh"

"$TOP/tests/fuzz/build.sh" "$BUILD/fuzz" || exit 1
rm -rf "$OUT"
mkdir -p "$OUT"

# run_one TARGET: fuzzes one target; its output in OUT/NAME.log.
run_one() {
	local t=$1 name
	name=$(basename "$t")
	mkdir -p "$OUT/$name.artifacts"
	if ! fuzz_seeds "$name" "$OUT/$name.corpus"; then
		echo "no seeds" >"$OUT/$name.log"
		echo 1 >"$OUT/$name.rc"
		return
	fi
	(cd "$OUT" && "$t" -runs="$RUNS" -max_len=16384 -rss_limit_mb=2048 \
	    -timeout=30 -print_final_stats=1 \
	    -artifact_prefix="$OUT/$name.artifacts/" "$OUT/$name.corpus" \
	    >"$OUT/$name.log" 2>&1)
	echo $? >"$OUT/$name.rc"
}

echo "fuzz-long: $RUNS executions per target, $JOBS at a time, in $OUT"
running=0
for t in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

# The summary: libFuzzer's final stats and what it left behind.
bad=0
printf '%-18s %12s %8s %8s %8s %8s %s\n' target executions cov ft seconds \
    found exit
for t in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	log=$OUT/$name.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|REDUCE|NEW|pulse|INITED)' "$log" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	found=$(find "$OUT/$name.artifacts" -type f | wc -l)
	rc=$(cat "$OUT/$name.rc" 2>/dev/null || echo '?')
	printf '%-18s %12s %8s %8s %8s %8s %s\n' "$name" "${execs:-?}" \
	    "${cov:-?}" "${ft:-?}" "${secs:-?}" "$found" "$rc"
	if [ "$found" -ne 0 ] || [ "$rc" != 0 ]; then
		bad=1
		grep -E 'ERROR|SUMMARY' "$log" | head -3 | sed 's/^/    /'
	fi
done
exit "$bad"
