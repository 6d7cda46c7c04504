#!/usr/bin/env bash
# The libFuzzer targets for every parser of network input (tests/fuzz):
# built with clang, ASan and UBSan, each run over its seeds (tests/fuzz/
# seeds: real-client pkiMessages and ones validly signed by large and odd
# keys, CSRs and public keys of unusual types) and then FUZZ_SECONDS
# (default 10) of fuzzing.  A crash, a leak, a sanitizer report or a
# differential target's disagreement with OpenSSL fails the target.
. "$TOP/tests/integration/lib.sh"

if ! command -v clang >/dev/null 2>&1; then
	skip "fuzz_targets_build" "clang is not installed"
	exit 0
fi
FUZZ=$BUILD/fuzz
check "fuzz_targets_build" "$TOP/tests/fuzz/build.sh" "$FUZZ"
SECONDS_EACH=${FUZZ_SECONDS:-10}

. "$TOP/tests/fuzz/seeds.sh"

for t in "$FUZZ"/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	corpus=$WORK/corpus-$name
	if ! fuzz_seeds "$name" "$corpus"; then
		not_ok "${name}_has_seeds" "no seeds for $name in tests/fuzz/seeds.sh"
		continue
	fi
	if (cd "$WORK" && "$t" -max_total_time="$SECONDS_EACH" -max_len=16384 \
	    -rss_limit_mb=2048 "$corpus" >"$WORK/$name.log" 2>&1); then
		ok "${name}_finds_nothing_in_${SECONDS_EACH}s"
	else
		not_ok "${name}_finds_nothing_in_${SECONDS_EACH}s" \
		    "$(grep -E 'ERROR|SUMMARY|crash-|leak-' "$WORK/$name.log" | head -5)"
	fi
done
