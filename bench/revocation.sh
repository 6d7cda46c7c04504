#!/usr/bin/env bash
# Automatic revocation benchmark: the time from a device deletion in the
# Microsoft cloud emulator (tests/fake-entra) to scep-ca's OCSP responder
# answering "revoked", and to the served CRL listing the certificate.
#
# Each run: a new device and a certificate naming it (IntuneDeviceId SAN),
# wait until the sync has looked the device up, wait a random part of the
# sync interval (deletions do not arrive in step with the polling), delete
# the device, then poll `openssl ocsp` (and the CRL) until they say
# revoked.  The figure is bounded by [entra] sync_interval: a deletion is
# seen at the next delta round, then applied in one transaction.
#
# Usage: bench/revocation.sh BUILD_DIR     (bench/run.sh calls it as a section)
# Environment: BENCH_REVOKE_RUNS (default 9),
#              BENCH_SYNC_INTERVAL (seconds, default 1),
#              SCEP_CA (the daemon, default BUILD/scep-ca),
#              BENCH_KEEP=1 keeps the work directory.
#
# Every process is stopped by its PID and the work directory removed at
# exit, even on failure.
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 2
RUNS=${BENCH_REVOKE_RUNS:-9}
INTERVAL=${BENCH_SYNC_INTERVAL:-1}
SCEP_CA=${SCEP_CA:-$BUILD/scep-ca}
FAKE=$BUILD/fake-entra
SCEPREQ=$BUILD/tools/scepreq
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-revocation.XXXXXX")
PIDS=()

. "$(dirname "$0")/lib.sh"

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "  work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$WORK" || exit 1


echo "== revocation: device deleted in Entra -> OCSP revoked, $RUNS runs," \
    "sync_interval = $INTERVAL s"
for f in "$SCEP_CA" "$FAKE" "$SCEPREQ"; do
	if [ ! -x "$f" ]; then
		echo "  $f is not built; section skipped"
		exit 0
	fi
done

# ---- the emulator and the CA ------------------------------------------------
FPORT=$(free_port)
B=http://127.0.0.1:$FPORT
"$FAKE" --listen "127.0.0.1:$FPORT" >fake.log 2>&1 &
PIDS+=("$!")
wait_tcp "$FPORT" "$!" || { echo "  fake-entra did not start; skipped"; exit 1; }
TENANT=bench.onmicrosoft.com
CLIENT=6c1b2a3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d
admin() {
	curl -sS -f -X "$1" -H 'Content-Type: application/json' \
	    ${3:+--data "$3"} "$B$2" >/dev/null
}
admin POST /_admin/apps "{\"tenant\":\"$TENANT\",\"client_id\":\"$CLIENT\",\"client_secret\":\"bench-secret\"}"

CHALLENGE=bench-challenge-$$
"$SCEP_CA" init --dir ca --challenge "$CHALLENGE" --key rsa:2048 >init.log 2>&1 ||
    { echo "  scep-ca init failed; skipped"; exit 1; }
(umask 077; echo bench-secret >ca/entra.secret)
cat >>ca/scep-ca.conf <<EOF

[crl]
min_interval = 1

[entra]
tenant = $TENANT
client_id = $CLIENT
client_secret_file = entra.secret
login_base = $B
graph_base = $B
timeout = 5
sync_interval = $INTERVAL
EOF
PORT=$(free_port)
serve_user ca || exit 1
"$SCEP_CA" serve --dir ca --listen "127.0.0.1:$PORT" "${SERVE_USER[@]}" >serve.log 2>&1 &
CA_PID=$!
PIDS+=("$CA_PID")
wait_tcp "$PORT" "$CA_PID" || { echo "  scep-ca did not start; skipped"; tail -3 serve.log; exit 1; }
URL=http://127.0.0.1:$PORT

revoked_ocsp() {
	openssl ocsp -issuer ca/ca.crt -cert "$1" -url "$URL/ocsp" -noverify \
	    -no_nonce 2>/dev/null | grep -q ': revoked'
}
on_crl() {
	curl -sf -o poll.crl "$URL/crl/ca.crl" &&
	    openssl crl -inform DER -in poll.crl -noout -text 2>/dev/null |
	    grep -q "Serial Number: $1\$"
}
known() {
	[ "$(sqlite3 -readonly ca/store.db "SELECT count(*) FROM entra_objects WHERE kind = 'device' AND ext_id = '$1'")" = 1 ]
}

# ---- the runs ---------------------------------------------------------------
ocsp_ms=() crl_ms=()
for i in $(seq "$RUNS"); do
	dev=$(cat /proc/sys/kernel/random/uuid)
	admin POST /_admin/devices "{\"deviceId\":\"$dev\"}"
	"$SCEPREQ" --url "$URL/scep" --challenge "$CHALLENGE" --subject "CN=bench-$i" \
	    --keygen rsa:2048 --san-uri "IntuneDeviceId://$dev" --out "c$i.pem" \
	    >"enroll-$i.log" 2>&1 || { echo "  enrollment $i failed"; exit 1; }
	serial=$(openssl x509 -in "c$i.pem" -noout -serial | cut -d= -f2 | sed 's/^0*//')
	[ $(( ${#serial} % 2 )) = 1 ] && serial=0$serial
	for t in $(seq 200); do known "$dev" && break; sleep 0.05; done
	known "$dev" || { echo "  run $i: the sync never looked $dev up"; exit 1; }
	# A random phase against the polling.
	sleep "$(awk -v s=$RANDOM -v i="$INTERVAL" 'BEGIN { printf "%.3f", s / 32768 * i }')"
	t0=$(now_ms)
	admin DELETE "/_admin/devices/$dev"
	until revoked_ocsp "c$i.pem"; do
		[ $(( $(now_ms) - t0 )) -gt $(( INTERVAL * 1000 + 30000 )) ] &&
		    { echo "  run $i: not revoked after 30 s more than the interval"; exit 1; }
		sleep 0.01
	done
	t1=$(now_ms)
	until on_crl "$serial"; do
		[ $(( $(now_ms) - t0 )) -gt $(( INTERVAL * 1000 + 30000 )) ] &&
		    { echo "  run $i: not on the CRL after 30 s more"; exit 1; }
		sleep 0.02
	done
	t2=$(now_ms)
	ocsp_ms+=($((t1 - t0)))
	crl_ms+=($((t2 - t0)))
	printf '  run %2d: OCSP revoked after %5d ms, on the CRL after %5d ms\n' \
	    "$i" $((t1 - t0)) $((t2 - t0))
done

# stats LABEL VALUES...: median, min, max.
stats() {
	local label=$1; shift
	printf '%s\n' "$@" | sort -n | awk -v l="$label" '
		{ v[NR] = $1 }
		END {
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "  %-28s median %6.0f ms   min %6d ms   max %6d ms   (%d runs)\n", \
			    l, m, v[1], v[NR], NR
		}'
}
echo "  -- summary (deletion in Entra -> visible; sync_interval = $INTERVAL s," \
    "[crl] min_interval = 1 s)"
stats "OCSP answers revoked" "${ocsp_ms[@]}"
stats "served CRL lists it" "${crl_ms[@]}"
echo "  bound: sync_interval + 1 s = $((INTERVAL * 1000 + 1000)) ms for OCSP;" \
    "max $(printf '%s\n' "${ocsp_ms[@]}" | sort -n | tail -1) ms:" \
    "$( [ "$(printf '%s\n' "${ocsp_ms[@]}" | sort -n | tail -1)" -le $((INTERVAL * 1000 + 1000)) ] && echo met || echo 'NOT met')"
exit 0
