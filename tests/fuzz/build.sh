#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, ASan and
# UBSan into OUT.  Usage: tests/fuzz/build.sh OUT
set -eu
OUT=${1:?usage: build.sh OUT}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$OUT/obj"
CC=${FUZZ_CC:-clang}
PKGS="openssl sqlite3 libmicrohttpd libcurl jansson inih"
CFLAGS="-g -O1 -std=gnu11 -D_GNU_SOURCE -pthread -fsanitize=fuzzer-no-link,address,undefined \
 -fno-sanitize-recover=undefined -Wall -Wextra -Werror -Wno-unused-parameter \
 -I$TOP/shared -I$TOP/scep-ca -I$TOP/rlm_entra_match $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lm"

# Every library source once; the fuzz targets link against them.
objs=""
for src in "$TOP"/shared/*/*.c "$TOP"/scep-ca/*.c "$TOP"/scep-ca/*/*.c \
    "$TOP"/rlm_entra_match/entra_match*.c; do
	case "$src" in */main.c) continue ;; esac
	rel=${src#"$TOP"/}
	obj="$OUT/obj/$(printf '%s' "${rel%.c}" | tr '/-' '__').o"
	# Rebuilt when the source or a header it includes changed (-MMD
	# writes the list): a stale object with an old struct layout would
	# crash the targets.
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ ! -f "${obj%.o}.d" ] ||
	    [ -n "$(find $(sed -e 's/^[^:]*://' -e 's/\\$//' "${obj%.o}.d") \
	    -newer "$obj" 2>/dev/null | head -n 1)" ]; then
		$CC $CFLAGS -MMD -MP -c -o "$obj" "$src"
	fi
	objs="$objs $obj"
done
for t in "$TOP"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$t" .c)
	$CC $CFLAGS -fsanitize=fuzzer -o "$OUT/$name" "$t" $objs $LIBS
done
echo "fuzz targets in $OUT: $(cd "$OUT" && ls fuzz_* | tr '\n' ' ')"
