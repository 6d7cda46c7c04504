#!/usr/bin/env bash
# The Microsoft cloud clients (shared/msft: http, token, jwt, graph, intune)
# against the emulator tests/fake-entra, driven through tests/tools/entra-probe:
# tokens by secret and by assertion, Graph lookups and delta, Intune
# validation, notifications and revocation, and the failure paths (throttling,
# timeouts, 5xx, expired tokens, dropped connections).
. "$(dirname "$0")/lib.sh"

PROBE=$TOOLS/entra-probe
if [ ! -x "$FAKE_ENTRA" ] || [ ! -x "$PROBE" ]; then
	skip "entra_clients" "fake-entra or entra-probe not built"
	exit 0
fi

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
PAGE=3
bg "$WORK/fake.log" "$FAKE_ENTRA" --listen "127.0.0.1:$PORT" --page-size "$PAGE"
wait_tcp "$PORT" 15 || { cat "$WORK/fake.log"; not_ok "fake_entra_starts"; exit 1; }

TENANT=7d1c2f5e-0b8a-4c1e-9a57-3f0d2e6b8c41
CLIENT=4a8b9c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d
CLIENT_CERT=5b9c0d2e-3f4a-4b6c-9d7e-8f9a0b1c2d3e
SECRET=s3cr3t-Value~with.odd+chars/=

# admin METHOD PATH [JSON]: calls the emulator's admin API; fails on non-2xx.
admin() {
	curl -sS -f -X "$1" -H 'Content-Type: application/json' \
	    ${3:+--data "$3"} "$BASE$2"
}

# req_count REGEX: how many recorded calls have a path matching REGEX.
req_count() {
	admin GET /_admin/requests | grep -oE "\"path\" *: *\"$1" | wc -l
}

probe_base() {
	"$PROBE" --login-base "$BASE" --graph-base "$BASE" --tenant "$TENANT" \
	    --timeout-ms "${TIMEOUT_MS:-5000}" "$@"
}
probe() { probe_base --client-id "$CLIENT" --secret-file "$WORK/secret" "$@"; }
probe_cert() {
	probe_base --client-id "$CLIENT_CERT" --cert "$WORK/app.crt" \
	    --key "$WORK/app.key" "$@"
}

# out_has NAME PATTERN CMD...: ok when CMD exits 0 and prints PATTERN.
out_has() {
	local name=$1 pat=$2 out rc; shift 2
	out=$("$@" 2>&1); rc=$?
	if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -qE -- "$pat"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc, wanted /$pat/" "$(printf '%s' "$out" | tail -n 8)"
	fi
}

# exit_is NAME CODE PATTERN CMD...: ok when CMD exits CODE and prints PATTERN.
exit_is() {
	local name=$1 want=$2 pat=$3 out rc; shift 3
	out=$("$@" 2>&1); rc=$?
	if [ $rc -eq "$want" ] && printf '%s\n' "$out" | grep -qiE -- "$pat"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc (wanted $want), wanted /$pat/" \
		    "$(printf '%s' "$out" | tail -n 8)"
	fi
}

# ---- set-up: credentials, app registrations ---------------------------
umask 077
printf '%s\n' "$SECRET" >"$WORK/secret"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/app.key" \
    -out "$WORK/app.crt" -subj "/CN=entra-probe test app" -days 2 2>/dev/null
PEM_JSON=$(awk '{printf "%s\\n", $0}' "$WORK/app.crt")
admin POST /_admin/apps "{\"tenant\":\"$TENANT\",\"client_id\":\"$CLIENT\",\"client_secret\":\"$SECRET\"}" >/dev/null ||
	not_ok "register_secret_app"
admin POST /_admin/apps "{\"tenant\":\"$TENANT\",\"client_id\":\"$CLIENT_CERT\",\"certificate\":\"$PEM_JSON\"}" >/dev/null ||
	not_ok "register_certificate_app"

# ---- tokens ----------------------------------------------------------
out_has token_by_client_secret "^token ok scope=https://graph.microsoft.com/.default" \
    probe token graph
out_has token_for_intune_scope_has_double_slash \
    "scope=https://api.manage.microsoft.com//.default" probe token intune
out_has token_by_ps256_assertion "^token ok" probe_cert token graph
out_has token_by_rs256_assertion "^token ok" probe_cert --rs256 token graph
printf 'wrong-secret\n' >"$WORK/wrong"
exit_is token_with_wrong_secret_fails_clearly 1 "token request refused: HTTP 40[01]: invalid_client" \
    probe_base --client-id "$CLIENT" --secret-file "$WORK/wrong" token graph
chmod 644 "$WORK/wrong"
exit_is secret_file_readable_by_others_is_refused 1 "chmod 600" \
    probe_base --client-id "$CLIENT" --secret-file "$WORK/wrong" token graph
exit_is secret_from_environment_works 0 "^token ok" \
    env ENTRA_CLIENT_SECRET="$SECRET" "$PROBE" --login-base "$BASE" \
    --graph-base "$BASE" --tenant "$TENANT" --client-id "$CLIENT" token graph
exit_is secret_and_certificate_together_are_refused 1 "not both" \
    probe --cert "$WORK/app.crt" --key "$WORK/app.key" token graph

# ---- discovery ---------------------------------------------------------
out_has discovery_finds_scep_service "^ScepRequestValidationFEService http://127.0.0.1:$PORT/" \
    probe discover
out_has discovery_finds_pki_service "^PkiConnectorFEService http://127.0.0.1:$PORT/" \
    probe discover

# ---- Graph lookups -----------------------------------------------------
D1=0a1b2c3d-1111-4000-8000-000000000001  O1=9f000000-1111-4000-8000-000000000001
D2=0a1b2c3d-2222-4000-8000-000000000002  O2=9f000000-2222-4000-8000-000000000002
M2=6e000000-2222-4000-8000-000000000002
U1=8e000000-0001-4000-8000-000000000001
admin POST /_admin/devices "{\"deviceId\":\"$D1\",\"id\":\"$O1\",\"displayName\":\"dev1\",\"accountEnabled\":true}" >/dev/null
admin POST /_admin/devices "{\"deviceId\":\"$D2\",\"id\":\"$O2\",\"accountEnabled\":true}" >/dev/null
admin POST /_admin/managedDevices "{\"id\":\"$M2\",\"azureADDeviceId\":\"$D2\"}" >/dev/null
admin POST /_admin/users "{\"id\":\"$U1\",\"userPrincipalName\":\"alice@contoso.example\",\"accountEnabled\":true}" >/dev/null

out_has device_lookup_finds_enabled_device \
    "^device found id=$O1 deviceId=$D1 accountEnabled=true" probe device "$D1"
admin PATCH "/_admin/devices/$D1" '{"accountEnabled":false}' >/dev/null
out_has device_lookup_sees_disabled_device "accountEnabled=false" probe device "$D1"
admin DELETE "/_admin/devices/$D1" >/dev/null
exit_is deleted_device_is_not_found_not_an_error 2 "^device not-found" probe device "$D1"
before=$(req_count "/v1.0/devices\\(")
exit_is device_id_with_quote_is_refused_before_any_request 1 "not a GUID" \
    probe device "x')/../../users('y"
check_eq device_id_injection_sent_nothing "$before" "$(req_count "/v1.0/devices\\(")"
out_has managed_device_lookup_gives_entra_device_id \
    "^managed-device found id=$M2 azureADDeviceId=$D2" probe managed-device "$M2"
out_has user_lookup_by_upn \
    "^user found id=$U1 userPrincipalName=alice@contoso.example accountEnabled=true" \
    probe user alice@contoso.example
out_has user_lookup_by_object_id "^user found id=$U1" probe user "$U1"
exit_is unknown_user_is_not_found 2 "^user not-found" probe user nobody@contoso.example
tokens_before=$(req_count "/$TENANT/oauth2/v2.0/token")
out=$(probe --threads 8 user "$U1" 2>&1); rc=$?
found=$(printf '%s\n' "$out" | grep -c "^user found id=$U1")
tokens=$(( $(req_count "/$TENANT/oauth2/v2.0/token") - tokens_before ))
if [ $rc -eq 0 ] && [ "$found" -eq 8 ] && [ "$tokens" -eq 1 ]; then
	ok concurrent_lookups_share_one_token_refresh
else
	not_ok concurrent_lookups_share_one_token_refresh \
	    "exit $rc, $found of 8 found, $tokens token requests" \
	    "$(printf '%s' "$out" | tail -n 5)"
fi

# ---- delta -------------------------------------------------------------
for i in 1 2 3 4 5 6 7; do
	admin POST /_admin/devices "{\"deviceId\":\"0a1b2c3d-7777-4000-8000-00000000000$i\",\"id\":\"9f000000-7777-4000-8000-00000000000$i\",\"accountEnabled\":true}" >/dev/null
done
before=$(req_count "/v1.0/devices/delta")
out=$(probe delta devices 2>&1); rc=$?
pages=$(( $(req_count "/v1.0/devices/delta") - before ))
n7=$(printf '%s\n' "$out" | grep -c '^device id=9f000000-7777-')
if [ $rc -eq 0 ] && [ "$n7" -eq 7 ] && [ "$pages" -ge 3 ]; then
	ok delta_initial_round_follows_next_links_across_pages
else
	not_ok delta_initial_round_follows_next_links_across_pages \
	    "exit $rc, $n7 of 7 devices, $pages pages" "$(printf '%s' "$out" | tail -n 5)"
fi
LINK=$(printf '%s\n' "$out" | sed -n 's/^deltaLink //p')
check_eq delta_round_ends_with_delta_link 1 "$(printf '%s' "$LINK" | grep -c "^$BASE/")"

admin PATCH /_admin/devices/0a1b2c3d-7777-4000-8000-000000000003 '{"accountEnabled":false}' >/dev/null
admin DELETE /_admin/devices/0a1b2c3d-7777-4000-8000-000000000005 >/dev/null
out=$(probe delta devices --link "$LINK" 2>&1); rc=$?
if [ $rc -eq 0 ] &&
   printf '%s\n' "$out" | grep -q '^device id=9f000000-7777-4000-8000-000000000003 .*accountEnabled=false' &&
   printf '%s\n' "$out" | grep -qE '^removed id=9f000000-7777-4000-8000-000000000005 reason=(deleted|changed)' &&
   ! printf '%s\n' "$out" | grep -q '9f000000-7777-4000-8000-000000000001'; then
	ok delta_link_gives_changes_only_with_removed_objects
else
	not_ok delta_link_gives_changes_only_with_removed_objects "exit $rc" \
	    "$(printf '%s' "$out" | tail -n 8)"
fi

out=$(probe delta users --latest 2>&1); rc=$?
LINK_U=$(printf '%s\n' "$out" | sed -n 's/^deltaLink //p')
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q '^count 0$' && [ -n "$LINK_U" ]; then
	ok delta_latest_skips_initial_read
else
	not_ok delta_latest_skips_initial_read "exit $rc" "$(printf '%s' "$out" | tail -n 5)"
fi
admin PATCH "/_admin/users/$U1" '{"accountEnabled":false}' >/dev/null
out_has delta_after_latest_sees_user_change \
    "^user id=$U1 .*accountEnabled=false" probe delta users --link "$LINK_U"
exit_is delta_link_to_another_host_is_refused 1 "not on" \
    probe delta users --link "http://127.0.0.2:$PORT/v1.0/users/delta?\$deltatoken=x"

# ---- Intune: validation, notifications, revocation ----------------------
cat >"$WORK/csr.cnf" <<EOF
[req]
distinguished_name = dn
attributes = attrs
prompt = no
[dn]
CN = device-1
[attrs]
challengePassword = intune-challenge-1
EOF
sed 's/intune-challenge-1/not-the-challenge/' "$WORK/csr.cnf" >"$WORK/bad.cnf"
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/dev.key" \
    -config "$WORK/csr.cnf" -outform DER -out "$WORK/csr.der" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/dev2.key" \
    -config "$WORK/bad.cnf" -outform DER -out "$WORK/bad.der" 2>/dev/null
admin POST /_admin/challenges '{"challenge":"intune-challenge-1","subject":"CN=device-1","expires_in":600}' >/dev/null

out_has validate_matching_challenge_gives_success "^code Success$" \
    probe validate TX-0001 "$WORK/csr.der"
exit_is validate_other_challenge_is_refused 2 "^code " \
    probe validate TX-0002 "$WORK/bad.der"
if probe validate TX-0002 "$WORK/bad.der" 2>&1 | grep -q '^code Success$'; then
	not_ok validate_refusal_is_not_success
else
	ok validate_refusal_is_not_success
fi

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/ca.key" -out "$WORK/ca.crt" \
    -subj "/CN=Test Issuing CA" -days 2 2>/dev/null
openssl x509 -req -inform DER -in "$WORK/csr.der" -CA "$WORK/ca.crt" \
    -CAkey "$WORK/ca.key" -set_serial 0x1234ABCD55 -days 30 \
    -out "$WORK/dev.crt" 2>/dev/null
THUMB=$(openssl x509 -in "$WORK/dev.crt" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
check notify_success_is_accepted probe notify-success TX-0001 "$WORK/csr.der" \
    "$WORK/dev.crt" "ca.example\\Test Issuing CA" "Test Issuing CA"
notes=$(admin GET /_admin/notifications)
if printf '%s' "$notes" | grep -qi "$THUMB" && printf '%s' "$notes" | grep -qi '1234ABCD55'; then
	ok notification_carries_thumbprint_and_serial
else
	not_ok notification_carries_thumbprint_and_serial "thumbprint $THUMB" \
	    "$(printf '%s' "$notes" | head -c 600)"
fi
check notify_failure_is_accepted probe notify-failure TX-0002 "$WORK/bad.der" \
    0x80004005 policy refused the request
notes=$(admin GET /_admin/notifications)
if printf '%s' "$notes" | grep -q -- '-2147467259' &&
   printf '%s' "$notes" | grep -q 'policy refused the request'; then
	ok failure_notification_carries_hresult_and_description
else
	not_ok failure_notification_carries_hresult_and_description \
	    "$(printf '%s' "$notes" | head -c 600)"
fi

admin POST /_admin/revocationRequests '{"serialNumber":"1234ABCD55","issuerName":"CN=Test Issuing CA","requestContext":"ctx-rev-1"}' >/dev/null
out_has revocation_requests_are_downloaded \
    "^revocation requestContext=ctx-rev-1 serialNumber=1234ABCD55" probe revocations 10
check revocation_result_is_uploaded probe upload-result ctx-rev-1 ok 0
if admin GET /_admin/revocationResults | grep -q 'ctx-rev-1'; then
	ok revocation_result_reaches_intune
else
	not_ok revocation_result_reaches_intune
fi

# ---- failure paths -----------------------------------------------------
before=$(req_count "/v1.0/users/")
admin POST /_admin/faults '{"path_prefix":"/v1.0/users/","status":429,"retry_after":1,"count":1}' >/dev/null
out_has throttled_call_is_retried_after_retry_after "^user found" probe user "$U1"
check_eq throttled_call_made_two_requests 2 $(( $(req_count "/v1.0/users/") - before ))

admin POST /_admin/faults '{"path_prefix":"/v1.0/users/","status":429,"retry_after":30,"count":1}' >/dev/null
TIMEOUT_MS=3000 exit_is retry_after_beyond_deadline_fails_at_once 1 "Retry-After 30 s" \
    probe user "$U1"
admin DELETE /_admin/faults >/dev/null

admin POST /_admin/faults '{"path_prefix":"/v1.0/users/","latency_ms":6000,"count":1}' >/dev/null
t0=$(date +%s%N)
TIMEOUT_MS=1000 exit_is slow_server_call_fails_by_the_timeout 1 "tim(ed|e) ?out" \
    probe user "$U1"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# slow call returned after ${ms} ms (timeout 1000 ms, latency 6000 ms)"
if [ "$ms" -lt 5000 ]; then ok slow_server_call_does_not_wait_for_the_server
else not_ok slow_server_call_does_not_wait_for_the_server "took ${ms} ms"; fi
admin DELETE /_admin/faults >/dev/null

before=$(req_count "/v1.0/users/")
admin POST /_admin/faults '{"path_prefix":"/v1.0/users/","status":500,"count":10}' >/dev/null
exit_is server_error_fails_after_max_retries 1 "HTTP 500.*|after 3 attempts" \
    probe --max-retries 2 user "$U1"
check_eq server_error_was_tried_three_times 3 $(( $(req_count "/v1.0/users/") - before ))
admin DELETE /_admin/faults >/dev/null

# Several commands in one process share the token and discovery caches.
# shell_session FILE CMD...: runs "probe shell" fed by a coprocess, so the
# test can act on the emulator between two commands.
coproc_start() {
	coproc PROBE_SH { probe "$@" shell 2>>"$WORK/shell.err"; }
}
# shell_cmd LINE: sends one command, reads its output up to "exit N" into
# shell.out and sets SHELL_EXIT to that line.  (Not in a $(...) subshell:
# bash does not hand coprocess descriptors to subshells.)
shell_cmd() {
	local line
	SHELL_EXIT=
	printf '%s\n' "$1" >&"${PROBE_SH[1]}"
	while IFS= read -r -t 30 line <&"${PROBE_SH[0]}"; do
		printf '%s\n' "$line" >>"$WORK/shell.out"
		case $line in "exit "*) SHELL_EXIT=$line; return 0 ;; esac
	done
	return 1
}
coproc_stop() {
	exec {PROBE_SH[1]}>&-
	wait "$PROBE_SH_PID" 2>/dev/null
}

# After a Retry-After, the client holds back: the next call sends nothing.
admin POST /_admin/faults '{"path_prefix":"/v1.0/users/","status":429,"retry_after":30,"count":1}' >/dev/null
TIMEOUT_MS=3000 coproc_start
shell_cmd "user $U1"; first=$SHELL_EXIT
before=$(req_count "/v1.0/users/")
shell_cmd "user $U1"; second=$SHELL_EXIT
coproc_stop
admin DELETE /_admin/faults >/dev/null
if [ "$first" = "exit 1" ] && [ "$second" = "exit 1" ] &&
   [ "$(req_count "/v1.0/users/")" = "$before" ] &&
   grep -q "not sent: throttled" "$WORK/shell.err"; then
	ok throttled_client_holds_back_until_retry_after
else
	not_ok throttled_client_holds_back_until_retry_after \
	    "first: $first, second: $second" "$(tail -n 3 "$WORK/shell.err")"
fi

n401() { admin GET /_admin/requests | grep -oE '"status" *: *401' | wc -l; }
coproc_start
shell_cmd "user $U1"; first=$SHELL_EXIT
before401=$(n401)
tokens_before=$(req_count "/$TENANT/oauth2/v2.0/token")
admin POST /_admin/tokens/expire '{}' >/dev/null
shell_cmd "user $U1"; second=$SHELL_EXIT
coproc_stop
tokens=$(( $(req_count "/$TENANT/oauth2/v2.0/token") - tokens_before ))
if [ "$first" = "exit 0" ] && [ "$second" = "exit 0" ] && [ "$tokens" -eq 1 ] &&
   [ $(( $(n401) - before401 )) -eq 1 ]; then
	ok expired_token_gets_one_401_then_a_new_token
else
	not_ok expired_token_gets_one_401_then_a_new_token \
	    "first: $first, second: $second, new tokens: $tokens" \
	    "$(tail -n 5 "$WORK/shell.err")"
fi

# libcurl itself retries once a request whose reused connection died, so
# two drops are queued; each failed call must drop the discovery cache, so
# discoveries = 1 + failed calls, and a later call succeeds.
before=$(req_count "/v1.0/servicePrincipals/")
admin POST /_admin/faults '{"path_prefix":"/intune/scep","status":-1,"count":2}' >/dev/null
coproc_start --max-retries 0
failed=0 results=
for tx in TX-0003 TX-0004 TX-0005; do
	shell_cmd "validate $tx $WORK/csr.der"
	results="$results $SHELL_EXIT;"
	[ "$SHELL_EXIT" = "exit 1" ] && failed=$((failed + 1))
done
coproc_stop
admin DELETE /_admin/faults >/dev/null
discoveries=$(( $(req_count "/v1.0/servicePrincipals/") - before ))
case $results in
" exit 1;"*"exit "[02]";") good=1 ;;
*) good=0 ;;
esac
if [ "$good" = 1 ] && [ "$discoveries" -eq $((failed + 1)) ]; then
	ok dropped_connection_fails_and_drops_discovery_cache
else
	not_ok dropped_connection_fails_and_drops_discovery_cache \
	    "results:$results discoveries: $discoveries" \
	    "$(tail -n 5 "$WORK/shell.err")"
fi

# ---- TLS: verification is always on; ca_bundle adds a private CA -------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/tlsca.key" \
    -out "$WORK/tlsca.crt" -subj "/CN=Test TLS CA" -days 2 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/srv.key" \
    -out "$WORK/srv.csr" -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$WORK/srv.ext"
openssl x509 -req -in "$WORK/srv.csr" -CA "$WORK/tlsca.crt" -CAkey "$WORK/tlsca.key" \
    -set_serial 2 -days 2 -extfile "$WORK/srv.ext" -out "$WORK/srv.crt" 2>/dev/null
TPORT=$(free_port)
bg "$WORK/fake-tls.log" "$FAKE_ENTRA" --listen "127.0.0.1:$TPORT" \
    --tls-cert "$WORK/srv.crt" --tls-key "$WORK/srv.key"
if wait_tcp "$TPORT" 15; then
	TBASE=https://127.0.0.1:$TPORT
	curl -sS -f --cacert "$WORK/tlsca.crt" -X POST -H 'Content-Type: application/json' \
	    --data "{\"tenant\":\"$TENANT\",\"client_id\":\"$CLIENT\",\"client_secret\":\"$SECRET\"}" \
	    "$TBASE/_admin/apps" >/dev/null
	tprobe() {
		"$PROBE" --login-base "$TBASE" --graph-base "$TBASE" --tenant "$TENANT" \
		    --client-id "$CLIENT" --secret-file "$WORK/secret" "$@"
	}
	out_has https_with_private_ca_bundle_works "^token ok" \
	    tprobe --ca-bundle "$WORK/tlsca.crt" token graph
	out_has https_discovery_gives_https_services "^ScepRequestValidationFEService https://" \
	    tprobe --ca-bundle "$WORK/tlsca.crt" discover
	exit_is https_without_the_ca_is_refused 1 "certificate" tprobe token graph
	exit_is https_with_wrong_ca_is_refused 1 "certificate" \
	    tprobe --ca-bundle "$WORK/ca.crt" token graph
else
	not_ok fake_entra_serves_https "$(tail -n 5 "$WORK/fake-tls.log")"
fi

# The admin log never sees the secret or a token from the probe's stderr.
if grep -q -- "$SECRET" "$WORK/shell.err" 2>/dev/null; then
	not_ok probe_never_prints_the_secret
else
	ok probe_never_prints_the_secret
fi
