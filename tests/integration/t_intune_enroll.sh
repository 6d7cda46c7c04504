#!/usr/bin/env bash
# scep-ca in Intune mode against the Microsoft cloud emulator (fake-entra)
# with real SCEP clients (micromdm's scepclient; scepreq for SAN identities):
# validateRequest decides every new request; success and failure
# notifications go through the store's outbox, are retried, and survive a
# restart; a static-challenge profile serves printers beside it.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$FAKE_ENTRA" ] || ! command -v scepclient >/dev/null ||
   ! command -v python3 >/dev/null; then
	skip "intune_enroll" "fake-entra, scepclient or python3 missing"
	exit 0
fi
SCEPREQ=$TOOLS/scepreq

# ---- the emulator -------------------------------------------------------
FPORT=$(free_port)
B=http://127.0.0.1:$FPORT
start_fake() {
	bg "$WORK/fake.log" "$FAKE_ENTRA" --listen "127.0.0.1:$FPORT"
	FAKE_PID=$BG_PID
	wait_tcp "$FPORT" 15
}
start_fake || { cat "$WORK/fake.log"; not_ok "fake_entra_starts"; exit 1; }

TENANT=contoso.onmicrosoft.com
CLIENT=3f2c8a91-5d4e-4b7a-9c1e-2a6b8d0f4e17
SECRET='Intune~App.Secret-42'
PRINTER_SECRET=printer-secret-$RANDOM$RANDOM

# admin METHOD PATH [JSON]: the emulator's admin API; fails on non-2xx.
admin() {
	curl -sS -f -X "$1" -H 'Content-Type: application/json' \
	    ${3:+--data "$3"} "$B$2"
}
register_app() {
	admin POST /_admin/apps "{\"tenant\":\"$TENANT\",\"client_id\":\"$CLIENT\",\"client_secret\":\"$SECRET\"}" >/dev/null
}
# challenge CHALLENGE SUBJECT [EXPIRES_IN]: what Intune would hand a device.
challenge() {
	admin POST /_admin/challenges "{\"challenge\":\"$1\",\"subject\":\"$2\",\"expires_in\":${3:-600}}" >/dev/null
}
# pyq PATH EXPR: evaluates a Python expression over an admin list (as d).
pyq() {
	admin GET "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$2"
}
# count of recorded calls to a path prefix (with a status, when given).
calls() {
	pyq /_admin/requests "len([r for r in d if r['path'].startswith('$1') and ('${2:-}' == '' or r['status'] == int('${2:-0}'))])"
}
n_success() { pyq /_admin/notifications "len([n for n in d if n['kind'] == 'success'])"; }
n_failure() { pyq /_admin/notifications "len([n for n in d if n['kind'] == 'failure'])"; }
certs() { sql "$CA/store.db" "SELECT count(*) FROM certificates"; }
VALIDATE=/intune/scep/ScepActions/validateRequest
NOTIFY_OK=/intune/scep/ScepActions/successNotification

# ---- the CA: Intune devices on /scep, printers on /printers/scep -------
CA=$WORK/ca
"$SCEP_CA" init --dir "$CA" --challenge "$PRINTER_SECRET" --key rsa:2048 \
    >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; exit 1; }
register_app || { not_ok "register_app"; exit 1; }
(umask 077; printf '%s\n' "$SECRET" >"$CA/entra.secret")
# scepclient 2.1.0 speaks single DES only: allow_legacy on both profiles.
cat >"$CA/scep-ca.conf" <<EOF
[ca]
validity_days = 30

[store]
path = store.db

[profile intune]
path = /scep
challenge = intune
allow_legacy = yes
key_types = rsa:2048+
# Intune profiles often put {{AAD_Device_ID}} in the CN.
entra_device_id_from = subject:CN

# The same, but renewals signed by a certificate of this profile are
# issued without a new challenge (Intune is told of them).
[profile intune-renew]
path = /renew/scep
challenge = intune
signed_renewal = yes
allow_legacy = yes
key_types = rsa:2048+
entra_device_id_from = subject:CN

[profile printers]
path = /printers/scep
challenge = static
challenge_secret_file = challenge.secret
allow_legacy = yes

[entra]
tenant = $TENANT
client_id = $CLIENT
client_secret_file = entra.secret
login_base = $B
graph_base = $B
timeout = 5
max_retries = 2
notify_retry_min = 1
notify_retry_max = 2
EOF
start_ca "$CA" || { not_ok "scep_ca_starts_in_intune_mode"; exit 1; }
ok "scep_ca_starts_in_intune_mode"

# enroll NAME CN CHALLENGE [PATH] [scepclient args]: a fresh device in
# $WORK/NAME; its output in enroll.log.
enroll() {
	local name=$1 cn=$2 chal=$3 path=${4:-/scep}
	shift 3; [ $# -gt 0 ] && shift
	mkdir -p "$WORK/$name"
	(cd "$WORK/$name" && timeout 60 scepclient -server-url "$CA_URL$path" \
	    ${chal:+-challenge "$chal"} -private-key key.pem -certificate cert.pem \
	    -cn "$cn" "$@" >enroll.log 2>&1)
}
subj() { echo "CN=$1,OU=MDM,O=scep-client,C=US"; }

# wait_for SECONDS CMD...: retries CMD until it succeeds.
wait_for() {
	local limit=$1 i; shift
	for i in $(seq $((limit * 5))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# notification SERIAL: the success notification of a serial, as JSON.
notification() {
	pyq /_admin/notifications "json.dumps(([n for n in d if n['kind'] == 'success' and n['certificateSerialNumber'].lower() == '$1'.lower()] or [None])[0])"
}
has_notification() { [ "$(notification "$1")" != null ]; }

# ---- a valid challenge --------------------------------------------------
challenge ch-good "$(subj dev-good)"
enroll good dev-good ch-good
check "valid_challenge_issues_certificate" \
    openssl verify -CAfile "$CA/ca.crt" "$WORK/good/cert.pem"
SERIAL=$(openssl x509 -in "$WORK/good/cert.pem" -noout -serial | cut -d= -f2)
THUMB=$(openssl x509 -in "$WORK/good/cert.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
END=$(openssl x509 -in "$WORK/good/cert.pem" -noout -enddate | cut -d= -f2)
if wait_for 15 has_notification "$SERIAL"; then
	ok "success_notification_is_received"
else
	not_ok "success_notification_is_received" "$(admin GET /_admin/notifications | head -c 400)"
fi
NOTE=$(notification "$SERIAL")
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$NOTE" "$1" 2>/dev/null; }
check_eq "success_notification_has_the_sha1_thumbprint" "${THUMB^^}" "$(field certificateThumbprint | tr a-f A-F)"
check_eq "success_notification_has_the_serial" "${SERIAL^^}" "$(field certificateSerialNumber | tr a-f A-F)"
check_eq "success_notification_has_the_expiry" "$(date -u -d "$END" +%s)" \
    "$(date -u -d "$(field certificateExpirationDateUtc)" +%s 2>/dev/null)"
check_eq "success_notification_has_the_transaction_id" \
    "$(sql "$CA/store.db" "SELECT transaction_id FROM certificates WHERE lower(serial) = lower('$SERIAL')")" \
    "$(field transactionId)"
check_eq "success_notification_names_the_issuer" \
    "$(openssl x509 -in "$CA/ca.crt" -noout -subject -nameopt RFC2253 | sed 's/^subject= *//')" \
    "$(field issuingCertificateAuthority)"
check_eq "delivered_notification_is_marked_sent" "sent" \
    "$(sql "$CA/store.db" "SELECT state FROM outbox WHERE ref = '$(field transactionId)' AND kind = 'intune_success'")"
check_eq "identity_mapping_records_entra_device_id_from_cn" "dev-good" \
    "$(sql "$CA/store.db" "SELECT entra_device_id FROM certificates WHERE lower(serial) = lower('$SERIAL')")"

# ---- refusals by Intune: FAILURE, nothing issued, no success notified ---
refused() {	# refused TEST NAME CN CHALLENGE CODE
	local test=$1 name=$2 cn=$3 chal=$4 code=$5 before_c before_s before_f
	before_c=$(certs) before_s=$(n_success) before_f=$(n_failure)
	enroll "$name" "$cn" "$chal"
	if grep -q 'failInfo: badRequest' "$WORK/$name/enroll.log" &&
	   [ ! -s "$WORK/$name/cert.pem" ] && [ "$(certs)" = "$before_c" ] &&
	   grep -q "Intune refused the request: $code" "$CA/serve.log"; then
		ok "$test"
	else
		not_ok "$test" "$(tail -n 2 "$WORK/$name/enroll.log")" \
		    "$(grep "refused" "$CA/serve.log" | tail -n 2)"
	fi
	sleep 0.5
	check_eq "${test}_sends_no_notification" "$before_s $before_f" \
	    "$(n_success) $(n_failure)"
}
refused "wrong_challenge_is_refused" wrong dev-wrong not-a-challenge ChallengeDecryptionError
challenge ch-expired "$(subj dev-expired)" -5
refused "expired_challenge_is_refused" expired dev-expired ch-expired ChallengeExpired
challenge ch-other "$(subj somebody-else)"
refused "subject_mismatch_is_refused_with_intunes_code" mismatch dev-mismatch ch-other SubjectNameMismatch

# ---- refusals of ours after Intune's Success: failureNotification ------
more_failures() { [ "$(n_failure)" -gt "$1" ]; }
more_success() { [ "$(n_success)" -gt "$1" ]; }
hresult_of_failure() {	# the hResult of the last failure notification
	pyq /_admin/notifications "[n for n in d if n['kind'] == 'failure'][-1]['hResult']"
}
challenge ch-small "$(subj dev-small)"
before_f=$(n_failure)
enroll small dev-small ch-small /scep -keySize 1024
check "small_key_is_refused_after_intune_success" grep -q 'failInfo: badRequest' "$WORK/small/enroll.log"
wait_for 15 more_failures "$before_f" && got=$(hresult_of_failure) || got=none
check_eq "small_key_failure_notification_has_CERTSRV_E_KEY_LENGTH" "-2146875375" "$got"
check "failure_notification_says_why" bash -c "curl -s $B/_admin/notifications | grep -q 'RSA-1024 key refused'"

if [ -x "$SCEPREQ" ]; then
	challenge ch-sid "CN=dev-sid"
	before_f=$(n_failure)
	out=$("$SCEPREQ" --url "$CA_URL/scep" --challenge ch-sid --subject "CN=dev-sid" \
	    --keygen rsa:2048 --add-sid-ext 2>&1)
	check_eq "sid_extension_is_refused_after_intune_success" "status=FAILURE failInfo=badRequest" \
	    "$(printf '%s\n' "$out" | grep -o 'status=FAILURE failInfo=[a-zA-Z]*')"
	wait_for 15 more_failures "$before_f" && got=$(hresult_of_failure) || got=none
	check_eq "sid_failure_notification_has_CERTSRV_E_TEMPLATE_DENIED" "-2146877422" "$got"

	# ---- identity from the SANs Intune profiles use --------------------
	ENTRA_ID=5b7f3e2a-9c41-4d8e-b6a0-1f2e3d4c5b6a
	INTUNE_ID=a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d
	challenge ch-id "CN=$ENTRA_ID"
	out=$("$SCEPREQ" --url "$CA_URL/scep" --challenge ch-id --subject "CN=$ENTRA_ID" \
	    --keygen rsa:2048 --san-uri "IntuneDeviceId://$INTUNE_ID" \
	    --san-upn alice@contoso.example --out "$WORK/id.pem" 2>&1)
	idserial=$(openssl x509 -in "$WORK/id.pem" -noout -serial 2>/dev/null | cut -d= -f2)
	check_eq "identity_is_recorded_in_the_store_row" \
	    "$ENTRA_ID|$INTUNE_ID|alice@contoso.example" \
	    "$(sql "$CA/store.db" "SELECT entra_device_id, intune_device_id, upn FROM certificates WHERE lower(serial) = lower('${idserial:-none}')")"
else
	skip "identity_is_recorded_in_the_store_row" "tests/tools/scepreq not built"
fi

# ---- renewal: signed by our certificate, without a challenge ------------
# (scepclient reuses csr.pem, challenge included, when it finds one: a
# request with a challenge always goes to Intune, so remove it.)
# Refused where the profile renews only through Intune (the default)...
before_v=$(calls $VALIDATE) before_c=$(certs)
rm -f "$WORK/good/csr.pem" "$WORK/renewer/csr.pem"
(cd "$WORK/good" && timeout 60 scepclient -server-url "$CA_URL/scep" -private-key key.pem \
    -certificate cert.pem -cn dev-good >renew.log 2>&1)
serial2=$(openssl x509 -in "$WORK/good/cert.pem" -noout -serial | cut -d= -f2)
check_eq "signed_renewal_without_challenge_is_refused_by_default" \
    "$SERIAL $before_c" "$serial2 $(certs)"
check_eq "refused_signed_renewal_is_not_sent_to_intune" "$before_v" "$(calls $VALIDATE)"
check "refused_signed_renewal_is_logged" grep -q "renews only through Intune" "$CA/serve.log"

# ...and issued where signed_renewal = yes, with Intune told of it.
challenge ch-renew "$(subj dev-renew)"
enroll renewer dev-renew ch-renew /renew/scep
rserial1=$(openssl x509 -in "$WORK/renewer/cert.pem" -noout -serial 2>/dev/null | cut -d= -f2)
before_v=$(calls $VALIDATE) before_s=$(n_success)
rm -f "$WORK/renewer/csr.pem"
(cd "$WORK/renewer" && timeout 60 scepclient -server-url "$CA_URL/renew/scep" -private-key key.pem \
    -certificate cert.pem -cn dev-renew >renew.log 2>&1)
rserial2=$(openssl x509 -in "$WORK/renewer/cert.pem" -noout -serial 2>/dev/null | cut -d= -f2)
if [ -n "$rserial1" ] && [ "$rserial2" != "$rserial1" ] && [ "$(calls $VALIDATE)" = "$before_v" ]; then
	ok "signed_renewal_is_issued_without_intune_validation_where_allowed"
else
	not_ok "signed_renewal_is_issued_without_intune_validation_where_allowed" \
	    "$(tail -n 2 "$WORK/renewer/renew.log")"
fi
wait_for 15 more_success "$before_s" && got=ok || got="no notification"
check_eq "signed_renewal_is_notified_to_intune" ok "$got"
check_eq "signed_renewal_is_recorded_as_renewal" "$rserial1" \
    "$(sql "$CA/store.db" "SELECT renewed_from FROM certificates WHERE serial='${rserial2:-none}'")"

# A request signed by our certificate that carries a challenge is a new
# enrollment: Intune validates it, whatever signs it.
if [ -x "$SCEPREQ" ]; then
	challenge ch-signed "CN=dev-signed"
	before_v=$(calls $VALIDATE)
	out=$("$SCEPREQ" --url "$CA_URL/scep" --challenge ch-signed --subject "CN=dev-signed" \
	    --keygen rsa:2048 --signer-cert "$WORK/renewer/cert.pem" \
	    --signer-key "$WORK/renewer/key.pem" 2>&1)
	check_eq "signed_request_with_challenge_is_validated_by_intune" \
	    "status=SUCCESS $((before_v + 1))" "${out%% *} $(calls $VALIDATE)"
	challenge ch-signed2 "CN=dev-signed2"
	out=$("$SCEPREQ" --url "$CA_URL/scep" --challenge wrong-one --subject "CN=dev-signed2" \
	    --keygen rsa:2048 --signer-cert "$WORK/renewer/cert.pem" \
	    --signer-key "$WORK/renewer/key.pem" 2>&1)
	check_eq "signed_request_with_a_bad_challenge_is_refused_by_intune" \
	    "status=FAILURE failInfo=badRequest" "$(printf '%s\n' "$out" | grep -o 'status=FAILURE failInfo=[a-zA-Z]*')"
fi

# ---- throttling and token expiry -----------------------------------------
before=$(calls $VALIDATE)
admin POST /_admin/faults "{\"path_prefix\":\"$VALIDATE\",\"status\":429,\"retry_after\":1,\"count\":1}" >/dev/null
challenge ch-429 "$(subj dev-429)"
enroll throttled dev-429 ch-429
check "throttled_validation_is_retried_and_succeeds" test -s "$WORK/throttled/cert.pem"
check_eq "throttled_validation_was_sent_twice" "1 $((before + 2))" \
    "$(calls $VALIDATE 429) $(calls $VALIDATE)"

tokens_before=$(calls "/$TENANT/oauth2/v2.0/token")
admin POST /_admin/tokens/expire '{}' >/dev/null
challenge ch-exp-token "$(subj dev-token)"
enroll token dev-token ch-exp-token
check "expired_token_is_refreshed_and_enrollment_succeeds" test -s "$WORK/token/cert.pem"
if [ "$(calls $VALIDATE 401)" -ge 1 ] &&
   [ "$(calls "/$TENANT/oauth2/v2.0/token")" -gt "$tokens_before" ]; then
	ok "expired_token_got_401_then_a_new_token"
else
	not_ok "expired_token_got_401_then_a_new_token"
fi

# ---- several profiles on one server: printers with a static challenge --
before_v=$(calls $VALIDATE)
enroll printer printer-1 "$PRINTER_SECRET" /printers/scep
check "printer_profile_enrolls_with_its_static_challenge" \
    openssl verify -CAfile "$CA/ca.crt" "$WORK/printer/cert.pem"
pserial=$(openssl x509 -in "$WORK/printer/cert.pem" -noout -serial 2>/dev/null | cut -d= -f2)
check_eq "printer_certificate_is_recorded_under_its_profile" "printers" \
    "$(sql "$CA/store.db" "SELECT profile FROM certificates WHERE lower(serial) = lower('${pserial:-none}')")"
check_eq "printer_enrollment_is_not_sent_to_intune" "$before_v" "$(calls $VALIDATE)"
challenge ch-printer "$(subj printer-2)"
enroll printer-bad printer-2 ch-printer /printers/scep
check "intune_challenge_is_refused_on_the_printer_profile" \
    grep -q 'failInfo: badRequest' "$WORK/printer-bad/enroll.log"

# ---- a restart with notifications pending delivers them ---------------
admin POST /_admin/faults "{\"path_prefix\":\"$NOTIFY_OK\",\"status\":500,\"count\":100000}" >/dev/null
challenge ch-restart "$(subj dev-restart)"
enroll restart dev-restart ch-restart
check "enrollment_succeeds_while_notifications_fail" test -s "$WORK/restart/cert.pem"
rserial=$(openssl x509 -in "$WORK/restart/cert.pem" -noout -serial 2>/dev/null | cut -d= -f2)
rtxid=$(sql "$CA/store.db" "SELECT transaction_id FROM certificates WHERE lower(serial) = lower('${rserial:-none}')")
attempted() {
	[ "$(sql "$CA/store.db" "SELECT attempts > 0 AND state = 'pending' FROM outbox WHERE ref = '$rtxid' AND kind = 'intune_success'")" = 1 ]
}
check "failed_notification_stays_pending_for_a_retry" wait_for 20 attempted
stop_ca
check_eq "stopped_with_the_notification_undelivered" "null pending" \
    "$(notification "$rserial") $(sql "$CA/store.db" "SELECT state FROM outbox WHERE ref = '$rtxid' AND kind = 'intune_success'")"
admin DELETE /_admin/faults >/dev/null
mv "$CA/serve.log" "$CA/serve-1.log"
start_ca "$CA" || not_ok "scep_ca_restarts"
if wait_for 20 has_notification "$rserial"; then
	ok "restart_delivers_pending_notification"
else
	not_ok "restart_delivers_pending_notification" "$(grep outbox "$CA/serve.log" | tail -n 3)"
fi
check_eq "delivered_after_restart_is_marked_sent" "sent" \
    "$(sql "$CA/store.db" "SELECT state FROM outbox WHERE ref = '$rtxid' AND kind = 'intune_success'")"

# ---- the emulator down: FAILURE, nothing issued --------------------------
stop_pid "$FAKE_PID"
before_c=$(certs)
enroll down dev-down some-challenge
if grep -q 'failInfo: badRequest' "$WORK/down/enroll.log" && [ ! -s "$WORK/down/cert.pem" ] &&
   [ "$(certs)" = "$before_c" ]; then
	ok "intune_unreachable_refuses_and_issues_nothing"
else
	not_ok "intune_unreachable_refuses_and_issues_nothing" "$(tail -n 2 "$WORK/down/enroll.log")"
fi
check "unreachable_intune_is_logged" grep -q 'Intune validation could not be done' "$CA/serve.log"
enroll printer-down printer-3 "$PRINTER_SECRET" /printers/scep
check "printers_still_enroll_while_intune_is_down" test -s "$WORK/printer-down/cert.pem"

# ---- hygiene ----------------------------------------------------------------
if grep -qF -- "$SECRET" "$CA"/serve*.log || grep -q 'ch-good' "$CA"/serve*.log; then
	not_ok "logs_hold_no_secret_or_challenge"
else
	ok "logs_hold_no_secret_or_challenge"
fi
stop_ca
check "store_is_consistent_after_stop" test "$(sqlite3 "$CA/store.db" 'PRAGMA integrity_check')" = ok
