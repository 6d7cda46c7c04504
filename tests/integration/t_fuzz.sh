#!/usr/bin/env bash
# The libFuzzer targets for every parser of network input (tests/fuzz):
# built with clang, ASan and UBSan, each run over its seeds (the real-client
# vectors for pkiMessages) and then FUZZ_SECONDS (default 10) of fuzzing.
# A crash, a leak or a sanitizer report fails the target.
. "$TOP/tests/integration/lib.sh"

if ! command -v clang >/dev/null 2>&1; then
	skip "fuzz_targets_build" "clang is not installed"
	exit 0
fi
FUZZ=$BUILD/fuzz
check "fuzz_targets_build" "$TOP/tests/fuzz/build.sh" "$FUZZ"
SECONDS_EACH=${FUZZ_SECONDS:-10}

# seeds TARGET DIR: fills DIR with the target's seed inputs.
seeds() {
	mkdir -p "$2"
	case "$1" in
	fuzz_scep_req) find "$VECTORS" -name '*.der' -exec cp {} "$2/" \; 2>/dev/null ;;
	fuzz_ms_json) cp "$TOP"/tests/fuzz/seeds/ms_json/* "$2/" ;;
	fuzz_text) cp "$TOP"/tests/fuzz/seeds/text/* "$2/" ;;
	fuzz_ocsp_req|fuzz_ocsp_fast) cp "$TOP"/tests/fuzz/seeds/ocsp/* "$2/" ;;
	esac
}

for t in "$FUZZ"/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	corpus=$WORK/corpus-$name
	seeds "$name" "$corpus"
	if (cd "$WORK" && "$t" -max_total_time="$SECONDS_EACH" -max_len=16384 \
	    -rss_limit_mb=2048 "$corpus" >"$WORK/$name.log" 2>&1); then
		ok "${name}_finds_nothing_in_${SECONDS_EACH}s"
	else
		not_ok "${name}_finds_nothing_in_${SECONDS_EACH}s" \
		    "$(grep -E 'ERROR|SUMMARY|crash-|leak-' "$WORK/$name.log" | head -5)"
	fi
done
