#!/usr/bin/env bash
# Integration test of tests/fake-entra, the Microsoft cloud emulator, driven
# with curl and openssl the way the product's clients will drive it: the
# token endpoint (secret and certificate assertions), Graph (discovery,
# devices, users, delta), Intune (validateRequest, notifications,
# revocation), the admin API and injected faults.  TAP output via lib.sh.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null && command -v python3 >/dev/null &&
    command -v openssl >/dev/null || {
	skip "fake_entra_tests" "curl, python3 and openssl are needed"
	exit 0
}
[ -x "$FAKE_ENTRA" ] || { not_ok "fake_entra_is_built" "$FAKE_ENTRA"; exit 1; }

TENANT=contoso.onmicrosoft.com
GRAPH_SCOPE=https://graph.microsoft.com/.default
INTUNE_SCOPE=https://api.manage.microsoft.com//.default
JWT_BEARER=urn:ietf:params:oauth:client-assertion-type:jwt-bearer

# ---- helpers ---------------------------------------------------------------

# call METHOD URL [curl args...]: sets CODE; body in $WORK/body, headers in
# $WORK/hdrs; CURL_RC is curl's own exit status.
call() {
	local method=$1 url=$2; shift 2
	CODE=$(curl -sS -o "$WORK/body" -D "$WORK/hdrs" -w '%{http_code}' \
	    -X "$method" "$@" "$url" 2>"$WORK/curl.err")
	CURL_RC=$?
}

# admin METHOD PATH [JSON]: calls the admin API.
admin() {
	if [ $# -ge 3 ]; then
		call "$1" "$B/_admin/$2" -H 'Content-Type: application/json' \
		    --data-binary "$3"
	else
		call "$1" "$B/_admin/$2"
	fi
}

# pyj EXPR: evaluates a Python expression over the last body (as d).
pyj() {
	python3 - "$WORK/body" "$1" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    d = None
v = eval(sys.argv[2])
print(v if not isinstance(v, bool) else ("1" if v else ""))
EOF
}

# expect NAME STATUS PYEXPR: ok when the last call answered STATUS and the
# Python expression over its JSON body is true.
expect() {
	local name=$1 status=$2 expr=${3:-True}
	if [ "$CODE" = "$status" ] && [ -n "$(pyj "$expr" 2>/dev/null)" ]; then
		ok "$name"
	else
		not_ok "$name" "status $CODE (want $status), check: $expr" \
		    "body: $(head -c 600 "$WORK/body" 2>/dev/null)"
	fi
}

# header NAME: value of a response header of the last call.
header() {
	tr -d '\r' <"$WORK/hdrs" | awk -v h="$1" 'BEGIN{IGNORECASE=1}
	    index(tolower($0), tolower(h) ":") == 1 { sub(/^[^:]*: */, ""); print; exit }'
}

# token_secret CLIENT SECRET SCOPE: requests a token by client secret.
token_secret() {
	call POST "$B/$TENANT/oauth2/v2.0/token" \
	    --data-urlencode grant_type=client_credentials \
	    --data-urlencode "client_id=$1" --data-urlencode "client_secret=$2" \
	    --data-urlencode "scope=$3"
}

# get_token CLIENT SECRET SCOPE: prints a fresh access token.
get_token() {
	token_secret "$@"
	pyj 'd["access_token"]'
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# make_jwt ALG THUMBNAME THUMB AUD ISS EXP_OFFSET JTI KEY: a signed assertion.
make_jwt() {
	local alg=$1 tname=$2 thumb=$3 aud=$4 iss=$5 off=$6 jti=$7 key=$8
	local now hdr pay input sigopts=()
	now=$(date +%s)
	hdr=$(printf '{"alg":"%s","typ":"JWT","%s":"%s"}' "$alg" "$tname" "$thumb")
	pay=$(printf '{"aud":"%s","iss":"%s","sub":"%s","jti":"%s","nbf":%d,"iat":%d,"exp":%d}' \
	    "$aud" "$iss" "$iss" "$jti" "$now" "$now" $((now + off)))
	input="$(printf %s "$hdr" | b64url).$(printf %s "$pay" | b64url)"
	[ "$alg" = PS256 ] && sigopts=(-sigopt rsa_padding_mode:pss \
	    -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256)
	printf '%s.%s' "$input" "$(printf %s "$input" |
	    openssl dgst -sha256 -sign "$key" "${sigopts[@]}" -binary | b64url)"
}

# token_assertion CLIENT JWT SCOPE: requests a token by client assertion.
token_assertion() {
	call POST "$B/$TENANT/oauth2/v2.0/token" \
	    --data-urlencode grant_type=client_credentials \
	    --data-urlencode "client_id=$1" \
	    --data-urlencode "client_assertion_type=$JWT_BEARER" \
	    --data-urlencode "client_assertion=$2" --data-urlencode "scope=$3"
}

# graph PATH [curl args]: GET a Graph path with the current Graph token.
graph() {
	local p=$1; shift
	call GET "$B$p" -H "Authorization: Bearer $GT" "$@"
}

# intune OP_PATH JSON [api-version]: POST to an Intune operation.
intune() {
	local api=${3-2018-02-20} hdr=()
	[ -n "$api" ] && hdr=(-H "api-version: $api")
	call POST "$B/intune/$1" -H "Authorization: Bearer $IT" \
	    -H 'Content-Type: application/json' \
	    -H "client-request-id: crid-$RANDOM" "${hdr[@]}" --data-binary "$2"
}

# make_csr NAME SUBJECT_LINES [CHALLENGE] [MASK]: writes $WORK/NAME.b64, the
# base64 DER of a CSR (challengePassword when CHALLENGE is non-empty).
make_csr() {
	local name=$1 dn=$2 ch=${3:-} mask=${4:-utf8only} cnf=$WORK/$1.cnf
	{
		printf '[req]\nprompt = no\ndistinguished_name = dn\n'
		printf 'string_mask = %s\n' "$mask"
		[ -n "$ch" ] && printf 'attributes = attrs\n'
		printf '[dn]\n%s\n' "$dn"
		[ -n "$ch" ] && printf '[attrs]\nchallengePassword = %s\n' "$ch"
	} >"$cnf"
	openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/$name.key" \
	    -config "$cnf" -out "$WORK/$name.csr" 2>/dev/null &&
	openssl req -in "$WORK/$name.csr" -outform DER | openssl base64 -A \
	    >"$WORK/$name.b64"
}

# validate TXID B64: calls validateRequest for a CSR.
validate() {
	intune scep/ScepActions/validateRequest \
	    "{\"request\":{\"transactionId\":\"$1\",\"certificateRequest\":\"$2\",\"callerInfo\":\"t_fake_entra/1\"}}"
}

# ---- start -----------------------------------------------------------------

PORT=$(free_port)
B=http://127.0.0.1:$PORT
bg "$WORK/fake-entra.log" "$FAKE_ENTRA" --listen "127.0.0.1:$PORT" --page-size 2
FE_PID=$BG_PID
if wait_tcp "$PORT" 10; then ok "fake_entra_starts_on_loopback_port"; else
	not_ok "fake_entra_starts_on_loopback_port" "$(cat "$WORK/fake-entra.log")"
	exit 1
fi

check "help_exits_zero" "$FAKE_ENTRA" --help
check_fails "non_loopback_listen_is_refused" "$FAKE_ENTRA" --listen 0.0.0.0:1

# ---- admin API input checks ------------------------------------------------

admin POST apps '{"tenant": "x", '
expect "admin_rejects_bad_json_with_400" 400 '"error" in d'
admin POST apps '{"tenant":"x"}'
expect "admin_rejects_missing_fields_with_400" 400 'isinstance(d["error"], str)'
admin PATCH devices/no-such-device '{"accountEnabled":false}'
expect "admin_unknown_object_is_404" 404 '"error" in d'

# ---- token endpoint: client secret -----------------------------------------

admin POST apps "{\"tenant\":\"$TENANT\",\"client_id\":\"app-secret\",\"client_secret\":\"s3cr3t~\"}"
expect "admin_registers_app_with_secret" 201 'd["client_id"] == "app-secret"'

token_secret app-secret 's3cr3t~' "$GRAPH_SCOPE"
expect "token_by_secret_is_issued" 200 \
    'd["token_type"] == "Bearer" and d["expires_in"] == 3599 and d["ext_expires_in"] == 3599 and len(d["access_token"]) > 20'
GT=$(pyj 'd["access_token"]')

token_secret app-secret wrong "$GRAPH_SCOPE"
expect "token_with_wrong_secret_is_401_invalid_client" 401 \
    'd["error"] == "invalid_client" and d["error_codes"] == [7000215] and d["error_description"].startswith("AADSTS7000215: ") and all(k in d for k in ("timestamp", "trace_id", "correlation_id"))'

token_secret nobody x "$GRAPH_SCOPE"
expect "token_for_unknown_client_is_400_unauthorized_client" 400 \
    'd["error"] == "unauthorized_client" and d["error_codes"] == [700016]'

call POST "$B/other-tenant/oauth2/v2.0/token" -d 'grant_type=client_credentials&client_id=app-secret&client_secret=x&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default'
expect "token_for_unknown_tenant_is_400_invalid_request" 400 \
    'd["error"] == "invalid_request" and d["error_codes"] == [90002]'

token_secret app-secret 's3cr3t~' https://graph.microsoft.com/User.Read
expect "token_scope_without_default_is_400_invalid_scope" 400 \
    'd["error"] == "invalid_scope"'

call POST "$B/$TENANT/oauth2/v2.0/token" -d 'client_id=app-secret&client_secret=x&scope=a/.default'
expect "token_without_grant_type_is_400_invalid_request" 400 \
    'd["error"] == "invalid_request" and d["error_codes"] == [900144]'

token_secret app-secret 's3cr3t~' "$INTUNE_SCOPE"
expect "token_for_intune_double_slash_scope_is_issued" 200 '"access_token" in d'
IT=$(pyj 'd["access_token"]')

# ---- token endpoint: certificate assertions --------------------------------

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/app.key" \
    -out "$WORK/app.crt" -subj /CN=fake-entra-test-app -days 2 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$WORK/other.key" 2>/dev/null
S256=$(openssl x509 -in "$WORK/app.crt" -outform DER | openssl dgst -sha256 -binary | b64url)
S1=$(openssl x509 -in "$WORK/app.crt" -outform DER | openssl dgst -sha1 -binary | b64url)
PEM=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$WORK/app.crt")
admin POST apps "{\"tenant\":\"$TENANT\",\"client_id\":\"app-cert\",\"certificate\":$PEM}"
expect "admin_registers_app_with_certificate" 201 "d['x5t#S256'] == '$S256' and d['x5t'] == '$S1'"

AUD="$B/$TENANT/oauth2/v2.0/token"
token_assertion app-cert "$(make_jwt PS256 'x5t#S256' "$S256" "$AUD" app-cert 600 j1 "$WORK/app.key")" "$GRAPH_SCOPE"
expect "token_by_ps256_assertion_is_issued" 200 '"access_token" in d'

token_assertion app-cert "$(make_jwt RS256 x5t "$S1" "$AUD" app-cert 600 j2 "$WORK/app.key")" "$GRAPH_SCOPE"
expect "token_by_rs256_assertion_is_issued" 200 '"access_token" in d'

token_assertion app-cert "$(make_jwt PS256 'x5t#S256' "$S256" "$AUD" app-cert 600 j3 "$WORK/other.key")" "$GRAPH_SCOPE"
expect "assertion_with_bad_signature_is_401" 401 \
    'd["error"] == "invalid_client" and d["error_codes"] == [700027] and "did not match" in d["error_description"]'

token_assertion app-cert "$(make_jwt RS256 x5t "AAAAAAAAAAAAAAAAAAAAAAAAAAA" "$AUD" app-cert 600 j4 "$WORK/app.key")" "$GRAPH_SCOPE"
expect "assertion_with_wrong_x5t_is_401_key_not_found" 401 \
    'd["error"] == "invalid_client" and d["error_codes"] == [700027] and "key was not found" in d["error_description"]'

token_assertion app-cert "$(make_jwt PS256 'x5t#S256' "$S1" "$AUD" app-cert 600 j5 "$WORK/app.key")" "$GRAPH_SCOPE"
expect "assertion_with_sha1_in_x5t_s256_is_401" 401 'd["error_codes"] == [700027]'

J=$(make_jwt PS256 'x5t#S256' "$S256" "$AUD" app-cert 600 j6 "$WORK/app.key")
token_assertion app-cert "$J" "$GRAPH_SCOPE"
token_assertion app-cert "$J" "$GRAPH_SCOPE"
expect "replayed_assertion_jti_is_refused" 400 'd["error"] == "invalid_request"'

token_assertion app-cert "$(make_jwt PS256 'x5t#S256' "$S256" "https://login.microsoftonline.com/$TENANT/oauth2/v2.0/token" app-cert 600 j7 "$WORK/app.key")" "$GRAPH_SCOPE"
expect "assertion_for_another_audience_is_401" 401 'd["error"] == "invalid_client"'

token_assertion app-cert "$(make_jwt PS256 'x5t#S256' "$S256" "$AUD" someone-else 600 j8 "$WORK/app.key")" "$GRAPH_SCOPE"
expect "assertion_with_wrong_issuer_is_401" 401 'd["error"] == "invalid_client"'

token_assertion app-cert "$(make_jwt PS256 'x5t#S256' "$S256" "$AUD" app-cert -10 j9 "$WORK/app.key")" "$GRAPH_SCOPE"
expect "expired_assertion_is_401_time_range" 401 'd["error_codes"] == [700024]'

token_assertion app-cert "$(make_jwt PS256 'x5t#S256' "$S256" "$AUD" app-cert 86400 j10 "$WORK/app.key")" "$GRAPH_SCOPE"
expect "assertion_living_a_day_is_401_time_range" 401 'd["error_codes"] == [700024]'

token_assertion app-cert "not.a.jwt" "$GRAPH_SCOPE"
expect "malformed_assertion_is_400" 400 'd["error"] == "invalid_request"'

# ---- Graph: authentication -------------------------------------------------

call GET "$B/v1.0/users/nobody@x"
expect "graph_without_token_is_401" 401 \
    'd["error"]["code"] == "InvalidAuthenticationToken" and set(d["error"]["innerError"]) >= {"date", "request-id", "client-request-id"}'
check_eq "graph_401_names_bearer_scheme" "Bearer" "$(header WWW-Authenticate | cut -d' ' -f1)"

call GET "$B/v1.0/users/nobody@x" -H "Authorization: Bearer $IT"
expect "intune_token_is_refused_by_graph" 401 'd["error"]["code"] == "InvalidAuthenticationToken"'

call POST "$B/intune/scep/ScepActions/validateRequest" \
    -H "Authorization: Bearer $GT" -H 'api-version: 2018-02-20' \
    -H 'Content-Type: application/json' --data-binary '{}'
expect "graph_token_is_refused_by_intune" 401 '"error" in d'

# ---- Graph: discovery ------------------------------------------------------

graph /v1.0/servicePrincipals/appId=0000000a-0000-0000-c000-000000000000/endpoints
expect "discovery_lists_intune_services_on_this_server" 200 \
    "{e['providerName']: e['uri'] for e in d['value']}.get('ScepRequestValidationFEService') == '$B/intune/scep' and {e['providerName']: e['uri'] for e in d['value']}.get('PkiConnectorFEService') == '$B/intune/pki' and len(d['value']) > 2"

graph "/v1.0/servicePrincipals(appId='0000000a-0000-0000-c000-000000000000')/endpoints"
expect "discovery_accepts_alternate_key_syntax" 200 'len(d["value"]) > 2'

# ---- Graph: devices, users, managed devices --------------------------------

admin POST devices '{"deviceId":"dev-a","displayName":"PC-A","accountEnabled":true}'
expect "admin_creates_device_with_generated_id" 201 \
    'd["deviceId"] == "dev-a" and len(d["id"]) == 36 and d["accountEnabled"] is True'
DEV_A_ID=$(pyj 'd["id"]')
admin POST devices '{"deviceId":"dev-b","id":"11111111-2222-3333-4444-555555555555"}'
expect "admin_creates_device_with_given_id" 201 'd["id"] == "11111111-2222-3333-4444-555555555555"'
admin POST devices '{"deviceId":"dev-c"}'

graph "/v1.0/devices(deviceId='dev-a')?\$select=id,deviceId,accountEnabled"
expect "device_by_device_id_honours_select" 200 \
    "d['id'] == '$DEV_A_ID' and d['deviceId'] == 'dev-a' and d['accountEnabled'] is True and 'displayName' not in d"

graph "/v1.0/devices(deviceId=%27dev-a%27)"
expect "device_by_device_id_with_encoded_quotes" 200 \
    "d['id'] == '$DEV_A_ID' and d['displayName'] == 'PC-A' and 'operatingSystem' in d"

graph "/v1.0/devices?\$filter=deviceId%20eq%20'dev-b'&\$select=accountEnabled"
expect "device_by_filter_returns_value_array" 200 \
    'len(d["value"]) == 1 and d["value"][0]["id"] == "11111111-2222-3333-4444-555555555555" and set(d["value"][0]) == {"id", "accountEnabled"}'

graph "/v1.0/devices/$DEV_A_ID"
expect "device_by_object_id" 200 'd["deviceId"] == "dev-a"'

graph "/v1.0/devices(deviceId='no-such')"
expect "unknown_device_is_404_resource_not_found" 404 \
    'd["error"]["code"] == "Request_ResourceNotFound" and "does not exist" in d["error"]["message"] and "request-id" in d["error"]["innerError"]'

graph "/v1.0/devices(deviceId='dev-a')?\$select=bogus"
expect "select_of_unknown_property_is_400" 400 'd["error"]["code"] == "BadRequest"'

admin POST users '{"id":"aaaaaaaa-0000-0000-0000-000000000001","userPrincipalName":"alice@contoso.com","accountEnabled":true}'
expect "admin_creates_user" 201 'd["userPrincipalName"] == "alice@contoso.com"'
admin POST users '{"id":"aaaaaaaa-0000-0000-0000-000000000002","userPrincipalName":"bob@contoso.com"}'

graph "/v1.0/users/alice@contoso.com"
expect "user_by_upn_omits_account_enabled_by_default" 200 \
    'd["id"] == "aaaaaaaa-0000-0000-0000-000000000001" and "accountEnabled" not in d and d["userPrincipalName"] == "alice@contoso.com"'

graph "/v1.0/users/alice%40contoso.com?\$select=id,userPrincipalName,accountEnabled"
expect "user_by_upn_with_account_enabled_selected" 200 'd["accountEnabled"] is True and "displayName" not in d'

admin POST managedDevices '{"id":"md-1","azureADDeviceId":"dev-a"}'
expect "admin_creates_managed_device" 201 'd["azureADDeviceId"] == "dev-a"'
graph "/v1.0/deviceManagement/managedDevices/md-1?\$select=id,azureADDeviceId,complianceState"
expect "managed_device_by_intune_id" 200 \
    'd["azureADDeviceId"] == "dev-a" and d["complianceState"] == "compliant" and "deviceName" not in d'
graph "/v1.0/deviceManagement/managedDevices/md-404"
expect "unknown_managed_device_is_404" 404 '"error" in d'

# ---- Graph: delta ----------------------------------------------------------

graph "/v1.0/devices/delta?\$select=deviceId,accountEnabled"
expect "device_delta_first_page_has_next_link" 200 \
    "len(d['value']) == 2 and d['@odata.nextLink'].startswith('$B/v1.0/devices/delta?') and '\$skiptoken=' in d['@odata.nextLink'] and '@odata.deltaLink' not in d"
NEXT=$(pyj 'd["@odata.nextLink"]')
call GET "$NEXT" -H "Authorization: Bearer $GT"
expect "device_delta_last_page_has_delta_link" 200 \
    "len(d['value']) == 1 and d['@odata.deltaLink'].startswith('$B/v1.0/devices/delta?') and '\$deltatoken=' in d['@odata.deltaLink'] and '@odata.nextLink' not in d and set(d['value'][0]) == {'id', 'deviceId', 'accountEnabled'}"
DLINK=$(pyj 'd["@odata.deltaLink"]')

admin PATCH devices/dev-a '{"accountEnabled":false}'
expect "admin_disables_device" 200 'd["accountEnabled"] is False'
admin DELETE devices/dev-b
expect "admin_deletes_device" 200 'd["deleted"] is True'
graph "/v1.0/devices(deviceId='dev-b')"
expect "deleted_device_is_404" 404 'd["error"]["code"] == "Request_ResourceNotFound"'

call GET "$DLINK" -H "Authorization: Bearer $GT"
expect "device_delta_reports_disable_and_delete" 200 \
    "{v['id']: v for v in d['value']}['$DEV_A_ID']['accountEnabled'] is False and {v['id']: v for v in d['value']}['11111111-2222-3333-4444-555555555555'] == {'id': '11111111-2222-3333-4444-555555555555', '@removed': {'reason': 'deleted'}} and len(d['value']) == 2 and '@odata.deltaLink' in d"
DLINK=$(pyj 'd["@odata.deltaLink"]')
call GET "$DLINK" -H "Authorization: Bearer $GT"
expect "device_delta_without_changes_is_empty" 200 'd["value"] == [] and "@odata.deltaLink" in d'

graph "/v1.0/devices/delta?\$deltaToken=latest"
expect "delta_token_latest_returns_only_a_delta_link" 200 \
    'd["value"] == [] and "$deltatoken=" in d["@odata.deltaLink"] and "@odata.nextLink" not in d'
LATEST=$(pyj 'd["@odata.deltaLink"]')
admin POST devices '{"deviceId":"dev-d"}'
call GET "$LATEST" -H "Authorization: Bearer $GT"
expect "delta_from_latest_sees_only_new_changes" 200 \
    '[v["deviceId"] for v in d["value"]] == ["dev-d"]'

graph "/v1.0/devices/delta?\$deltatoken=not-a-token"
expect "unknown_delta_token_is_400_sync_state_not_found" 400 \
    'd["error"]["code"] == "syncStateNotFound"'

graph "/v1.0/users/delta?\$select=userPrincipalName,accountEnabled"
expect "user_delta_full_read" 200 'len(d["value"]) == 2 and "@odata.deltaLink" in d'
ULINK=$(pyj 'd["@odata.deltaLink"]')
admin PATCH users/bob@contoso.com '{"accountEnabled":false}'
admin DELETE users/alice@contoso.com
expect "admin_soft_deletes_user" 200 'd["permanent"] is False'
graph "/v1.0/users/alice@contoso.com"
expect "soft_deleted_user_is_404" 404 'd["error"]["code"] == "Request_ResourceNotFound"'
call GET "$ULINK" -H "Authorization: Bearer $GT"
expect "user_delta_reports_soft_delete_as_changed_and_disable" 200 \
    '{v["id"]: v for v in d["value"]}["aaaaaaaa-0000-0000-0000-000000000001"]["@removed"] == {"reason": "changed"} and {v["id"]: v for v in d["value"]}["aaaaaaaa-0000-0000-0000-000000000002"]["accountEnabled"] is False'
ULINK=$(pyj 'd["@odata.deltaLink"]')
admin DELETE "users/aaaaaaaa-0000-0000-0000-000000000002?permanent=true"
expect "admin_deletes_user_permanently" 200 'd["permanent"] is True'
call GET "$ULINK" -H "Authorization: Bearer $GT"
expect "user_delta_reports_permanent_delete_as_deleted" 200 \
    'd["value"] == [{"id": "aaaaaaaa-0000-0000-0000-000000000002", "@removed": {"reason": "deleted"}}]'

# ---- token expiry ----------------------------------------------------------

admin POST tokens/expire
expect "admin_expires_tokens" 200 'd["expired"] >= 2'
graph "/v1.0/devices(deviceId='dev-a')"
expect "expired_token_is_401" 401 \
    'd["error"]["code"] == "InvalidAuthenticationToken" and "expired" in d["error"]["message"]'
GT=$(get_token app-secret 's3cr3t~' "$GRAPH_SCOPE")
IT=$(get_token app-secret 's3cr3t~' "$INTUNE_SCOPE")
graph "/v1.0/devices(deviceId='dev-a')"
expect "new_token_after_expiry_works" 200 'd["deviceId"] == "dev-a"'

# ---- Intune: validateRequest -----------------------------------------------

make_csr good 'CN = dev1
O = Contoso' 'chall-good'
make_csr printable 'CN = dev2' 'chall-printable' nombstr
make_csr nochal 'CN = dev3'
make_csr expired 'CN = dev4' 'chall-expired'
make_csr other 'CN = someone-else' 'chall-good'
make_csr unknown 'CN = dev1
O = Contoso' 'chall-never-issued'
SUBJ=$(openssl req -in "$WORK/good.csr" -noout -subject -nameopt RFC2253 | sed 's/^subject= *//')
admin POST challenges "{\"challenge\":\"chall-good\",\"subject\":\"$SUBJ\",\"expires_in\":600}"
expect "admin_registers_challenge" 201 'd["subject"] == "O=Contoso,CN=dev1"'
admin POST challenges '{"challenge":"chall-printable","subject":"CN=dev2"}'
admin POST challenges '{"challenge":"chall-expired","subject":"CN=dev4","expires_in":-5}'

validate tx-good "$(cat "$WORK/good.b64")"
expect "validate_matching_csr_is_success" 200 'd == {"code": "Success", "errorDescription": ""}'
validate tx-printable "$(cat "$WORK/printable.b64")"
expect "validate_accepts_printable_string_challenge" 200 'd["code"] == "Success"'
validate tx-expired "$(cat "$WORK/expired.b64")"
expect "validate_expired_challenge" 200 'd["code"] == "ChallengeExpired"'
validate tx-other "$(cat "$WORK/other.b64")"
expect "validate_subject_mismatch" 200 'd["code"] == "SubjectNameMismatch"'
validate tx-nochal "$(cat "$WORK/nochal.b64")"
expect "validate_missing_challenge_password" 200 'd["code"] == "ChallengePasswordMissing"'
validate tx-unknown "$(cat "$WORK/unknown.b64")"
expect "validate_unknown_challenge_is_decryption_error" 200 'd["code"] == "ChallengeDecryptionError"'
validate tx-junk "bm90IGEgY3NyIGF0IGFsbA=="
expect "validate_undecodable_csr" 200 'd["code"] == "CertificateRequestDecodingFailed"'

intune scep/ScepActions/validateRequest '{"request":{"transactionId":"tx-noapi","certificateRequest":"x","callerInfo":"t"}}' ""
expect "intune_call_without_api_version_is_400" 400 '"error" in d'
intune scep/ScepActions/validateRequest '{"request":{"transactionId":"tx-badapi","certificateRequest":"x","callerInfo":"t"}}' 5019-05-05
expect "intune_scep_call_with_pki_api_version_is_400" 400 '"error" in d'
intune scep/ScepActions/validateRequest '{"request":{"transactionId":"tx-x"}}'
expect "validate_without_certificate_request_is_400" 400 '"error" in d'

admin GET validations
expect "admin_lists_validations_with_codes" 200 \
    '[(v["transactionId"], v["code"]) for v in d][:7] == [("tx-good", "Success"), ("tx-printable", "Success"), ("tx-expired", "ChallengeExpired"), ("tx-other", "SubjectNameMismatch"), ("tx-nochal", "ChallengePasswordMissing"), ("tx-unknown", "ChallengeDecryptionError"), ("tx-junk", "CertificateRequestDecodingFailed")]'

# ---- Intune: notifications -------------------------------------------------

intune scep/ScepActions/successNotification "{\"notification\":{\"transactionId\":\"tx-good\",\"certificateRequest\":\"$(cat "$WORK/good.b64")\",\"certificateThumbprint\":\"0123456789ABCDEF0123456789ABCDEF01234567\",\"certificateSerialNumber\":\"7A3F\",\"certificateExpirationDateUtc\":\"2030-01-01T00:00:00Z\",\"issuingCertificateAuthority\":\"CN=Test CA\",\"callerInfo\":\"t_fake_entra/1\",\"caConfiguration\":\"\",\"certificateAuthority\":\"scep-ca\"}}"
expect "success_notification_is_accepted" 200 'd == {"code": "Success", "errorDescription": ""}'
intune scep/ScepActions/failureNotification '{"notification":{"transactionId":"tx-other","certificateRequest":"x","hResult":-2147024809,"errorDescription":"refused","callerInfo":"t_fake_entra/1"}}'
expect "failure_notification_is_accepted" 200 'd["code"] == "Success"'
intune scep/ScepActions/failureNotification '{"notification":{"transactionId":"tx-bad","certificateRequest":"x","hResult":"0x80070057","errorDescription":"e","callerInfo":"c"}}'
expect "failure_notification_with_string_hresult_is_400" 400 '"error" in d'
intune scep/ScepActions/successNotification '{"notification":{"transactionId":"tx-bad"}}'
expect "success_notification_missing_fields_is_400" 400 '"error" in d'
admin GET notifications
expect "admin_lists_notifications_in_order_with_kind" 200 \
    '[(n["kind"], n["transactionId"]) for n in d] == [("success", "tx-good"), ("failure", "tx-other")] and d[0]["certificateSerialNumber"] == "7A3F" and d[1]["hResult"] == -2147024809'

# ---- Intune: revocation ----------------------------------------------------

admin POST revocationRequests '{"serialNumber":"0A1B","issuerName":"CN=CA One","requestContext":"rc-1","caConfiguration":"ca1"}'
expect "admin_queues_revocation_request" 201 'd["requestContext"] == "rc-1" and d["answered"] is False'
admin POST revocationRequests '{"serialNumber":"0C2D","issuerName":"CN=CA Two","requestContext":"rc-2"}'
PKI=5019-05-05
intune pki/CertificateAuthorityRequests/downloadRevocationRequests '{"downloadParameters":{"maxRequests":100,"issuerName":null}}' $PKI
expect "download_revocation_requests_lists_pending" 200 \
    '[(r["requestContext"], r["serialNumber"], r["issuerName"], r["caConfiguration"]) for r in d["value"]] == [("rc-1", "0A1B", "CN=CA One", "ca1"), ("rc-2", "0C2D", "CN=CA Two", "")]'
intune pki/CertificateAuthorityRequests/downloadRevocationRequests '{"downloadParameters":{"maxRequests":100,"issuerName":"CN=CA Two"}}' $PKI
expect "download_revocation_requests_filters_by_issuer" 200 '[r["requestContext"] for r in d["value"]] == ["rc-2"]'
intune pki/CertificateAuthorityRequests/downloadRevocationRequests '{"downloadParameters":{"maxRequests":1}}' $PKI
expect "download_revocation_requests_honours_max" 200 'len(d["value"]) == 1'
intune pki/CertificateAuthorityRequests/downloadRevocationRequests '{"downloadParameters":{"maxRequests":1}}'
expect "pki_call_with_scep_api_version_is_400" 400 '"error" in d'
intune pki/CertificateAuthorityRequests/uploadRevocationResults '{"results":[{"requestContext":"rc-1","succeeded":true,"errorCode":"0","errorMessage":""}]}' $PKI
expect "upload_revocation_results_answers_true" 200 'd == {"value": True}'
intune pki/CertificateAuthorityRequests/uploadRevocationResults '{"results":[{"requestContext":"rc-2","succeeded":false,"errorCode":"NotANumber","errorMessage":""}]}' $PKI
expect "upload_with_non_numeric_error_code_is_400" 400 '"error" in d'
intune pki/CertificateAuthorityRequests/downloadRevocationRequests '{"downloadParameters":{"maxRequests":100,"issuerName":null}}' $PKI
expect "answered_revocation_request_is_no_longer_pending" 200 '[r["requestContext"] for r in d["value"]] == ["rc-2"]'
admin GET revocationResults
expect "admin_lists_revocation_results" 200 \
    'len(d) == 1 and d[0]["requestContext"] == "rc-1" and d[0]["succeeded"] is True and d[0]["errorCode"] == "0"'

# ---- request log -----------------------------------------------------------

admin GET requests
expect "request_log_records_intune_headers" 200 \
    'any(r["path"] == "/intune/pki/CertificateAuthorityRequests/uploadRevocationResults" and r["api_version"] == "5019-05-05" and r["client_request_id"].startswith("crid-") and r["status"] == 200 and r["method"] == "POST" for r in d) and not any(r["path"].startswith("/_admin") for r in d)'
admin DELETE requests
admin GET requests
expect "request_log_can_be_cleared" 200 'd == []'

# ---- faults ----------------------------------------------------------------

admin POST faults '{"path_prefix":"/v1.0/devices","status":429,"retry_after":7,"count":1}'
expect "admin_adds_fault" 201 'd["status"] == 429 and d["count"] == 1'
graph "/v1.0/devices(deviceId='dev-a')"
expect "fault_429_has_graph_error" 429 'd["error"]["code"] == "TooManyRequests"'
check_eq "fault_429_has_retry_after" "7" "$(header Retry-After)"
graph "/v1.0/devices(deviceId='dev-a')"
expect "fault_with_count_one_then_answers_normally" 200 'd["deviceId"] == "dev-a"'

admin POST faults "{\"path_prefix\":\"/$TENANT/oauth2\",\"status\":500,\"count\":1}"
token_secret app-secret 's3cr3t~' "$GRAPH_SCOPE"
expect "fault_500_on_token_endpoint_has_oauth_error" 500 '"error" in d and d["error_codes"]'
token_secret app-secret 's3cr3t~' "$GRAPH_SCOPE"
expect "token_endpoint_recovers_after_fault" 200 '"access_token" in d'

admin POST faults '{"path_prefix":"/v1.0/users","latency_ms":1500,"count":1}'
start=$(date +%s%N)
graph "/v1.0/users/nobody@contoso.com" &
SLOW=$!
sleep 0.2
graph "/v1.0/devices(deviceId='dev-a')"
fast_ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait "$SLOW"
slow_ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$fast_ms" -lt 1200 ] && [ "$slow_ms" -ge 1500 ]; then
	ok "latency_fault_delays_only_its_request"
else
	not_ok "latency_fault_delays_only_its_request" "fast ${fast_ms}ms slow ${slow_ms}ms"
fi

admin POST faults '{"path_prefix":"/v1.0/","status":-1,"count":1}'
graph "/v1.0/devices(deviceId='dev-a')"
if [ "$CURL_RC" -eq 52 ] || [ "$CURL_RC" -eq 56 ]; then
	ok "drop_fault_closes_connection_without_answer"
else
	not_ok "drop_fault_closes_connection_without_answer" "curl rc $CURL_RC code $CODE"
fi
graph "/v1.0/devices(deviceId='dev-a')"
expect "server_answers_after_dropped_connection" 200 'd["deviceId"] == "dev-a"'

admin POST faults '{"path_prefix":"/v1.0/","status":503,"retry_after":1}'
graph "/v1.0/devices(deviceId='dev-a')"
graph "/v1.0/devices(deviceId='dev-a')"
expect "fault_without_count_persists" 503 '"error" in d'
admin DELETE faults
expect "admin_clears_faults" 200 'd["cleared"] == 1'
graph "/v1.0/devices(deviceId='dev-a')"
expect "graph_answers_after_faults_cleared" 200 'd["deviceId"] == "dev-a"'

admin POST faults '{"path_prefix":"v1.0","status":200}'
expect "admin_refuses_bad_fault" 400 '"error" in d'

# ---- concurrency -----------------------------------------------------------

pids=()
for i in $(seq 8); do
	curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $GT" \
	    "$B/v1.0/devices(deviceId='dev-a')" >"$WORK/par.$i" &
	pids+=($!)
done
wait "${pids[@]}"
check_eq "concurrent_requests_all_answered" "8" "$(cat "$WORK"/par.* | grep -c '^200$')"

# ---- HTTPS and clean stop --------------------------------------------------

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/tls.key" \
    -out "$WORK/tls.crt" -subj /CN=127.0.0.1 -days 2 \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null
TPORT=$(free_port)
bg "$WORK/fake-entra-tls.log" "$FAKE_ENTRA" --listen "127.0.0.1:$TPORT" \
    --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" --token-lifetime 60
TLS_PID=$BG_PID
wait_tcp "$TPORT" 10
call POST "https://127.0.0.1:$TPORT/_admin/apps" --cacert "$WORK/tls.crt" \
    -H 'Content-Type: application/json' \
    --data-binary "{\"tenant\":\"$TENANT\",\"client_id\":\"c\",\"client_secret\":\"s\"}"
expect "https_server_answers_with_given_certificate" 201 '"tenant" in d'
call POST "https://127.0.0.1:$TPORT/$TENANT/oauth2/v2.0/token" --cacert "$WORK/tls.crt" \
    -d "grant_type=client_credentials&client_id=c&client_secret=s&scope=https://graph.microsoft.com/.default"
expect "token_lifetime_option_sets_expires_in" 200 'd["expires_in"] == 60'
T2=$(pyj 'd["access_token"]')
call GET "https://127.0.0.1:$TPORT/v1.0/servicePrincipals/appId=0000000a-0000-0000-c000-000000000000/endpoints" \
    --cacert "$WORK/tls.crt" -H "Authorization: Bearer $T2"
expect "https_discovery_hands_out_https_uris" 200 \
    "all(e['uri'].startswith('https://127.0.0.1:$TPORT/') for e in d['value'])"
kill -TERM "$TLS_PID"
wait "$TLS_PID"
check_eq "sigterm_stops_with_exit_zero" "0" "$?"

kill -INT "$FE_PID"
wait "$FE_PID"
check_eq "sigint_stops_with_exit_zero" "0" "$?"
if grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' "$WORK"/fake-entra*.log; then
	not_ok "no_sanitizer_reports" "$(grep -h -A5 'runtime error\|Sanitizer' "$WORK"/fake-entra*.log | head -40)"
else
	ok "no_sanitizer_reports"
fi
