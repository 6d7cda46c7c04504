#!/usr/bin/env bash
# Benchmarks of the bundle against its peers.  Every figure and every ratio
# is measured in this one run, on this machine.
#
# Usage: bench/run.sh BUILD_DIR [SECTION...]      (default: every section)
# Sections: enroll (SCEP enrollment: scep-ca vs micromdm scepserver vs the
#           machine's RSA limit), ocsp (scep-ca's OCSP responder vs
#           openssl ocsp; CRL signing with 100 000 entries), radius (EAP-TLS
#           logins with and without rlm_entra_match, its cost per request,
#           Graph calls per login, time from disable to refusal),
#           revocation (time from a device deleted in Entra to OCSP
#           answering revoked and to the CRL listing it), store (serial
#           lookups in a store of 1 000 000 certificates vs bare SQLite).
# Environment: BENCH_REQUESTS (enrollments per run, default 2000),
#              SCEP_CA (the daemon, default BUILD/scep-ca),
#              BENCH_KEEP=1 keeps the work directory.
#
# Cleanup: every process is stopped by its PID, the network namespace is
# deleted and the work directory removed at exit, even on failure.
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 2
shift || true
ALL_SECTIONS="enroll ocsp radius revocation store"	# every section_NAME below, in order
SECTIONS=${*:-$ALL_SECTIONS}
REQUESTS=${BENCH_REQUESTS:-2000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")
PIDS=()
NETNS=""
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
SCEP_CA=${SCEP_CA:-$BUILD/scep-ca}

# ---- common helpers --------------------------------------------------------
. "$(dirname "$0")/lib.sh"

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	[ -n "$NETNS" ] && ip netns del "$NETNS" 2>/dev/null
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
cd "$WORK" || exit 1	# nothing this script runs writes into the tree

# Removes a PID from the list stopped at exit (after stopping it).
forget_pid() {
	local pid=$1 i
	stop_pid "$pid"
	for i in "${!PIDS[@]}"; do
		[ "${PIDS[$i]}" = "$pid" ] && unset 'PIDS[i]'
	done
}

# ---- section: SCEP enrollment ----------------------------------------------
#
# Peers: micromdm's scepserver 2.1.0 (Debian package `scep`), run in a
# network namespace with only loopback because it binds every address;
# our scep-ca on 127.0.0.1.  Both with an RSA-2048 CA, both driven by
# bench/enroll_bench with pre-built RSA-2048 PKCSReqs (AES-128, SHA-256).

ENROLL_CHALLENGE=bench-challenge-$$

# enroll_measure NAME URL PID NETNS CLIENTS EXTRA...: runs enroll_bench and
# sets RATE, OK, FAILED, DISTINCT, CPU_MS (server CPU per enrollment).
enroll_measure() {
	local name=$1 url=$2 pid=$3 ns=$4 clients=$5 out t0 t1 line2
	shift 5
	local cmd=("$BUILD/bench/enroll_bench" --url "$url"
	    --challenge "$ENROLL_CHALLENGE" --requests "$REQUESTS"
	    --concurrency "$clients" --keys 32 --digest sha256 --cipher aes128
	    --check-serials --prefix "$name-$clients" "$@")
	[ -n "$ns" ] && cmd=(ip netns exec "$ns" "${cmd[@]}")
	t0=$(cpu_ticks "$pid")
	# Ticks are read around the whole run; the preparation costs the
	# server nothing but the one GetCACert.
	out=$(timeout 600 "${cmd[@]}" 2>"$WORK/$name-$clients.err")
	t1=$(cpu_ticks "$pid")
	line2=$(printf '%s\n' "$out" | sed -n 2p)
	out=$(printf '%s\n' "$out" | sed -n 1p)
	RATE=$(field rate "$out"); RATE=${RATE%/s}
	OK=$(field ok "$out"); FAILED=$(field failed "$out")
	DISTINCT=$(field distinct_serials "$line2")
	CPU_MS=n/a
	if [ -n "$OK" ] && [ "${OK:-0}" -gt 0 ] && [ -n "$t0" ] && [ -n "$t1" ]; then
		CPU_MS=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$OK" \
		    'BEGIN { printf "%.2f", d * 1000 / hz / n }')
	fi
	printf '  %-10s %d client(s): %s\n' "$name" "$clients" "${out:-no result}"
	[ -n "$line2" ] && printf '  %-10s              %s\n' "" "$line2"
	if [ -z "$RATE" ]; then
		RATE=0
		sed 's/^/    | /' "$WORK/$name-$clients.err" | tail -5
	elif [ "${FAILED:-0}" -gt 0 ]; then
		sed 's/^/    | /' "$WORK/$name-$clients.err" | tail -3
	fi
}

# The machine limit: three RSA-2048 private-key operations per enrollment
# (decrypt the request, sign the certificate, sign the reply).
enroll_limit() {
	local sign
	sign=$(openssl speed -seconds 3 rsa2048 2>/dev/null |
	    awk '/^rsa 2048 bits/ { print $6 }')
	SIGN_PER_S=${sign:-0}
	LIMIT=$(awk -v s="$SIGN_PER_S" -v c="$NCPU" 'BEGIN { printf "%.0f", s * c / 3 }')
	echo "  machine limit: openssl speed rsa2048 = $SIGN_PER_S sign/s per core" \
	    "x $NCPU cores / 3 = $LIMIT enrollments/s"
	# What the cores really give together (shared caches, neighbours).
	sign=$(openssl speed -multi "$NCPU" -seconds 3 rsa2048 2>/dev/null |
	    awk '/^rsa 2048 bits/ { print $6 }')
	echo "  (openssl speed -multi $NCPU rsa2048 = ${sign:-?} sign/s in all:" \
	    "$(awk -v s="${sign:-0}" 'BEGIN { printf "%.0f", s / 3 }')" \
	    "enrollments/s if nothing but the 3 RSA signatures ran)"
}

# Starts micromdm's scepserver on a fresh RSA-2048 depot inside NETNS.
# Sets MDM_PID and MDM_URL.  Returns 1 when it cannot.
micromdm_start() {
	local depot=$WORK/mdm-depot-$1 port
	port=$(free_port)
	command -v scepserver >/dev/null || { echo "  micromdm: scepserver not installed"; return 1; }
	rm -rf "$depot"
	scepserver ca -init -depot "$depot" -keySize 2048 >"$WORK/mdm-init.log" 2>&1 || {
		echo "  micromdm: scepserver ca -init failed"; return 1; }
	ip netns exec "$NETNS" scepserver -depot "$depot" -port "$port" \
	    -challenge "$ENROLL_CHALLENGE" >"$WORK/mdm-$1.log" 2>&1 &
	MDM_PID=$!
	PIDS+=("$MDM_PID")
	MDM_URL=http://127.0.0.1:$port/scep
	wait_tcp "$port" "$MDM_PID" "$NETNS" || {
		echo "  micromdm: not listening"; return 1; }
}

# Makes the private network namespace micromdm needs.  Returns 1 if not.
netns_make() {
	NETNS=scepbench$$
	if ! ip netns add "$NETNS" 2>/dev/null; then
		NETNS=""
		return 1
	fi
	ip netns exec "$NETNS" ip link set lo up
}

# Starts our scep-ca on a fresh directory.  Sets OUR_PID and OUR_URL.
scepca_start() {
	local dir=$WORK/scep-ca-$1 port key=${2:-rsa:2048}
	if [ -d "$SCEP_CA" ]; then
		echo "  scep-ca: $SCEP_CA is a directory (the objects' folder), not" \
		    "the daemon; skipped"
		return 1
	fi
	if [ ! -x "$SCEP_CA" ]; then
		echo "  scep-ca: $SCEP_CA is not built (yet); skipped"
		return 1
	fi
	"$SCEP_CA" init --dir "$dir" --challenge "$ENROLL_CHALLENGE" \
	    --key "$key" >"$WORK/scep-ca-init.log" 2>&1 || {
		echo "  scep-ca: init failed; skipped:"
		tail -3 "$WORK/scep-ca-init.log" | sed 's/^/    | /'
		return 1; }
	port=$(free_port)
	serve_user "$dir" || return 1
	"$SCEP_CA" serve --dir "$dir" --listen "127.0.0.1:$port" \
	    "${SERVE_USER[@]}" >"$WORK/scep-ca-$1.log" 2>&1 &
	OUR_PID=$!
	PIDS+=("$OUR_PID")
	OUR_URL=http://127.0.0.1:$port/scep
	if ! wait_tcp "$port" "$OUR_PID"; then
		echo "  scep-ca: serve did not listen; skipped:"
		tail -3 "$WORK/scep-ca-$1.log" | sed 's/^/    | /'
		return 1
	fi
}

# verdict VALUE TARGET: "met" or "NOT met".
verdict() {
	awk -v v="$1" -v t="$2" 'BEGIN { r = (v + 0 >= t + 0) ? "met" : "NOT met"; print r }'
}

section_enroll() {
	local c have_mdm=0 have_ours=0
	declare -A mdm_rate ours_rate
	local mdm_cpu=n/a ours_cpu=n/a mdm_serials="n/a" ours_serials="n/a" ours_ec=""

	echo "== enroll: SCEP enrollments/s, $REQUESTS pre-built RSA-2048 PKCSReqs per run"
	if [ ! -x "$BUILD/bench/enroll_bench" ]; then
		echo "  enroll_bench is not built; section skipped"
		return 0
	fi
	enroll_limit

	# (a) micromdm scepserver, 1 then 2 clients, fresh depot for each.
	if [ "$(id -u)" -ne 0 ] || ! netns_make; then
		echo "  micromdm: cannot create a network namespace (need root); skipped"
	else
		for c in 1 2; do
			micromdm_start "$c" || break
			enroll_measure micromdm "$MDM_URL" "$MDM_PID" "$NETNS" "$c" \
			    --allow-echoed-nonce
			mdm_rate[$c]=$RATE
			mdm_cpu=$CPU_MS
			mdm_serials="${DISTINCT:-?} distinct of ${OK:-?} issued"
			forget_pid "$MDM_PID"
			have_mdm=1
		done
	fi

	# (b) our scep-ca, the same way, fresh directory for each.
	for c in 1 2; do
		scepca_start "$c" || break
		enroll_measure scep-ca "$OUR_URL" "$OUR_PID" "" "$c"
		ours_rate[$c]=$RATE
		ours_cpu=$CPU_MS
		ours_serials="${DISTINCT:-?} distinct of ${OK:-?} issued"
		forget_pid "$OUR_PID"
		have_ours=1
	done
	# (c) our scep-ca with an EC P-256 CA (its RA stays RSA-2048): the
	# certificate signature is then ECDSA, two RSA operations remain.
	if [ "$have_ours" = 1 ] && scepca_start ec ec:p256; then
		enroll_measure scep-ca-ec "$OUR_URL" "$OUR_PID" "" 2
		ours_ec="$RATE/s with 2 clients, $CPU_MS ms server CPU per enrollment"
		forget_pid "$OUR_PID"
	fi

	# (d) the summary, 2 clients unless stated.
	echo "  -- summary (2 clients; server CPU per enrollment from /proc/PID/stat)"
	printf '  %-30s %10s %10s %14s  %s\n' server "1 client" "2 clients" \
	    "CPU ms/enroll" "serials (2 clients)"
	[ "$have_mdm" = 1 ] && printf '  %-30s %10s %10s %14s  %s\n' \
	    "micromdm scepserver 2.1.0" "${mdm_rate[1]:-n/a}" \
	    "${mdm_rate[2]:-n/a}" "$mdm_cpu" "$mdm_serials"
	[ "$have_ours" = 1 ] && printf '  %-30s %10s %10s %14s  %s\n' \
	    "scep-ca" "${ours_rate[1]:-n/a}" "${ours_rate[2]:-n/a}" \
	    "$ours_cpu" "$ours_serials"
	printf '  %-30s %10s %10s\n' "machine RSA limit" "" "$LIMIT"
	[ -n "${ours_ec:-}" ] && echo "  scep-ca with an EC P-256 CA: $ours_ec"
	if [ "$have_ours" = 1 ] && [ -n "${ours_rate[2]:-}" ]; then
		local ratio pct
		if [ "$have_mdm" = 1 ] && [ -n "${mdm_rate[2]:-}" ]; then
			ratio=$(awk -v a="${ours_rate[2]}" -v b="${mdm_rate[2]}" \
			    'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
			echo "  ours / micromdm: ${ratio}x   (target >= 5x: $(verdict "$ratio" 5))"
		else
			echo "  ours / micromdm: n/a (micromdm not measured)"
		fi
		pct=$(awk -v a="${ours_rate[2]}" -v l="$LIMIT" \
		    'BEGIN { printf "%.1f", (l > 0) ? 100 * a / l : 0 }')
		echo "  ours / machine limit: ${pct}%   (target >= 70%: $(verdict "$pct" 70))"
		echo "  our CPU per enrollment: $ours_cpu ms (limit: 3 RSA signs =" \
		    "$(awk -v s="$SIGN_PER_S" 'BEGIN { printf "%.2f", (s > 0) ? 3000 / s : 0 }') ms)"
	else
		echo "  ours: not measured (scep-ca not available yet); targets" \
		    ">= 5x micromdm and >= 70% of the limit not checked"
	fi
	[ -n "$NETNS" ] && ip netns del "$NETNS" 2>/dev/null
	NETNS=""
	return 0
}

section_ocsp() {
	SCEP_CA=$SCEP_CA "$BENCH_DIR/ocsp.sh" "$BUILD"
}

section_radius() {
	"$BENCH_DIR/radius.sh" "$BUILD"
}

section_revocation() {
	SCEP_CA=$SCEP_CA "$BENCH_DIR/revocation.sh" "$BUILD"
}

section_store() {
	SCEP_CA=$SCEP_CA "$BENCH_DIR/store.sh" "$BUILD"
}

# ---- main --------------------------------------------------------------------
rc=0
for s in $SECTIONS; do
	if declare -F "section_$s" >/dev/null; then
		"section_$s" || rc=1
	else
		echo "bench: unknown section '$s'" >&2
		rc=2
	fi
done
exit $rc
