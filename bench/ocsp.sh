#!/usr/bin/env bash
# OCSP and CRL benchmark, every figure measured in this one run:
#   - OCSP responses/s of scep-ca against `openssl ocsp` run as a responder
#     over an index of the same certificates (target: scep-ca >= 5x), both
#     driven by bench/ocsp_bench with the same pre-built RFC 5019 requests
#     (SHA-1 CertID, no nonce, random serials of the store), the same
#     concurrency, the same delegated signer (DIR/ocsp.crt, EC P-256);
#   - the time to sign a CRL with 100 000 entries (target < 1 s).
#
# Usage: bench/ocsp.sh BUILD_DIR        (bench/run.sh calls it as a section)
# Environment: BENCH_OCSP_CERTS (store size, default 100000),
#              BENCH_OCSP_REQUESTS (requests per mix, default 40000),
#              BENCH_OCSP_CONCURRENCY (connections, default 8),
#              BENCH_KEEP=1 keeps the work directory.
#
# `openssl ocsp -port` binds every address, so both responders and the
# load generator run in a private network namespace holding only
# loopback (root needed).  Every process is stopped by its PID, the
# namespace deleted and the work directory removed at exit.
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 2
CERTS=${BENCH_OCSP_CERTS:-100000}
REQUESTS=${BENCH_OCSP_REQUESTS:-40000}
CONC=${BENCH_OCSP_CONCURRENCY:-8}
SCEP_CA=${SCEP_CA:-$BUILD/scep-ca}
LOADGEN=$BUILD/bench/ocsp_bench
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-ocsp.XXXXXX")
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
PIDS=()
NETNS=""

. "$(dirname "$0")/lib.sh"

# Stops a process and its children (`openssl ocsp -multi` forks
# responders and does not always stop them).
stop_tree() {
	local kids k
	kids=$(pgrep -P "$1")
	stop_pid "$1"
	for k in $kids; do
		stop_pid "$k"
	done
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		stop_tree "$pid"
	done
	[ -n "$NETNS" ] && ip netns del "$NETNS" 2>/dev/null
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "  work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops a process tree and drops it from the list.
forget_pid() {
	local pid=$1 i
	stop_tree "$pid"
	for i in "${!PIDS[@]}"; do
		[ "${PIDS[$i]}" = "$pid" ] && unset 'PIDS[i]'
	done
}

# A port nothing listens on inside the namespace.
# wait_listen PORT PID: up to 15 s until PORT listens in the namespace.
# Not by connecting: a single-process `openssl ocsp` stays stuck on a
# probe connection that closes without a request.
wait_listen() {
	local i
	for i in $(seq 300); do
		kill -0 "$2" 2>/dev/null || return 1
		ip netns exec "$NETNS" ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# All the CPU of a process tree (openssl ocsp -multi forks children).
tree_ticks() {
	local p t=0
	for p in $1 $(pgrep -P "$1"); do
		t=$((t + $(cpu_ticks "$p" || echo 0)))
	done
	echo "$t"
}

verdict() {
	awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {
		ok = (op == "ge") ? (v + 0 >= t + 0) : (v + 0 < t + 0)
		print ok ? "met" : "NOT met" }'
}

echo "== ocsp: OCSP responses/s (scep-ca vs openssl ocsp, $CERTS certificates) and CRL signing"
for need in "$SCEP_CA" "$LOADGEN"; do
	[ -x "$need" ] || { echo "  $need is not built; section skipped"; exit 0; }
done
command -v sqlite3 >/dev/null || { echo "  sqlite3 missing; section skipped"; exit 0; }
if [ "$(id -u)" -ne 0 ]; then
	echo "  needs root for a network namespace (openssl ocsp binds every address); skipped"
	exit 0
fi
NETNS=ocspbench$$
ip netns add "$NETNS" 2>/dev/null || { NETNS=""; echo "  cannot make a network namespace; skipped"; exit 0; }
ip netns exec "$NETNS" ip link set lo up

# ---- one CA, one store, one index ------------------------------------------------
CA=$WORK/ca
"$SCEP_CA" init --dir "$CA" --challenge bench-challenge-$$ >"$WORK/init.log" 2>&1 || {
	echo "  scep-ca init failed:"; sed 's/^/    | /' "$WORK/init.log"; exit 1; }
cat >>"$CA/scep-ca.conf" <<'EOF'

[ocsp]
next_update = 600
EOF

# Real-looking rows: 16-byte positive serials, 1 in 10 revoked.
t0=$(date +%s%N)
now=$(date +%s)
sqlite3 "$CA/store.db" <<EOF || { echo "  filling the store failed"; exit 1; }
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $CERTS)
INSERT INTO certificates (serial, issuer, subject, san, not_before, not_after,
    issued_at, status, revoked_at, reason, status_source, sha1, sha256, der,
    profile, key_hash)
SELECT '4' || substr(hex(randomblob(16)), 2), 'CN=scep-ca', 'CN=device-' || i,
    '', $now - 86400, $now + 365 * 86400, $now - 86400,
    CASE WHEN i % 10 = 0 THEN 'revoked' ELSE 'valid' END,
    CASE WHEN i % 10 = 0 THEN $now - 3600 END,
    CASE WHEN i % 10 = 0 THEN 1 END, 'bench',
    lower(hex(randomblob(20))), lower(hex(randomblob(32))), x'30', 'default',
    'bench'
FROM n;
COMMIT;
EOF
# The same rows for both responders: the load generator's list and
# openssl's index.txt (V/R, expiry, revocation time, serial, file, name).
sqlite3 "$CA/store.db" "SELECT serial || ' ' || CASE status WHEN 'valid' THEN 'V' ELSE 'R' END
    FROM certificates" >"$WORK/serials.txt"
sqlite3 -separator "$(printf '\t')" "$CA/store.db" "SELECT
    CASE status WHEN 'valid' THEN 'V' ELSE 'R' END,
    substr(strftime('%Y%m%d%H%M%S', not_after, 'unixepoch'), 3) || 'Z',
    CASE status WHEN 'valid' THEN '' ELSE substr(strftime('%Y%m%d%H%M%S',
      revoked_at, 'unixepoch'), 3) || 'Z,keyCompromise' END,
    serial, 'unknown', '/CN=device-' || substr(subject, 11)
    FROM certificates" >"$WORK/index.txt"
t1=$(date +%s%N)
echo "  store and index: $(wc -l <"$WORK/serials.txt") certificates" \
    "($(grep -c ' R$' "$WORK/serials.txt") revoked), made in $(( (t1 - t0) / 1000000 )) ms"

# ---- the responders ----------------------------------------------------------------
# Two request mixes, the same for every responder (same seed):
#   repeat  10 000 distinct serials, each asked REQUESTS / 10 000 times, as a
#           RADIUS server or an HTTP cache asks again about the devices it
#           sees (scep-ca then reuses pre-produced responses, RFC 5019);
#   cold    REQUESTS random serials, nearly each asked once: openssl ocsp
#           signs every answer on the spot; scep-ca finds them pre-produced
#           by its background pass (the first request for a serial is no
#           longer the one that pays for its signature).
MIXES="repeat cold"
declare -A RATE US
mix_args() {
	case $1 in
	repeat) echo "--distinct 10000" ;;
	cold) echo "--distinct $REQUESTS" ;;
	esac
}

# measure NAME URL PID: runs every mix; sets RATE[NAME/MIX] and
# US[NAME/MIX] (server CPU microseconds per answer, from /proc).
measure() {
	local name=$1 url=$2 pid=$3 mix out a b
	ip netns exec "$NETNS" "$LOADGEN" --url "$url" --issuer "$CA/ca.crt" \
	    --serials "$WORK/serials.txt" --requests 1000 --concurrency "$CONC" \
	    --label warmup >/dev/null 2>&1
	for mix in $MIXES; do
		a=$(tree_ticks "$pid")
		# shellcheck disable=SC2046
		out=$(ip netns exec "$NETNS" "$LOADGEN" --url "$url" \
		    --issuer "$CA/ca.crt" --serials "$WORK/serials.txt" \
		    --requests "$REQUESTS" --concurrency "$CONC" $(mix_args "$mix") \
		    --label "$name/$mix" --seed 7 2>"$WORK/$name-$mix.err")
		b=$(tree_ticks "$pid")
		RATE[$name/$mix]=$(field rate "$out" | tr -d '/s')
		US[$name/$mix]=$(awk -v d=$((b - a)) -v hz="$CLK_TCK" -v n="$REQUESTS" \
		    'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
		printf '  %s\n' "${out:-$name/$mix: no result}"
		[ -s "$WORK/$name-$mix.err" ] && sed 's/^/    | /' "$WORK/$name-$mix.err" | tail -3
		if [ -z "${RATE[$name/$mix]}" ] || [ "$(field failed "$out")" != 0 ]; then
			echo "    (some answers were wrong or missing)"
			RATE[$name/$mix]=${RATE[$name/$mix]:-0}
		fi
	done
}

# Steady state: scep-ca pre-produces (RFC 5019 §2.2.4) the answer of every
# certificate at start and renews each before its reuse ends; the mixes
# are measured once that first pass is done, and its time and the
# daemon's memory then are shown.  A second run with `presign = no` shows
# the answers signed when first asked, for reference.
wait_presigned() {
	local i
	for i in $(seq 1200); do
		kill -0 "$1" 2>/dev/null || return 1
		grep -q 'pre-produced' "$2" && return 0
		sleep 0.1
	done
	return 1
}
scep_run() {
	local label=$1 presign=$2 port pid log=$WORK/$1.log
	sed -i "s/^presign = .*/presign = $presign/" "$CA/scep-ca.conf"
	port=$(free_port "$NETNS")
	serve_user "$CA" || return 1
	ip netns exec "$NETNS" "$SCEP_CA" serve --dir "$CA" --listen "127.0.0.1:$port" \
	    "${SERVE_USER[@]}" \
	    >"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if ! wait_listen "$port" "$pid"; then
		echo "  $label did not start:"; tail -3 "$log"
	elif [ "$presign" = no ] || wait_presigned "$pid" "$log"; then
		[ "$presign" = yes ] && echo "  $label at start: $(grep -o 'pre-produced.*' "$log" |
		    head -1) ($(( $(cpu_ticks "$pid") * 1000 / CLK_TCK )) ms of CPU;" \
		    "resident memory then $(awk '/^VmRSS/ { print int($2 / 1024) " MiB" }' \
		    "/proc/$pid/status"))"
		measure "$label" "http://127.0.0.1:$port/ocsp" "$pid"
	else
		echo "  $label did not report pre-produced responses:"; tail -3 "$log"
	fi
	forget_pid "$pid"
}
printf '\npresign = yes\n' >>"$CA/scep-ca.conf"
scep_run scep-ca yes
scep_run scep-ca-presign-off no

# openssl ocsp -index: one process (the peer as documented), then one
# process per CPU (-multi) for reference.
openssl_run() {
	local label=$1 port pid; shift
	port=$(free_port "$NETNS")
	ip netns exec "$NETNS" openssl ocsp -index "$WORK/index.txt" -port "$port" \
	    -rsigner "$CA/ocsp.crt" -rkey "$CA/ocsp.key" -CA "$CA/ca.crt" \
	    -nmin 10 -ignore_err "$@" >"$WORK/$label.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if wait_listen "$port" "$pid"; then
		measure "$label" "http://127.0.0.1:$port/" "$pid"
	else
		echo "  $label did not start:"; tail -3 "$WORK/$label.log"
	fi
	forget_pid "$pid"
}
openssl_run openssl-ocsp
openssl_run "openssl-ocsp-multi$NCPU" -multi "$NCPU"

echo "  -- summary: answers/s (server CPU us per answer); $REQUESTS requests per mix," \
    "$CONC connections, $NCPU CPUs shared with the load generator"
printf '  %-28s %22s %22s\n' responder "repeat mix" "cold mix"
for r in scep-ca scep-ca-presign-off openssl-ocsp "openssl-ocsp-multi$NCPU"; do
	printf '  %-28s %22s %22s\n' "$r" \
	    "${RATE[$r/repeat]:-n/a} (${US[$r/repeat]:-n/a} us)" \
	    "${RATE[$r/cold]:-n/a} (${US[$r/cold]:-n/a} us)"
done
for mix in $MIXES; do
	ratio=$(awk -v a="${RATE[scep-ca/$mix]:-0}" -v b="${RATE[openssl-ocsp/$mix]:-0}" \
	    'BEGIN { printf "%.1f", (b > 0) ? a / b : 0 }')
	ratio_m=$(awk -v a="${RATE[scep-ca/$mix]:-0}" \
	    -v b="${RATE[openssl-ocsp-multi$NCPU/$mix]:-0}" \
	    'BEGIN { printf "%.1f", (b > 0) ? a / b : 0 }')
	echo "  $mix mix: scep-ca / openssl ocsp = ${ratio}x (target >= 5x:" \
	    "$(verdict "$ratio" 5 ge)); / openssl ocsp -multi $NCPU = ${ratio_m}x"
done

# ---- CRL with every certificate revoked ---------------------------------------------
sqlite3 "$CA/store.db" "PRAGMA synchronous = OFF; UPDATE certificates
    SET status = 'revoked', revoked_at = $now - 60, reason = 1 WHERE status = 'valid'"
t0=$(date +%s%N)
out=$("$SCEP_CA" crl --dir "$CA" --out "$WORK/big.crl" 2>&1)
t1=$(date +%s%N)
entries=$(openssl crl -inform DER -in "$WORK/big.crl" -noout -text 2>/dev/null |
    grep -c 'Serial Number:')
ms=$(sed -n 's/.*signed in \([0-9]*\) ms.*/\1/p' <<<"$out")
echo "  CRL: $out"
echo "  CRL: $entries entries read back by openssl crl; signing ${ms:-?} ms" \
    "(build + sign + encode), whole command $(( (t1 - t0) / 1000000 )) ms" \
    "(target < 1000 ms: $(verdict "${ms:-99999}" 1000 lt))"
exit 0
