#!/usr/bin/env bash
# The network-access part of `make demo` (scripts/demo.sh calls it; it
# also runs alone: scripts/demo_radius.sh BUILD_DIR):
#   a. the Microsoft cloud emulator stands in for Entra ID, with the
#      device laptop-42 enabled
#   b. laptop-42 enrolls a certificate naming its Entra deviceId
#      (IntuneDeviceId://...) from scep-ca, with a real SCEP client
#   c. FreeRADIUS runs the configuration of raddb-examples/ with
#      rlm_entra_match, on loopback
#   d. laptop-42 logs in by EAP-TLS (eapol_test): accepted
#   e. the device is disabled in Entra ID: its next login is refused, with
#      the reason; re-enabled: accepted again
#   f. the device is deleted from Entra ID: scep-ca's own sync revokes its
#      certificate, which OCSP and the CRL show at once, and the login is
#      refused
# Every process is started on 127.0.0.1 and stopped by its PID at the end.
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 1
TOP=$(cd "$(dirname "$0")/.." && pwd)
export BUILD TOP
. "$TOP/tests/integration/lib.sh"	# work directory, ports, PIDs
. "$TOP/tests/integration/radius_lib.sh"	# the private FreeRADIUS
KEEP_WORK=${KEEP_DEMO:-}

say() { printf '\n\033[1m-- %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
die() { echo "demo: $*" >&2; T_FAILED=1; exit 1; }
now_ms() { date +%s%3N; }
for tool in freeradius eapol_test curl; do
	command -v "$tool" >/dev/null || die "$tool is not installed (make demo installs it)"
done
[ -x "$TOOLS/scepreq" ] && [ -x "$FAKE_ENTRA" ] || die "build first: make"

say "a. Entra ID: the Microsoft cloud emulator on loopback, with one device"
FPORT=$(free_port)
B=http://127.0.0.1:$FPORT
bg "$WORK/fake-entra.log" "$FAKE_ENTRA" --listen "127.0.0.1:$FPORT"
wait_tcp "$FPORT" 15 || die "fake-entra did not start"
TENANT=contoso.onmicrosoft.com
CLIENT=6b1e2d3c-4a5f-4e6d-8c7b-9a0f1e2d3c4b
SECRET="demo-secret-$RANDOM$RANDOM"
DEVICE_ID=4f2a9c1e-7b3d-4e8a-9f6c-2d1b0a9e8c7f
admin() {
	curl -sS -f -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$B$2"
}
admin POST /_admin/apps "{\"tenant\":\"$TENANT\",\"client_id\":\"$CLIENT\",\"client_secret\":\"$SECRET\"}" >/dev/null ||
	die "emulator refused the app"
echo "fake-entra serves $B (tenant $TENANT, app $CLIENT)"
run admin POST /_admin/devices "{\"deviceId\":\"$DEVICE_ID\",\"displayName\":\"laptop-42\"}"
echo

say "b. laptop-42 enrolls through SCEP, its Entra deviceId in the SAN"
CA=$WORK/ca
CHALLENGE=demo-$RANDOM$RANDOM
"$SCEP_CA" init --dir "$CA" --subject "CN=Demo Device CA,O=Example" --challenge "$CHALLENGE" \
    --key ec:p256 >"$WORK/init.log" 2>&1 || die "scep-ca init failed"
# scep-ca follows Entra ID too: a deleted device's certificates are revoked.
(umask 077; printf '%s\n' "$SECRET" >"$WORK/entra.secret"; cp "$WORK/entra.secret" "$CA/")
cat >>"$CA/scep-ca.conf" <<EOF

[entra]
tenant = $TENANT
client_id = $CLIENT
client_secret_file = entra.secret
login_base = $B
graph_base = $B
sync_interval = 1
EOF
start_ca "$CA" || die "scep-ca did not start"
mkdir -p "$WORK/pki"
printf '$ scepreq --url %s --challenge <challenge> --subject CN=laptop-42 --san-uri IntuneDeviceId://%s\n' \
    "$CA_URL/scep" "$DEVICE_ID"
"$TOOLS/scepreq" --url "$CA_URL/scep" --challenge "$CHALLENGE" --subject "CN=laptop-42" \
    --keygen rsa:2048 --key-out "$WORK/pki/laptop.key" --out "$WORK/pki/laptop.pem" \
    --san-uri "IntuneDeviceId://$DEVICE_ID" || die "enrollment failed"
SERIAL=$(openssl x509 -in "$WORK/pki/laptop.pem" -noout -serial | cut -d= -f2)
"$SCEP_CA" show "$SERIAL" --dir "$CA" | grep -E '^(serial|subject|status|intune_device_id|not_after)'

say "c. FreeRADIUS with raddb-examples/ and rlm_entra_match"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/pki/srv.key" \
    -out "$WORK/pki/srv.pem" -days 1 -subj "/CN=radius.demo" \
    -addext "extendedKeyUsage=serverAuth" 2>/dev/null || die "server certificate"
fr_setup "$WORK/pki/srv.pem" "$WORK/pki/srv.key" "$CA/ca.crt" store="$CA/store.db" \
    tenant="$TENANT" client_id="$CLIENT" client_secret_file="$WORK/entra.secret" \
    login_base="$B" graph_base="$B" || die "raddb not built"
fr_keep_reply_message
grep -E '^[[:space:]]+[a-z_]+ = ' "$FR_RADDB/mods-available/entra_match" | sed 's/^[[:space:]]*/    /'
fr_start || die "FreeRADIUS did not start: $(tail -n 5 "$FR_LOG")"
fr_wait_log 'rlm_entra_match: status: devices in sync' 15 || die "the module did not reach Graph"
grep -m1 'rlm_entra_match: status: devices in sync' "$FR_LOG"
echo "FreeRADIUS listens on 127.0.0.1:$FR_AUTH_PORT (log: $FR_LOG)"

# login: one EAP-TLS login of laptop-42; prints its outcome and the
# module's line.
login() {
	eaptls_login "$WORK/pki/laptop.pem" "$WORK/pki/laptop.key" "$WORK/pki/srv.pem"
	local rc=$? msg
	msg=$(eapol_reply_message | head -n 1)
	if [ $rc -eq 0 ]; then echo "eapol_test: SUCCESS (Access-Accept)"
	else echo "eapol_test: FAILURE (Access-Reject${msg:+, Reply-Message \"$msg\"})"; fi
	grep -E 'entra_match: (Accepted|Refused)' "$FR_LOG" | tail -n 1 | sed 's/^/  server: /'
	return $rc
}

say "d. laptop-42 logs in (EAP-TLS, eapol_test)"
login || die "the first login should be accepted"

say "e. An admin disables laptop-42 in Entra ID"
run admin PATCH "/_admin/devices/$DEVICE_ID" '{"accountEnabled":false}'
echo
t0=$(now_ms)
until ! login >"$WORK/login.out"; do
	[ $(( $(now_ms) - t0 )) -gt 10000 ] && die "still accepted after 10 s"
done
cat "$WORK/login.out"
echo "refused $(( $(now_ms) - t0 )) ms after the change (scep-ca sync_interval = 1 s, the module's delta_interval = 1.5 s)"

say "... and enables it again"
run admin PATCH "/_admin/devices/$DEVICE_ID" '{"accountEnabled":true}'
echo
t0=$(now_ms)
until login >"$WORK/login.out"; do
	[ $(( $(now_ms) - t0 )) -gt 10000 ] && die "still refused after 10 s"
done
cat "$WORK/login.out"

say "f. laptop-42 is deleted from Entra ID: scep-ca revokes its certificate by itself"
run admin DELETE "/_admin/devices/$DEVICE_ID"
echo
t0=$(now_ms)
ocsp_status() {
	openssl ocsp -issuer "$CA/ca.crt" -cert "$WORK/pki/laptop.pem" -url "$CA_URL/ocsp" \
	    -CAfile "$CA/ca.crt" -no_nonce 2>&1
}
until ocsp_status | grep -q ': revoked'; do
	[ $(( $(now_ms) - t0 )) -gt 10000 ] && die "not revoked after 10 s"
	sleep 0.1
done
echo "OCSP says revoked $(( $(now_ms) - t0 )) ms after the deletion (sync_interval = 1 s):"
printf '$ openssl ocsp -issuer ca.crt -cert laptop.pem -url %s/ocsp -CAfile ca.crt -no_nonce\n' "$CA_URL"
ocsp_status | grep -E 'verify OK|: revoked|Reason|Revocation Time' | sed 's/^/  /'
# The CRL is re-signed at most once per [crl] min_interval (5 s).
crl_lists() {
	curl -s -o "$WORK/ca.crl" "$CA_URL/crl/ca.crl" &&
	    openssl crl -inform DER -in "$WORK/ca.crl" -noout -text |
	    grep -A4 "Serial Number: $SERIAL"
}
until crl_lists >/dev/null; do
	[ $(( $(now_ms) - t0 )) -gt 15000 ] && die "not on the CRL after 15 s"
	sleep 0.2
done
echo "The CRL lists it $(( $(now_ms) - t0 )) ms after the deletion ([crl] min_interval = 5 s):"
printf '$ curl %s/crl/ca.crl | openssl crl -inform DER -noout -text\n' "$CA_URL"
crl_lists | sed 's/^ */  /'
"$SCEP_CA" show "$SERIAL" --dir "$CA" | grep -E '^(status|reason|revoked|status_source)'
login && die "a deleted device's login should be refused"
fr_stop
