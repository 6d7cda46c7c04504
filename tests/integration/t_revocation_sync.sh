#!/usr/bin/env bash
# Automatic revocation against the Microsoft cloud emulator (fake-entra):
# the Entra sync follows Graph delta on devices and users (a deleted
# device revokes, a disabled user holds and an enabled one releases; an
# admin's hold stays), the Intune job answers revocation requests
# (success, unknown serial, other issuer), a restart resumes from the
# saved deltaLink, failures are recorded and logged once, and
# `scep-ca status` reports it all.  Certificates come from both an
# Intune-mode profile and a static-challenge profile, with identities in
# their SANs (tests/tools/scepreq); revocation is checked with
# `openssl ocsp` and on the CRL the daemon serves.
. "$(dirname "$0")/lib.sh"

SCEPREQ=$TOOLS/scepreq
if [ ! -x "$FAKE_ENTRA" ] || [ ! -x "$SCEPREQ" ] || ! command -v python3 >/dev/null; then
	skip "revocation_sync" "fake-entra, scepreq or python3 missing"
	exit 0
fi
INTERVAL=1		# [entra] sync_interval and revocation_poll_interval
DEADLINE=$((INTERVAL + 1))	# what the issue allows, in seconds

# ---- the emulator -------------------------------------------------------
FPORT=$(free_port)
B=http://127.0.0.1:$FPORT
bg "$WORK/fake.log" "$FAKE_ENTRA" --listen "127.0.0.1:$FPORT"
wait_tcp "$FPORT" 15 || { cat "$WORK/fake.log"; not_ok "fake_entra_starts"; exit 1; }
TENANT=contoso.onmicrosoft.com
CLIENT=7d1e9a42-3b5c-4f6d-8e2a-1c9b0d7f5e31
SECRET='Sync~App.Secret-17'

# admin METHOD PATH [JSON]: the emulator's admin API; fails on non-2xx.
admin() {
	curl -sS -f -X "$1" -H 'Content-Type: application/json' \
	    ${3:+--data "$3"} "$B$2"
}
# pyq PATH EXPR: a Python expression over an admin list (as d).
pyq() {
	admin GET "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$2"
}
admin POST /_admin/apps "{\"tenant\":\"$TENANT\",\"client_id\":\"$CLIENT\",\"client_secret\":\"$SECRET\"}" >/dev/null ||
    { not_ok "register_app"; exit 1; }

# Identities (GUIDs) the certificates name.
DEV_A=0b6f2d14-7c3e-4a59-9e81-2f4d6c8a1b03	# Entra deviceId of device A
MAN_A=5e9c1a77-2d4b-4c8e-a0f3-6b7d8e9f0a12	# its Intune managed device id
DEV_B=c3a8e5f1-9b2d-4e6a-8c7f-0d1e2f3a4b5c	# B's IntuneDeviceId is its deviceId
DEV_C=9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a
DEV_E=1a2b3c4d-5e6f-4a8b-9c0d-e1f2a3b4c5d6
admin POST /_admin/devices "{\"deviceId\":\"$DEV_A\"}" >/dev/null
admin POST /_admin/managedDevices "{\"id\":\"$MAN_A\",\"azureADDeviceId\":\"$DEV_A\"}" >/dev/null
admin POST /_admin/devices "{\"deviceId\":\"$DEV_B\"}" >/dev/null
admin POST /_admin/devices "{\"deviceId\":\"$DEV_C\"}" >/dev/null
admin POST /_admin/devices "{\"deviceId\":\"$DEV_E\"}" >/dev/null
admin POST /_admin/users '{"userPrincipalName":"Bob@contoso.example"}' >/dev/null
admin POST /_admin/users '{"userPrincipalName":"carol@contoso.example"}' >/dev/null
admin POST /_admin/users '{"userPrincipalName":"dave@contoso.example"}' >/dev/null

# ---- the CA: Intune mode on /scep, a static challenge on /static --------
CA=$WORK/ca
STATIC=static-secret-$RANDOM$RANDOM
"$SCEP_CA" init --dir "$CA" --challenge "$STATIC" --key rsa:2048 \
    >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; exit 1; }
(umask 077; printf '%s\n' "$SECRET" >"$CA/entra.secret")
cat >"$CA/scep-ca.conf" <<EOF
[ca]
validity_days = 30

[profile intune]
path = /scep
challenge = intune

[profile static]
path = /static
challenge = static
challenge_secret_file = challenge.secret

[crl]
min_interval = 1
next_update = 3600

[entra]
tenant = $TENANT
client_id = $CLIENT
client_secret_file = entra.secret
login_base = $B
graph_base = $B
timeout = 5
max_retries = 1
sync_interval = $INTERVAL
revocation_poll_interval = $INTERVAL
EOF
start_ca "$CA" || { not_ok "scep_ca_starts_with_the_sync"; exit 1; }
ok "scep_ca_starts_with_the_sync"
OCSP_URL=$CA_URL/ocsp

# enroll NAME PATH CHALLENGE [scepreq SAN args]: $WORK/NAME.pem.
enroll() {
	local name=$1 path=$2 chal=$3
	shift 3
	"$SCEPREQ" --url "$CA_URL$path" --challenge "$chal" --subject "CN=$name" \
	    --keygen rsa:2048 --out "$WORK/$name.pem" "$@" >"$WORK/$name.log" 2>&1
}
# serial_of NAME: the serial as the store keeps it (no leading zero bytes).
serial_of() {
	local s
	s=$(openssl x509 -in "$WORK/$1.pem" -noout -serial | cut -d= -f2 | sed 's/^0*//')
	[ $(( ${#s} % 2 )) = 1 ] && s=0$s
	echo "${s:-00}"
}
admin POST /_admin/challenges '{"challenge":"ch-b","subject":"CN=cert-b"}' >/dev/null
enroll cert-a /static "$STATIC" --san-uri "IntuneDeviceId://$MAN_A"
enroll cert-b /scep ch-b --san-uri "IntuneDeviceId://$DEV_B" --san-upn Bob@contoso.example
enroll cert-c /static "$STATIC" --san-uri "IntuneDeviceId://$DEV_C" --san-upn carol@contoso.example
enroll cert-d /static "$STATIC"
enroll cert-e /static "$STATIC" --san-uri "IntuneDeviceId://$DEV_E" --san-upn dave@contoso.example
enroll cert-f /static "$STATIC"
for n in a b c d e f; do
	[ -s "$WORK/cert-$n.pem" ] || { not_ok "enroll_cert_$n" "$(tail -3 "$WORK/cert-$n.log")"; exit 1; }
done
ok "certificates_with_identities_enrolled_on_both_profiles"
A=$(serial_of cert-a) B_=$(serial_of cert-b) C=$(serial_of cert-c)
D=$(serial_of cert-d) E=$(serial_of cert-e) F=$(serial_of cert-f)

# ocsp NAME: prints "good", "revoked REASON" or the error.
ocsp() {
	local out
	out=$(openssl ocsp -issuer "$CA/ca.crt" -cert "$WORK/$1.pem" -url "$OCSP_URL" \
	    -CAfile "$CA/ca.crt" -resp_text 2>&1)
	if grep -q ': good' <<<"$out"; then echo good
	elif grep -q ': revoked' <<<"$out"; then
		echo "revoked $(sed -n 's/.*Reason: \([A-Za-z]*\).*/\1/p' <<<"$out" | head -1)"
	else echo "error: $(tail -1 <<<"$out")"; fi
}
# within SECONDS CMD...: retries CMD every 0.1 s until it succeeds.
within() {
	local limit=$1 end; shift
	end=$(( $(date +%s%N) + limit * 1000000000 ))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s%N)" -ge "$end" ] && return 1
		sleep 0.1
	done
}
ocsp_is() { [ "$(ocsp "$1")" = "$2" ]; }
# on_crl SERIAL [REASON-TEXT]: the served CRL lists it (with that reason).
on_crl() {
	curl -sf -o "$WORK/poll.crl" "$CA_URL/crl/ca.crl" || return 1
	openssl crl -inform DER -in "$WORK/poll.crl" -noout -text 2>/dev/null |
	    grep -A4 "Serial Number: $1\$" | grep -q "${2:-.}"
}
off_crl() {
	curl -sf -o "$WORK/poll.crl" "$CA_URL/crl/ca.crl" || return 1
	! openssl crl -inform DER -in "$WORK/poll.crl" -noout -text 2>/dev/null |
	    grep -q "Serial Number: $1\$"
}
db() { sql "$CA/store.db" "$1"; }
known() {	# known KIND EXT: the sync recorded that identity
	[ "$(db "SELECT count(*) FROM entra_objects WHERE kind = '$1' AND ext_id = lower('$2')")" = 1 ]
}

# ---- the first run: a deltaLink from now on, and the identities looked up
check "first_run_looks_up_the_devices_certificates_name" \
    within 10 known device "$DEV_C"
check "first_run_looks_up_the_users_certificates_name" \
    within 10 known user carol@contoso.example
check "first_run_takes_the_devices_delta_link_at_the_present" \
    test "$(pyq /_admin/requests "len([r for r in d if r['path'].startswith('/v1.0/devices/delta') and 'latest' in r['decoded'].lower()])")" -ge 1
check "first_run_reads_no_full_directory" \
    test "$(pyq /_admin/requests "len([r for r in d if r['path'].startswith('/v1.0/devices/delta') and 'token' not in r['decoded'].lower()])")" = 0
check "intune_id_resolves_to_its_entra_device" within 10 known managed "$MAN_A"
check_eq "row_learns_the_entra_device_id_of_its_intune_id" "$DEV_A" \
    "$(db "SELECT entra_device_id FROM certificates WHERE serial = '$A'")"
for n in cert-a cert-b cert-c cert-e; do
	check_eq "${n}_is_good_before_any_change" good "$(ocsp "$n")"
done

# ---- a deleted device: revoked within the interval + 1 s ----------------
admin DELETE "/_admin/devices/$DEV_A" >/dev/null
if within "$DEADLINE" ocsp_is cert-a "revoked cessationOfOperation"; then
	ok "deleted_device_revokes_its_certificate_within_the_interval"
else
	not_ok "deleted_device_revokes_its_certificate_within_the_interval" \
	    "ocsp: $(ocsp cert-a)" "$(grep sync "$CA/serve.log" | tail -3)"
fi
check "deleted_device_revocation_is_on_the_crl" \
    within $((DEADLINE + 2)) on_crl "$A" "Cessation Of Operation"
check "revocation_is_logged_with_serial_device_and_reason" \
    grep -q "sync: revoked $A (cessationOfOperation): device $DEV_A deleted in Entra" "$CA/serve.log"
check_eq "revocation_is_recorded_as_the_entra_syncs" "revoked|5|entra" \
    "$(db "SELECT status, reason, status_source FROM certificates WHERE serial = '$A'")"
check_eq "other_certificates_stay_good" "good good" "$(ocsp cert-b) $(ocsp cert-c)"

# ---- a disabled user: hold; enabled again: released ---------------------
admin PATCH /_admin/users/Bob@contoso.example '{"accountEnabled":false}' >/dev/null
if within "$DEADLINE" ocsp_is cert-b "revoked certificateHold"; then
	ok "disabled_user_puts_the_certificate_on_hold"
else
	not_ok "disabled_user_puts_the_certificate_on_hold" "ocsp: $(ocsp cert-b)"
fi
check "hold_is_on_the_crl" within $((DEADLINE + 2)) on_crl "$B_" "Certificate Hold"
admin PATCH /_admin/users/Bob@contoso.example '{"accountEnabled":true}' >/dev/null
if within "$DEADLINE" ocsp_is cert-b good; then
	ok "enabled_user_releases_the_hold"
else
	not_ok "enabled_user_releases_the_hold" "ocsp: $(ocsp cert-b)"
fi
check "released_certificate_leaves_the_crl" within $((DEADLINE + 2)) off_crl "$B_"
check "release_is_logged" grep -q "sync: released $B_" "$CA/serve.log"

# ---- an admin's hold is never released by the sync ----------------------
"$SCEP_CA" revoke "$E" --dir "$CA" --reason certificateHold >/dev/null 2>&1
admin PATCH /_admin/users/dave@contoso.example '{"accountEnabled":false}' >/dev/null
admin PATCH /_admin/users/dave@contoso.example '{"accountEnabled":true}' >/dev/null
admin PATCH "/_admin/devices/$DEV_E" '{"accountEnabled":false}' >/dev/null
admin PATCH "/_admin/devices/$DEV_E" '{"accountEnabled":true}' >/dev/null
sleep $((DEADLINE + 1))
check_eq "admin_hold_stays_when_the_identity_is_enabled" "hold|admin" \
    "$(db "SELECT status, status_source FROM certificates WHERE serial = '$E'")"

# ---- Intune revocation requests -----------------------------------------
ISSUER=$(openssl x509 -in "$CA/ca.crt" -noout -subject -nameopt RFC2253 | sed 's/^subject= *//')
revreq() {	# revreq CONTEXT SERIAL ISSUER
	admin POST /_admin/revocationRequests "{\"requestContext\":\"$1\",\"serialNumber\":\"$2\",\"issuerName\":\"$3\"}" >/dev/null
}
result() {	# result CONTEXT: "succeeded errorCode" of its uploaded result
	pyq /_admin/revocationResults "' '.join(([str(r['succeeded']) + ' ' + r['errorCode'] for r in d if r['requestContext'] == '$1'] or ['none'])[:1])"
}
has_result() { [ "$(result "$1")" != none ]; }
revreq ctx-d "$D" "$ISSUER"
revreq ctx-unknown 0123456789ABCDEF0123456789ABCDEF "$ISSUER"
revreq ctx-other "$F" "CN=Another CA,O=Elsewhere"
check "intune_request_is_answered" within $((DEADLINE + 2)) has_result ctx-d
check_eq "intune_request_revokes_the_certificate" "revoked cessationOfOperation" "$(ocsp cert-d)"
check_eq "intune_request_uploads_a_success" "True 0" "$(result ctx-d)"
check "unknown_serial_is_answered" within $((DEADLINE + 2)) has_result ctx-unknown
check_eq "unknown_serial_uploads_certificate_not_found" "False 4004" "$(result ctx-unknown)"
check "other_issuer_is_answered" within $((DEADLINE + 2)) has_result ctx-other
check_eq "other_issuer_uploads_certificate_not_found" "False 4004" "$(result ctx-other)"
check_eq "other_issuers_serial_is_not_revoked" good "$(ocsp cert-f)"
check "intune_revocation_is_on_the_crl" within $((DEADLINE + 2)) on_crl "$D" "Cessation Of Operation"
check_eq "intune_revocation_is_recorded_as_intunes" "revoked|intune" \
    "$(db "SELECT status, status_source FROM certificates WHERE serial = '$D'")"
check "intune_revocation_is_logged" \
    grep -q "sync: revoked $D (cessationOfOperation): Intune revocation request ctx-d" "$CA/serve.log"
check_eq "answered_requests_are_not_pending" "0" \
    "$(pyq /_admin/revocationRequests "len([r for r in d if not r['answered']])")"

# ---- a restart resumes from the saved deltaLink --------------------------
within 10 known device "$DEV_C" || true
stop_ca
admin DELETE /_admin/requests >/dev/null
admin DELETE "/_admin/devices/$DEV_C" >/dev/null
mv "$CA/serve.log" "$CA/serve-1.log"
start_ca "$CA" || { not_ok "scep_ca_restarts"; exit 1; }
OCSP_URL=$CA_URL/ocsp
if within "$DEADLINE" ocsp_is cert-c "revoked cessationOfOperation"; then
	ok "device_deleted_while_stopped_is_revoked_after_the_restart"
else
	not_ok "device_deleted_while_stopped_is_revoked_after_the_restart" "ocsp: $(ocsp cert-c)"
fi
deltas=$(pyq /_admin/requests "[r['decoded'] for r in d if r['path'].startswith('/v1.0/devices/delta')]")
check "restart_resumes_from_the_saved_delta_link" grep -q 'deltatoken=' <<<"$deltas"
check_fails "restart_takes_no_new_delta_link" grep -qi 'latest' <<<"$deltas"
check_eq "restart_looks_up_no_device_again" 0 \
    "$(pyq /_admin/requests "len([r for r in d if r['path'].startswith('/v1.0/devices(') or r['path'].startswith('/v1.0/deviceManagement')])")"

# ---- failures: recorded, logged once, recovered --------------------------
admin POST /_admin/faults '{"path_prefix":"/v1.0/users/delta","status":500}' >/dev/null
failures() { db "SELECT failures FROM sync_state WHERE name = 'entra-users'"; }
fails_twice() { [ "$(failures)" -ge 2 ]; }
check "failed_runs_are_counted" within 30 fails_twice
check_eq "a_run_of_failures_is_logged_once" 1 "$(grep -c 'Entra user sync failed' "$CA/serve.log")"
status=$("$SCEP_CA" status --dir "$CA" 2>&1)
check "status_shows_the_last_error" grep -q 'last error .*HTTP 500' <<<"$status"
admin DELETE /_admin/faults >/dev/null
recovered() { [ "$(failures)" = 0 ]; }
check "sync_recovers_when_graph_answers" within 30 recovered
check "recovery_is_logged" grep -q 'Entra user sync works again' "$CA/serve.log"

# ---- a refused deltaLink: start over --------------------------------------
admin POST /_admin/faults '{"path_prefix":"/v1.0/devices/delta","status":400,"count":1}' >/dev/null
check "refused_delta_link_starts_over" \
    within 30 grep -q 'Graph refused the saved devices deltaLink' "$CA/serve.log"
admin POST /_admin/users '{"userPrincipalName":"erin@contoso.example"}' >/dev/null
check "after_starting_over_identities_are_looked_up_again" \
    within 30 known device "$DEV_B"

# ---- scep-ca status ---------------------------------------------------------
status=$("$SCEP_CA" status --dir "$CA" 2>&1)
check_eq "status_exits_0" 0 "$(
    "$SCEP_CA" status --dir "$CA" >/dev/null 2>&1; echo $?)"
for job in entra-devices entra-users intune-revocations; do
	check "status_lists_$job" grep -q "^sync $job\$" <<<"$status"
done
check "status_shows_last_success_and_lag" \
    grep -Eq 'last success +[0-9T:-]+Z \([0-9]+ s ago\)' <<<"$status"
check "status_shows_changes_applied" grep -Eq 'changes applied +[1-9]' <<<"$status"
check "status_shows_the_outbox" grep -Eq '^outbox +pending [0-9]+, sent [0-9]+, abandoned [0-9]+' <<<"$status"
check "status_shows_the_crl" grep -Eq '^crl .*number [0-9]+, [0-9]+ entries, next update' <<<"$status"
check "status_has_help" "$SCEP_CA" status --help

# ---- stop ---------------------------------------------------------------------
stop_ca
check "daemon_stops_cleanly_with_the_sync_thread" grep -q 'draining and stopping' "$CA/serve.log"
check "store_is_consistent_after_stop" test "$(sqlite3 "$CA/store.db" 'PRAGMA integrity_check')" = ok
