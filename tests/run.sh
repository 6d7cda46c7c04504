#!/usr/bin/env bash
# Runs every unit test (tests/unit, cmocka) and integration test
# (tests/integration/t_*.sh, real peers) and ends with one line:
#   N passed, N failed, N skipped
# Each test program prints TAP lines ("ok - name", "not ok - name",
# "ok - name # SKIP why"); this script counts them.
#
# Usage: tests/run.sh BUILD_DIR [PATTERN]   (PATTERN filters test files)
# Environment: TEST_JOBS (parallel integration scripts, default 2),
#              TEST_TIMEOUT (seconds per script, default 600).
set -u
BUILD=$(cd "${1:-build}" && pwd)
PATTERN=${2:-}
TOP=$(cd "$(dirname "$0")/.." && pwd)
VECTORS=${VECTORS:-$(cd "$TOP/../shared/vectors" 2>/dev/null && pwd || echo "$TOP/../shared/vectors")}
export BUILD TOP VECTORS
JOBS=${TEST_JOBS:-2}
TIMEOUT=${TEST_TIMEOUT:-600}

results=$BUILD/test-results
rm -rf "$results" "$BUILD/tmp"
mkdir -p "$results" "$BUILD/tmp"

# Runs one test program, writing its whole output to results/NAME.log.
run_one() {
	local name=$1; shift
	local log=$results/$name.log
	CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$TIMEOUT" "$@" >"$log" 2>&1
	echo "exit $?" >"$results/$name.rc"
}

tests=()
for t in "$BUILD"/unit/test_*; do
	[ -x "$t" ] || continue
	tests+=("unit:$t")
done
for t in "$TOP"/tests/integration/t_*.sh; do
	[ -f "$t" ] || continue
	tests+=("int:$t")
done

running=0
for entry in "${tests[@]}"; do
	path=${entry#*:}
	name=$(basename "$path" .sh)
	if [ -n "$PATTERN" ] && [[ "$name" != *$PATTERN* ]]; then
		continue
	fi
	echo "running $name"
	if [ "${entry%%:*}" = unit ]; then
		run_one "$name" "$path"
	else
		run_one "$name" bash "$path" &
		running=$((running + 1))
		if [ "$running" -ge "$JOBS" ]; then
			wait -n
			running=$((running - 1))
		fi
	fi
done
wait

pass=0 fail=0 skip=0
for rc in "$results"/*.rc; do
	[ -f "$rc" ] || continue
	name=$(basename "$rc" .rc)
	log=$results/$name.log
	p=$(grep -cE '^ok ' "$log" | head -1)
	s=$(grep -ciE '^ok .*# *skip' "$log" | head -1)
	f=$(grep -cE '^not ok ' "$log" | head -1)
	p=$((p - s))
	code=$(awk '{print $2}' "$rc")
	# A program that died without reporting a failure still failed.
	if [ "$code" != 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $code" >>"$log"
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		f=1
		echo "not ok - $name reported no results" >>"$log"
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	printf '%-40s %3d passed %3d failed %3d skipped\n' "$name" "$p" "$f" "$s"
	if [ "$f" -gt 0 ]; then
		grep -E '^not ok ' "$log" | sed 's/^/    /'
		echo "    --- last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    | /'
	fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
