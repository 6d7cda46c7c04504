#!/usr/bin/env bash
# Revocation publishing against the openssl CLI: the CRL at the CDP URL
# (openssl crl, verify -crl_check), the CRL number, holds leaving the CRL
# when released, `scep-ca crl`, SCEP GetCRL, and the OCSP responder
# (openssl ocsp: good, revoked with reason, unknown, nonce, GET form,
# malformedRequest, delegated and CA signer).  Certificates are enrolled
# with micromdm's scepclient; revocations are made with the CLI while the
# daemon runs.
. "$TOP/tests/integration/lib.sh"

CA=$WORK/ca
CHALLENGE=crl-ocsp-challenge-$RANDOM
"$SCEP_CA" init --dir "$CA" --challenge "$CHALLENGE" --key rsa:2048 \
    >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; exit 1; }
# micromdm's scepclient 2.1.0 encrypts with single DES only.
sed -i 's/^\[profile default\]$/&\nallow_legacy = yes/' "$CA/scep-ca.conf"
cat >>"$CA/scep-ca.conf" <<'EOF'

[crl]
min_interval = 1
next_update = 3600

[ocsp]
next_update = 300
EOF
check "init_makes_the_delegated_ocsp_signer" test -s "$CA/ocsp.crt"
check_eq "ocsp_signer_key_is_private" 600 "$(stat -c %a "$CA/ocsp.key")"
text=$(openssl x509 -in "$CA/ocsp.crt" -noout -text)
check "ocsp_signer_has_ocsp_signing_eku" grep -q 'OCSP Signing' <<<"$text"
check "ocsp_signer_has_ocsp_nocheck" grep -q 'OCSP No Check' <<<"$text"
check "ocsp_signer_verifies_against_ca" \
    openssl verify -CAfile "$CA/ca.crt" -purpose ocsphelper "$CA/ocsp.crt"

start_ca "$CA" || exit 1
CRL_URL=$CA_URL/crl/ca.crl
OCSP_URL=$CA_URL/ocsp

# enroll NAME: a certificate for NAME in $WORK/NAME/cert.pem.
enroll() {
	mkdir -p "$WORK/$1"
	(cd "$WORK/$1" && scepclient -server-url "$CA_URL/scep" \
	    -challenge "$CHALLENGE" -private-key key.pem -certificate cert.pem \
	    -cn "$1" >enroll.log 2>&1)
}
serial_of() { openssl x509 -in "$WORK/$1/cert.pem" -noout -serial | cut -d= -f2; }

for n in good revoked held; do enroll "$n"; done
check "three_certificates_enrolled" test -s "$WORK/held/cert.pem"
GOOD=$(serial_of good) REVOKED=$(serial_of revoked) HELD=$(serial_of held)

# fetch_crl OUT: downloads the CRL (DER) and makes OUT.pem beside it.
fetch_crl() {
	curl -sf -o "$1" "$CRL_URL" &&
	    openssl crl -inform DER -in "$1" -out "$1.pem" 2>/dev/null
}
# crl_number FILE: the CRL number, decimal.
crl_number() {
	local hex
	hex=$(openssl crl -inform DER -in "$1" -noout -crlnumber 2>/dev/null |
	    sed -n 's/^crlNumber=\(0x\)\{0,1\}//p')
	[ -n "$hex" ] && printf '%d\n' "0x$hex"
}
# crl_has FILE SERIAL: the serial is on the CRL.
crl_has() {
	openssl crl -inform DER -in "$1" -noout -text 2>/dev/null |
	    grep -q "Serial Number: $2\$"
}
# wait_crl PRED SERIAL: polls the served CRL (10 s) until PRED holds.
wait_crl() {
	local i
	for i in $(seq 50); do
		fetch_crl "$WORK/poll.crl" && "$@" && return 0
		sleep 0.2
	done
	return 1
}
on_crl()  { crl_has "$WORK/poll.crl" "$1"; }
off_crl() { ! crl_has "$WORK/poll.crl" "$1"; }

# ocsp NAME OUT [digest]: asks the responder about NAME's certificate.
ocsp() {
	openssl ocsp ${3:+"$3"} -issuer "$CA/ca.crt" -cert "$WORK/$1/cert.pem" \
	    -url "$OCSP_URL" -CAfile "$CA/ca.crt" -resp_text >"$2" 2>&1
}

# ---- CRL over HTTP ----------------------------------------------------------
headers=$(curl -s -D - -o "$WORK/crl1.der" "$CRL_URL" | tr -d '\r')
check_eq "crl_is_served_as_pkix_crl" "application/pkix-crl" \
    "$(sed -n 's/^Content-Type: //ip' <<<"$headers")"
check "openssl_crl_parses_the_crl" \
    openssl crl -inform DER -in "$WORK/crl1.der" -noout -text
crltext=$(openssl crl -inform DER -in "$WORK/crl1.der" -noout -text 2>&1)
check "crl_is_version_2" grep -q 'Version 2' <<<"$crltext"
check "crl_has_authority_key_identifier" \
    grep -q 'Authority Key Identifier' <<<"$crltext"
check "crl_signature_verifies" \
    openssl crl -inform DER -in "$WORK/crl1.der" -CAfile "$CA/ca.crt" -noout
next=$(openssl crl -inform DER -in "$WORK/crl1.der" -noout -nextupdate | cut -d= -f2)
check_eq "crl_expires_header_is_next_update" "$(date -u -d "$next" +%s)" \
    "$(date -u -d "$(sed -n 's/^Expires: //ip' <<<"$headers")" +%s)"
maxage=$(sed -n 's/^Cache-Control: .*max-age=\([0-9]*\).*/\1/ip' <<<"$headers")
if [ -n "$maxage" ] && [ "$maxage" -gt 3000 ] && [ "$maxage" -le 3600 ]; then
	ok "crl_max_age_reaches_next_update"
else
	not_ok "crl_max_age_reaches_next_update" "$headers"
fi
check "crl_has_last_modified" grep -qi '^Last-Modified: ' <<<"$headers"
etag=$(sed -n 's/^ETag: //ip' <<<"$headers")
check_eq "crl_if_none_match_gets_304" 304 \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$CRL_URL")"
check_eq "other_crl_names_are_404" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' "$CA_URL/crl/other.crl")"
check "crl_file_is_written_for_web_servers" \
    cmp -s "$CA/crl/ca.crl" "$WORK/crl1.der"
N1=$(crl_number "$WORK/crl1.der")

fetch_crl "$WORK/crl1.der"
check "verify_crl_check_passes_for_a_good_certificate" \
    openssl verify -crl_check -CAfile "$CA/ca.crt" -CRLfile "$WORK/crl1.der.pem" \
    "$WORK/good/cert.pem"

# ---- OCSP: good, with nonce, delegated signer -------------------------------
ocsp good "$WORK/o-good.txt"
check "ocsp_good_certificate_is_good" grep -q "cert.pem: good" "$WORK/o-good.txt"
check "ocsp_response_verifies_against_the_ca" \
    grep -q 'Response verify OK' "$WORK/o-good.txt"
check "ocsp_nonce_is_echoed" grep -q 'OCSP Nonce' "$WORK/o-good.txt"
check_fails "ocsp_no_nonce_warning" grep -q 'WARNING: no nonce' "$WORK/o-good.txt"
check "ocsp_is_signed_by_the_delegated_signer" \
    grep -q 'Subject: CN=scep-ca OCSP Responder' "$WORK/o-good.txt"
check "ocsp_has_next_update" grep -q 'Next Update:' "$WORK/o-good.txt"
check "ocsp_sha256_certid_is_answered" ocsp good "$WORK/o-sha256.txt" -sha256
check "ocsp_sha256_certid_is_good" grep -q "cert.pem: good" "$WORK/o-sha256.txt"

# ---- revocation with the CLI while the daemon runs --------------------------
out=$("$SCEP_CA" revoke "$REVOKED" --dir "$CA" --reason keyCompromise 2>&1)
check "revoke_publishes_the_crl_at_once" grep -q 'CRL .* published' <<<"$out"
check "revoke_rewrites_the_crl_file_at_once" crl_has "$CA/crl/ca.crl" "$REVOKED"
ocsp revoked "$WORK/o-rev.txt"
check "ocsp_sees_the_revocation_on_the_next_query" \
    grep -q "cert.pem: revoked" "$WORK/o-rev.txt"
check "ocsp_revoked_carries_the_reason" \
    grep -q 'Reason: keyCompromise' "$WORK/o-rev.txt"
check "ocsp_revoked_carries_the_time" grep -q 'Revocation Time:' "$WORK/o-rev.txt"
check "ocsp_revoked_response_verifies" grep -q 'Response verify OK' "$WORK/o-rev.txt"
if wait_crl on_crl "$REVOKED"; then
	ok "served_crl_lists_the_revocation_within_the_interval"
else
	not_ok "served_crl_lists_the_revocation_within_the_interval" \
	    "$(tail -5 "$CA/serve.log")"
fi
cp "$WORK/poll.crl" "$WORK/crl2.der"
N2=$(crl_number "$WORK/crl2.der")
if [ -n "$N1" ] && [ -n "$N2" ] && [ "$N2" -gt "$N1" ]; then
	ok "crl_number_grows"
else
	not_ok "crl_number_grows" "first=$N1 then=$N2"
fi
check "revoked_entry_carries_key_compromise" \
    grep -q 'Key Compromise' <<<"$(openssl crl -inform DER -in "$WORK/crl2.der" -noout -text)"
fetch_crl "$WORK/crl2.der"
out=$(openssl verify -crl_check -CAfile "$CA/ca.crt" -CRLfile "$WORK/crl2.der.pem" \
    "$WORK/revoked/cert.pem" 2>&1)
case "$?:$out" in
0:*) not_ok "verify_crl_check_fails_for_a_revoked_certificate" "$out" ;;
*"certificate revoked"*) ok "verify_crl_check_fails_for_a_revoked_certificate" ;;
*) not_ok "verify_crl_check_fails_for_a_revoked_certificate" "$out" ;;
esac
check "verify_crl_check_still_passes_for_the_good_one" \
    openssl verify -crl_check -CAfile "$CA/ca.crt" -CRLfile "$WORK/crl2.der.pem" \
    "$WORK/good/cert.pem"

# ---- hold and release ---------------------------------------------------------
# RFC 5019 clients ask without a nonce and get pre-produced answers: the
# CLI's change (another process) must still show on the next query.
ocsp held "$WORK/o-held-before.txt" -no_nonce
check "ocsp_no_nonce_answer_before_the_hold_is_good" \
    grep -q "cert.pem: good" "$WORK/o-held-before.txt"
"$SCEP_CA" revoke "$HELD" --dir "$CA" --reason certificateHold >"$WORK/hold.log" 2>&1
ocsp held "$WORK/o-held-plain.txt" -no_nonce
check "ocsp_no_nonce_answer_shows_the_hold_at_once" \
    grep -q 'Reason: certificateHold' "$WORK/o-held-plain.txt"
check "ocsp_no_nonce_hold_answer_verifies" \
    grep -q 'Response verify OK' "$WORK/o-held-plain.txt"
ocsp held "$WORK/o-held.txt"
check "ocsp_hold_is_revoked_with_certificate_hold" \
    grep -q 'Reason: certificateHold' "$WORK/o-held.txt"
if wait_crl on_crl "$HELD"; then ok "held_certificate_is_on_the_crl"; else
	not_ok "held_certificate_is_on_the_crl"; fi
check "held_entry_has_reason_certificate_hold" \
    grep -q 'Certificate Hold' <<<"$(openssl crl -inform DER -in "$WORK/poll.crl" -noout -text)"
N3=$(crl_number "$WORK/poll.crl")
"$SCEP_CA" unrevoke "$HELD" --dir "$CA" >"$WORK/release.log" 2>&1
ocsp held "$WORK/o-released.txt"
check "ocsp_released_certificate_is_good_at_once" \
    grep -q "cert.pem: good" "$WORK/o-released.txt"
ocsp held "$WORK/o-released-plain.txt" -no_nonce
check "ocsp_no_nonce_answer_is_good_again_at_once" \
    grep -q "cert.pem: good" "$WORK/o-released-plain.txt"
if wait_crl off_crl "$HELD"; then ok "released_certificate_leaves_the_crl"; else
	not_ok "released_certificate_leaves_the_crl"; fi
check "revoked_certificate_stays_on_the_crl" crl_has "$WORK/poll.crl" "$REVOKED"
N4=$(crl_number "$WORK/poll.crl")
if [ -n "$N3" ] && [ -n "$N4" ] && [ "$N4" -gt "$N3" ]; then
	ok "crl_number_grows_again"; else not_ok "crl_number_grows_again" "$N3 then $N4"; fi

# ---- OCSP: unknown ------------------------------------------------------------
openssl ocsp -issuer "$CA/ca.crt" -serial 0x1234 -url "$OCSP_URL" \
    -CAfile "$CA/ca.crt" -resp_text >"$WORK/o-unknown.txt" 2>&1
check "ocsp_unknown_serial_is_unknown" grep -q ': unknown' "$WORK/o-unknown.txt"
check "ocsp_unknown_response_verifies" grep -q 'Response verify OK' "$WORK/o-unknown.txt"
# Another CA with the same name but another key: its certificates are not ours.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$WORK/other.key" -out "$WORK/other.crt" -subj /CN=scep-ca -days 2 \
    >/dev/null 2>&1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$WORK/o.key" -subj /CN=stranger 2>/dev/null |
    openssl x509 -req -CA "$WORK/other.crt" -CAkey "$WORK/other.key" \
    -set_serial "0x$GOOD" -days 1 -out "$WORK/stranger.pem" >/dev/null 2>&1
openssl ocsp -issuer "$WORK/other.crt" -cert "$WORK/stranger.pem" -url "$OCSP_URL" \
    -CAfile "$CA/ca.crt" -resp_text >"$WORK/o-other.txt" 2>&1
check "ocsp_other_issuer_with_a_known_serial_is_unknown" \
    grep -q 'stranger.pem: unknown' "$WORK/o-other.txt"

# ---- OCSP: GET form and caching headers ----------------------------------------
openssl ocsp -issuer "$CA/ca.crt" -cert "$WORK/good/cert.pem" -no_nonce \
    -reqout "$WORK/req.der" >/dev/null 2>&1
b64=$(base64 -w0 "$WORK/req.der" | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')
headers=$(curl -s -D - -o "$WORK/get.der" "$OCSP_URL/$b64" | tr -d '\r')
openssl ocsp -respin "$WORK/get.der" -reqin "$WORK/req.der" -issuer "$CA/ca.crt" \
    -cert "$WORK/good/cert.pem" -CAfile "$CA/ca.crt" -resp_text >"$WORK/o-get.txt" 2>&1
check "ocsp_get_form_is_answered" grep -q "cert.pem: good" "$WORK/o-get.txt"
check "ocsp_get_answer_verifies" grep -q 'Response verify OK' "$WORK/o-get.txt"
check_eq "ocsp_content_type" "application/ocsp-response" \
    "$(sed -n 's/^Content-Type: //ip' <<<"$headers")"
maxage=$(sed -n 's/^Cache-Control: .*max-age=\([0-9]*\).*/\1/ip' <<<"$headers")
if [ -n "$maxage" ] && [ "$maxage" -gt 0 ] && [ "$maxage" -le 300 ]; then
	ok "ocsp_get_max_age_within_next_update"
else
	not_ok "ocsp_get_max_age_within_next_update" "$headers"
fi
for h in ETag Expires Last-Modified; do
	check "ocsp_get_has_$h" grep -qi "^$h: " <<<"$headers"
done
check_eq "ocsp_get_etag_is_the_sha1_of_the_answer" \
    "\"$(sha1sum "$WORK/get.der" | cut -c1-40)\"" "$(sed -n 's/^ETag: //ip' <<<"$headers")"
b64raw=$(base64 -w0 "$WORK/req.der")	# unencoded, as some clients send it
headers=$(curl -s -D - -o "$WORK/get2.der" "$OCSP_URL/$b64raw" | tr -d '\r')
# The second answer is the kept one (its ETag kept with it).
check "ocsp_get_answer_is_served_again" cmp -s "$WORK/get.der" "$WORK/get2.der"
check_eq "ocsp_kept_answer_etag_is_its_sha1" \
    "\"$(sha1sum "$WORK/get2.der" | cut -c1-40)\"" "$(sed -n 's/^ETag: //ip' <<<"$headers")"
check "ocsp_get_unencoded_base64_is_answered" \
    grep -q 'good' <<<"$(openssl ocsp -respin "$WORK/get2.der" -issuer "$CA/ca.crt" \
    -cert "$WORK/good/cert.pem" -noverify -resp_text 2>&1)"
headers=$(curl -s -D - -o /dev/null --data-binary @"$WORK/req.der" \
    -H 'Content-Type: application/ocsp-request' "$OCSP_URL" | tr -d '\r')
check "ocsp_post_answers_are_not_cached" grep -qi '^Cache-Control: no-store' <<<"$headers"

# ---- OCSP: malformed requests ----------------------------------------------------
# resp_status FILE: the OCSPResponseStatus openssl reads from a response.
resp_status() {
	openssl ocsp -respin "$1" -resp_text -noverify 2>&1 | sed -n \
	    's/.*\(OCSP Response Status\|Responder Error\): \([a-zA-Z]*\).*/\2/p'
}
printf 'this is not DER' >"$WORK/junk"
curl -s -o "$WORK/junk.resp" --data-binary @"$WORK/junk" \
    -H 'Content-Type: application/ocsp-request' "$OCSP_URL"
check_eq "ocsp_junk_gets_malformed_request" malformedrequest "$(resp_status "$WORK/junk.resp")"
head -c 4000 /dev/urandom >"$WORK/junk2"
curl -s -o "$WORK/junk2.resp" --data-binary @"$WORK/junk2" "$OCSP_URL"
check_eq "ocsp_random_bytes_get_malformed_request" malformedrequest \
    "$(resp_status "$WORK/junk2.resp")"
head -c 9000 /dev/zero >"$WORK/big"
curl -s -o "$WORK/big.resp" --data-binary @"$WORK/big" "$OCSP_URL"
check_eq "ocsp_oversized_request_gets_malformed_request" malformedrequest \
    "$(resp_status "$WORK/big.resp")"
# A valid request followed by junk, and one with a 40-byte nonce (RFC 8954).
{ cat "$WORK/req.der"; printf 'x'; } >"$WORK/trailing"
curl -s -o "$WORK/trailing.resp" --data-binary @"$WORK/trailing" "$OCSP_URL"
check_eq "ocsp_trailing_bytes_get_malformed_request" malformedrequest \
    "$(resp_status "$WORK/trailing.resp")"
curl -s -o "$WORK/get-junk.resp" "$OCSP_URL/bm90IGFuIE9DU1AgcmVxdWVzdA=="
check_eq "ocsp_get_junk_gets_malformed_request" malformedrequest \
    "$(resp_status "$WORK/get-junk.resp")"
check "daemon_survives_malformed_requests" curl -sf "$CA_URL/healthz"

# ---- scep-ca crl and SCEP GetCRL ------------------------------------------------
out=$("$SCEP_CA" crl --dir "$CA" --out "$WORK/cli.crl" 2>&1)
check "crl_command_writes_a_crl" \
    openssl crl -inform DER -in "$WORK/cli.crl" -CAfile "$CA/ca.crt" -noout
N5=$(crl_number "$WORK/cli.crl")
if [ -n "$N5" ] && [ -n "$N4" ] && [ "$N5" -gt "$N4" ]; then
	ok "crl_command_takes_the_next_number"; else
	not_ok "crl_command_takes_the_next_number" "$N4 then $N5: $out"; fi
check "crl_command_updates_the_file" cmp -s "$CA/crl/ca.crl" "$WORK/cli.crl"
"$SCEP_CA" crl --dir "$CA" --out - 2>/dev/null >"$WORK/stdout.crl"
check "crl_command_writes_to_stdout" \
    openssl crl -inform DER -in "$WORK/stdout.crl" -noout

if [ -x "$TOOLS/scepreq" ]; then
	out=$("$TOOLS/scepreq" --url "$CA_URL/scep" --get-crl \
	    --signer-cert "$WORK/good/cert.pem" --signer-key "$WORK/good/key.pem" 2>&1)
	check "scep_getcrl_returns_the_crl" grep -q 'status=SUCCESS.*crls=1' <<<"$out"
else
	skip "scep_getcrl_returns_the_crl" "tests/tools/scepreq is not built"
fi

# ---- a CA directory without a signer, and signer = ca -----------------------------
stop_ca
rm -f "$CA/ocsp.crt" "$CA/ocsp.key"
start_ca "$CA" || exit 1
OCSP_URL=$CA_URL/ocsp
check "daemon_creates_a_missing_ocsp_signer" test -s "$CA/ocsp.crt"
check_eq "created_signer_key_is_private" 600 "$(stat -c %a "$CA/ocsp.key" 2>&1)"
ocsp good "$WORK/o-new.txt"
check "new_signer_answers_and_verifies" grep -q 'Response verify OK' "$WORK/o-new.txt"
stop_ca
printf 'signer = ca\n' >>"$CA/scep-ca.conf"
start_ca "$CA" || exit 1
OCSP_URL=$CA_URL/ocsp
ocsp revoked "$WORK/o-ca.txt"
check "ca_signed_ocsp_verifies" grep -q 'Response verify OK' "$WORK/o-ca.txt"
check "ca_signed_ocsp_is_revoked" grep -q 'cert.pem: revoked' "$WORK/o-ca.txt"
check_fails "ca_signed_ocsp_carries_no_signer_certificate" \
    grep -q 'OCSP Responder' "$WORK/o-ca.txt"
stop_ca
check "daemon_stops_cleanly" grep -q 'draining and stopping' "$CA/serve.log"
