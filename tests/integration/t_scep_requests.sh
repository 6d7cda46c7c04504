#!/usr/bin/env bash
# What scep-ca does with every kind of request, built by the project's own
# independent SCEP client (tests/tools/scepreq): every cipher, digest and
# GET encoding; the issuance policy (key types, SANs, SID, subject); replays;
# and more than twenty malformed or hostile messages, each answered with its
# documented failInfo or HTTP status and leaving the store unchanged.
. "$TOP/tests/integration/lib.sh"

CA=$WORK/ca
CH=request-test-challenge
"$SCEP_CA" init --dir "$CA" --challenge "$CH" --key ec:p256 >"$WORK/init.log" 2>&1 ||
    { cat "$WORK/init.log"; exit 1; }
cat >>"$CA/scep-ca.conf" <<EOF

[profile narrow]
path = /narrow/scep
challenge = static
challenge_secret_file = challenge.secret
key_types = rsa:3072+
copy_subject = CN
copy_san = dns
eku = clientAuth,serverAuth
EOF
start_ca "$CA" || exit 1
URL=$CA_URL/scep
REQ=$TOOLS/scepreq

# The store's state: every table a request could touch.
store_state() {
	sql "$CA/store.db" "SELECT (SELECT count(*) FROM certificates) || '/' ||
	    (SELECT count(*) FROM transactions) || '/' ||
	    (SELECT count(*) FROM challenges WHERE used_at IS NOT NULL) || '/' ||
	    (SELECT count(*) FROM audit)"
}

# expect NAME WANT ARGS...: runs scepreq and checks the first word of its
# answer line ("status=SUCCESS", "status=FAILURE failInfo=badAlg", "http=400").
expect() {
	local name=$1 want=$2 out; shift 2
	out=$("$REQ" --url "$URL" "$@" 2>"$WORK/$name.err" | tail -n 1)
	case "$out" in
	"$want"*) ok "$name" ;;
	*) not_ok "$name" "want: $want" "got:  $out" "$(tail -n 3 "$WORK/$name.err")" ;;
	esac
}

# ---- ciphers, digests and GET encodings ---------------------------------
for c in aes128 aes192 aes256 3des; do
	for d in sha1 sha256 sha512; do
		out=$("$REQ" --url "$URL" --challenge "$CH" --subject "/CN=alg-$c-$d" \
		    --keygen rsa:2048 --cipher "$c" --digest "$d" 2>&1 | tail -n 1)
		case "$c" in aes128) cn=aes-128-cbc ;; aes192) cn=aes-192-cbc ;;
		aes256) cn=aes-256-cbc ;; 3des) cn=des-ede3-cbc ;; esac
		if [[ "$out" == status=SUCCESS* && "$out" == *"cipher=$cn"* &&
		    "$out" == *"digest=$d"* ]]; then
			ok "reply_uses_requesters_${c}_and_${d}"
		else
			not_ok "reply_uses_requesters_${c}_and_${d}" "$out"
		fi
	done
done
for v in encoded raw urlsafe nopad urlsafe-nopad; do
	expect "get_pkioperation_base64_$v" "status=SUCCESS" --get --b64-variant "$v" \
	    --challenge "$CH" --subject "/CN=get-$v" --keygen rsa:2048
done
expect "challenge_as_utf8string_accepted" "status=SUCCESS" --challenge "$CH" \
    --challenge-utf8 --subject /CN=utf8 --keygen rsa:2048
expect "cgi_bin_pkiclient_exe_path" "status=SUCCESS" --challenge "$CH" \
    --subject /CN=cgi --keygen rsa:2048 --url "$CA_URL/cgi-bin/pkiclient.exe"

# ---- issuance policy ------------------------------------------------------
DEV=3f1e9c1a-7b2d-4c11-9a55-0d2b6e4f8a10
"$REQ" --url "$URL" --challenge "$CH" --subject "/O=Example/CN=laptop-7" \
    --keygen rsa:2048 --san-dns laptop-7.example.com --san-email a@example.com \
    --san-uri "IntuneDeviceId://$DEV" --san-upn alice@example.com \
    --out "$WORK/san.pem" >"$WORK/san.out" 2>&1
check "san_request_issued" grep -q status=SUCCESS "$WORK/san.out"
check "issued_certificate_verifies_against_ca" openssl verify -CAfile "$CA/ca.crt" "$WORK/san.pem"
san=$(openssl x509 -in "$WORK/san.pem" -noout -ext subjectAltName 2>/dev/null | tail -n 1)
for part in "DNS:laptop-7.example.com" "email:a@example.com" "URI:IntuneDeviceId://$DEV" \
    "UPN::alice@example.com"; do
	check "san_copies_${part%%:*}" grep -q "$part" <<<"$san"
done
serial=$(openssl x509 -in "$WORK/san.pem" -noout -serial | cut -d= -f2)
check_eq "store_records_intune_device_id" "$DEV" \
    "$(sql "$CA/store.db" "SELECT intune_device_id FROM certificates WHERE serial='$serial'")"
check_eq "store_records_upn" "alice@example.com" \
    "$(sql "$CA/store.db" "SELECT upn FROM certificates WHERE serial='$serial'")"
check_eq "issued_subject_kept_in_order" "CN=laptop-7,O=Example" \
    "$(openssl x509 -in "$WORK/san.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
check "ec_ca_signs_with_ecdsa" grep -q ecdsa-with-SHA256 \
    <(openssl x509 -in "$WORK/san.pem" -noout -text)

# An EC P-256 key in the CSR, signed by an RSA temporary certificate.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/signer.key" -out "$WORK/signer.pem" \
    -subj /CN=rsa-signer -days 1 >/dev/null 2>&1
expect "ec_p256_key_accepted" "status=SUCCESS" --challenge "$CH" --subject /CN=ec-dev \
    --keygen ec:p256 --signer-cert "$WORK/signer.pem" --signer-key "$WORK/signer.key"

URL=$CA_URL/narrow/scep
"$REQ" --url "$URL" --challenge "$CH" --subject "/O=Dropped/OU=Gone/CN=kept" \
    --keygen rsa:3072 --san-dns ok.example.com --san-uri urn:dropped \
    --out "$WORK/narrow.pem" >"$WORK/narrow.out" 2>&1
check_eq "copy_subject_keeps_only_listed_rdns" "CN=kept" \
    "$(openssl x509 -in "$WORK/narrow.pem" -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//')"
check_eq "copy_san_keeps_only_listed_kinds" "DNS:ok.example.com" \
    "$(openssl x509 -in "$WORK/narrow.pem" -noout -ext subjectAltName 2>/dev/null | tail -n 1 | tr -d ' ')"
check "profile_eku_list_applied" grep -q 'TLS Web Client Authentication, TLS Web Server Authentication' \
    <(openssl x509 -in "$WORK/narrow.pem" -noout -text 2>/dev/null)
expect "profile_refuses_rsa_2048_below_its_minimum" "status=FAILURE failInfo=badRequest" \
    --challenge "$CH" --subject /CN=small --keygen rsa:2048
URL=$CA_URL/scep

# ---- replays --------------------------------------------------------------
openssl genrsa -out "$WORK/replay.key" 2048 >/dev/null 2>&1
"$REQ" --url "$URL" --challenge "$CH" --subject /CN=replay --key "$WORK/replay.key" \
    --txid replay-tx-1 --out "$WORK/r1.pem" >/dev/null 2>&1
"$REQ" --url "$URL" --challenge "$CH" --subject /CN=replay --key "$WORK/replay.key" \
    --txid replay-tx-1 --out "$WORK/r2.pem" >/dev/null 2>&1
check_eq "same_transaction_same_key_gets_same_certificate" \
    "$(openssl x509 -in "$WORK/r1.pem" -noout -serial 2>/dev/null)" \
    "$(openssl x509 -in "$WORK/r2.pem" -noout -serial 2>/dev/null || echo none)"

# ---- refusals: each answered as RFC 8894 says, nothing stored -------------
before=$(store_state)
refuse() {	# refuse NAME WANT ARGS...: also checks the store is unchanged
	local s=$(store_state)
	expect "$@"
	check_eq "$1_changes_nothing_stored" "$s" "$(store_state)"
}
refuse "replayed_transaction_with_another_key" "status=FAILURE failInfo=badRequest" \
    --challenge "$CH" --subject /CN=replay --keygen rsa:2048 --txid replay-tx-1
refuse "wrong_challenge" "status=FAILURE failInfo=badRequest" \
    --challenge wrong-challenge --subject /CN=w --keygen rsa:2048
refuse "missing_challenge" "status=FAILURE failInfo=badRequest" \
    --subject /CN=nochallenge --keygen rsa:2048
refuse "rsa_1024_key" "status=FAILURE failInfo=badRequest" \
    --challenge "$CH" --subject /CN=weak --keygen rsa:1024
refuse "sid_extension" "status=FAILURE failInfo=badRequest" \
    --challenge "$CH" --subject /CN=sid --keygen rsa:2048 --add-sid-ext
refuse "sid_in_san_uri" "status=FAILURE failInfo=badRequest" \
    --challenge "$CH" --subject /CN=sid2 --keygen rsa:2048 \
    --san-uri "tag:microsoft.com,2022-09-14:sid:S-1-5-21-1-2-3-500"
refuse "ec_signer_cannot_receive_a_reply" "status=FAILURE failInfo=badAlg" \
    --challenge "$CH" --subject /CN=ecsigner --keygen ec:p256
for h in bad-signature wrong-signer-key wrong-recipient no-signer-cert bad-csr-signature; do
	refuse "hostile_${h//-/_}" "status=FAILURE failInfo=badMessageCheck" \
	    --challenge "$CH" --subject /CN=hostile --keygen rsa:2048 --hostile "$h"
done
for h in unknown-type no-sender-nonce garbage-envelope plain-csr garbage-csr; do
	refuse "hostile_${h//-/_}" "status=FAILURE failInfo=badRequest" \
	    --challenge "$CH" --subject /CN=hostile --keygen rsa:2048 --hostile "$h"
done
for h in truncate no-txid no-message-type type-wrong-asn1 short-nonce empty garbage; do
	refuse "hostile_${h//-/_}" "http=400" \
	    --challenge "$CH" --subject /CN=hostile --keygen rsa:2048 --hostile "$h"
done

# Raw HTTP abuse.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
head -c 200000 /dev/urandom >"$WORK/huge.bin"
check_eq "huge_body_gets_413" 413 "$(code --data-binary @"$WORK/huge.bin" \
    -H 'Content-Type: application/x-pki-message' "$URL?operation=PKIOperation")"
check_eq "empty_post_gets_400" 400 "$(code -X POST --data-binary '' "$URL?operation=PKIOperation")"
check_eq "bad_base64_get_gets_400" 400 "$(code "$URL?operation=PKIOperation&message=%25%25%25not*base64")"
check_eq "get_without_message_gets_400" 400 "$(code "$URL?operation=PKIOperation")"
check_eq "unknown_operation_gets_400" 400 "$(code "$URL?operation=GetSomething")"
check_eq "missing_operation_gets_400" 400 "$(code "$URL")"
check_eq "unknown_path_gets_404" 404 "$(code "$CA_URL/nothing-here")"
check_eq "put_gets_405" 405 "$(code -X PUT --data x "$URL?operation=GetCACaps")"
check_eq "refusals_changed_nothing_stored" "$before" "$(store_state)"
check "server_healthy_after_abuse" curl -sf "$CA_URL/healthz"
check "refusals_logged_with_failinfo" grep -q 'failInfo badMessageCheck' "$CA/serve.log"
