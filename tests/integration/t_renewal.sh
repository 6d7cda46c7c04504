#!/usr/bin/env bash
# Renewal as an attacker would try it: a request signed by a certificate of
# ours is a renewal of exactly that certificate (its subject, SAN and store
# identity, its profile, once, while it is valid and close to expiry), and
# a revocation for keyCompromise reaches every certificate renewed from the
# revoked one.  CertPoll and GetCert answer only the requester.
. "$TOP/tests/integration/lib.sh"

REQ=$TOOLS/scepreq
CA=$WORK/ca
SECRET=renewal-secret-$RANDOM$RANDOM
"$SCEP_CA" init --dir "$CA" --challenge "$SECRET" --key rsa:2048 \
    --subject "CN=Renewal Test CA" >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; exit 1; }
sed -i 's/^renewal_window_days = .*/renewal_window_days = 30/' "$CA/scep-ca.conf"
# default (/scep): certificates of 20 days, renewable at once (window 30).
# long: 365 days, so outside the window.  other: a second static profile.
# manual: approval by an admin.
secret_file=$(sed -n 's/^challenge_secret_file = //p' "$CA/scep-ca.conf")
cat >>"$CA/scep-ca.conf" <<EOF
validity_days = 20

[profile long]
path = /long/scep
challenge = static
challenge_secret_file = $secret_file

[profile other]
path = /other/scep
challenge = static
challenge_secret_file = $secret_file
validity_days = 20

[profile manual]
path = /manual/scep
challenge = static
challenge_secret_file = $secret_file
approval = manual
validity_days = 20
EOF
start_ca "$CA" || exit 1
last() { tail -n 1; }
status() { cut -d' ' -f1-2 <<<"$1"; }
certs() { sql "$CA/store.db" "SELECT count(*) FROM certificates"; }
row() { sql "$CA/store.db" "SELECT $2 FROM certificates WHERE serial = '$1'"; }
serial_of() { openssl x509 -in "$1" -noout -serial 2>/dev/null | cut -d= -f2; }
keygen() { openssl genrsa -out "$WORK/$1.key" 2048 >/dev/null 2>&1; }

# ---- a device certificate: IntuneDeviceId A, alice -------------------------
A_ID=0a0a0a0a-1111-4222-8333-444444444444
B_ID=0b0b0b0b-1111-4222-8333-444444444444
keygen a
out=$("$REQ" --url "$CA_URL/scep" --challenge "$SECRET" --subject /CN=dev-a/O=Example \
    --key "$WORK/a.key" --san-uri "IntuneDeviceId://$A_ID" --san-upn alice@example.com \
    --out "$WORK/a.pem" 2>&1 | last)
check_eq "device_enrolls" "status=SUCCESS" "${out%% *}"
A=$(serial_of "$WORK/a.pem")
check_eq "device_row_names_device_a_and_alice" "$A_ID|alice@example.com" "$(row "$A" "intune_device_id || '|' || upn")"
signed_by_a=(--signer-cert "$WORK/a.pem" --signer-key "$WORK/a.key")

# renew TAG URL [scepreq args]: a renewal signed by A with a fresh key.
renew() {
	local tag=$1 url=$2; shift 2
	keygen "$tag"
	"$REQ" --url "$url" --key "$WORK/$tag.key" --out "$WORK/$tag.pem" "$@" 2>&1 | last
}

# ---- the identity cannot change ---------------------------------------------
before=$(certs)
out=$(renew r1 "$CA_URL/scep" --subject /CN=dev-a/O=Example "${signed_by_a[@]}" \
    --san-uri "IntuneDeviceId://$B_ID" --san-upn ceo@example.com)
check_eq "renewal_cannot_take_another_device_and_user" "status=FAILURE failInfo=badRequest" "$(status "$out")"
out=$(renew r2 "$CA_URL/scep" --subject /CN=dev-a/O=Example "${signed_by_a[@]}" \
    --san-uri "IntuneDeviceId://$A_ID" --san-dns www.example.com)
check_eq "renewal_cannot_add_a_dns_name" "status=FAILURE failInfo=badRequest" "$(status "$out")"
out=$(renew r3 "$CA_URL/scep" --subject /CN=ceo/O=Example "${signed_by_a[@]}")
check_eq "renewal_cannot_change_the_subject" "status=FAILURE failInfo=badRequest" "$(status "$out")"

# ---- nor the profile ----------------------------------------------------------
out=$(renew r4 "$CA_URL/other/scep" --subject /CN=dev-a/O=Example "${signed_by_a[@]}")
check_eq "renewal_on_another_profile_is_refused" "status=FAILURE failInfo=badRequest" "$(status "$out")"
out=$(renew r5 "$CA_URL/manual/scep" --subject /CN=dev-a/O=Example "${signed_by_a[@]}")
check_eq "renewal_cannot_skip_manual_approval_from_another_profile" \
    "status=FAILURE failInfo=badRequest" "$(status "$out")"
check_eq "refused_renewals_store_nothing" "$before 0" \
    "$(certs) $(sql "$CA/store.db" "SELECT count(*) FROM transactions WHERE state = 'pending'")"
check "refused_renewal_is_logged_with_its_reason" grep -q "issued by profile default, not other" "$CA/serve.log"

# ---- a real renewal keeps everything of its parent --------------------------
out=$(renew b "$CA_URL/scep" --subject /CN=dev-a/O=Example "${signed_by_a[@]}")
check_eq "renewal_is_issued" "status=SUCCESS" "${out%% *}"
B=$(serial_of "$WORK/b.pem")
check_eq "renewal_keeps_the_parents_san" \
    "$(openssl x509 -in "$WORK/a.pem" -noout -ext subjectAltName)" \
    "$(openssl x509 -in "$WORK/b.pem" -noout -ext subjectAltName 2>&1)"
check_eq "renewal_row_keeps_the_parents_identity" "$A_ID|alice@example.com|$A" \
    "$(row "$B" "intune_device_id || '|' || upn || '|' || renewed_from")"
check_eq "renewal_holds_the_new_key" "$(openssl pkey -in "$WORK/b.key" -pubout)" \
    "$(openssl x509 -in "$WORK/b.pem" -noout -pubkey)"

# ---- once ---------------------------------------------------------------------
out=$(renew b2 "$CA_URL/scep" --subject /CN=dev-a/O=Example "${signed_by_a[@]}")
check_eq "a_certificate_is_renewed_only_once" "status=FAILURE failInfo=badRequest" "$(status "$out")"
check_eq "second_renewal_stores_nothing" 0 "$(sql "$CA/store.db" "SELECT count(*) FROM certificates WHERE renewed_from = '$A' AND serial <> '$B'")"

# The child renews in turn (C), then a grandchild (D).
signed_by_b=(--signer-cert "$WORK/b.pem" --signer-key "$WORK/b.key")
out=$(renew c "$CA_URL/scep" --subject /CN=dev-a/O=Example "${signed_by_b[@]}")
check_eq "a_renewed_certificate_renews_in_turn" "status=SUCCESS" "${out%% *}"
C=$(serial_of "$WORK/c.pem")

# ---- outside the window ------------------------------------------------------
keygen l
"$REQ" --url "$CA_URL/long/scep" --challenge "$SECRET" --subject /CN=dev-l \
    --key "$WORK/l.key" --out "$WORK/l.pem" >/dev/null 2>&1
out=$(renew l2 "$CA_URL/long/scep" --subject /CN=dev-l --signer-cert "$WORK/l.pem" --signer-key "$WORK/l.key")
check_eq "renewal_long_before_expiry_is_refused" "status=FAILURE failInfo=badRequest" "$(status "$out")"
check "window_refusal_names_the_option" grep -q "renewal_window_days" "$CA/serve.log"

# ---- keyCompromise reaches every descendant ---------------------------------
check "parent_revoked_for_key_compromise" "$SCEP_CA" revoke "$A" --dir "$CA" --reason keyCompromise
check_eq "children_are_revoked_for_key_compromise_too" "revoked|1 revoked|1" \
    "$(row "$B" "status || '|' || reason") $(row "$C" "status || '|' || reason")"
ocsp=$(openssl ocsp -issuer "$CA/ca.crt" -cert "$WORK/c.pem" -url "$CA_URL/ocsp" -no_nonce 2>&1)
check "ocsp_says_the_grandchild_is_revoked" grep -q "Reason: keyCompromise" <<<"$ocsp"
signed_by_c=(--signer-cert "$WORK/c.pem" --signer-key "$WORK/c.key")
out=$(renew d "$CA_URL/scep" --subject /CN=dev-a/O=Example "${signed_by_c[@]}")
check_eq "revoked_descendant_cannot_renew" "status=FAILURE failInfo=badRequest" "$(status "$out")"
check "cascade_is_audited" test "$(sql "$CA/store.db" \
    "SELECT count(*) FROM audit WHERE detail LIKE '%renewed from $A%'")" -eq 2

# A revocation for `superseded` does not reach the successor.
keygen e
"$REQ" --url "$CA_URL/scep" --challenge "$SECRET" --subject /CN=dev-e \
    --key "$WORK/e.key" --out "$WORK/e.pem" >/dev/null 2>&1
E=$(serial_of "$WORK/e.pem")
renew f "$CA_URL/scep" --subject /CN=dev-e --signer-cert "$WORK/e.pem" --signer-key "$WORK/e.key" >/dev/null
F=$(serial_of "$WORK/f.pem")
"$SCEP_CA" revoke "$E" --dir "$CA" --reason superseded >/dev/null 2>&1
check_eq "superseded_parent_leaves_its_successor_valid" "revoked valid" "$(row "$E" status) $(row "${F:-none}" status)"

# ---- manual approval: a renewal on the profile that approved the parent -----
keygen m
"$REQ" --url "$CA_URL/manual/scep" --challenge "$SECRET" --subject /CN=dev-m --key "$WORK/m.key" >/dev/null 2>&1
mtx=$(sql "$CA/store.db" "SELECT id FROM transactions WHERE state = 'pending' AND subject = 'CN=dev-m'")
# CertPoll by a stranger who knows the transactionID.
keygen stranger
out=$("$REQ" --url "$CA_URL/manual/scep" --poll --subject /CN=dev-m --key "$WORK/stranger.key" \
    --txid "$mtx" 2>&1 | last)
check_eq "certpoll_from_a_stranger_is_refused" "status=FAILURE failInfo=badRequest" "$(status "$out")"
"$SCEP_CA" approve "$mtx" --dir "$CA" >/dev/null 2>&1
out=$("$REQ" --url "$CA_URL/manual/scep" --poll --subject /CN=dev-m --key "$WORK/stranger.key" \
    --txid "$mtx" --out "$WORK/stolen.pem" 2>&1 | last)
check_eq "approved_certificate_is_not_handed_to_a_stranger" "status=FAILURE failInfo=badRequest" "$(status "$out")"
out=$("$REQ" --url "$CA_URL/manual/scep" --poll --subject /CN=dev-m --key "$WORK/m.key" \
    --out "$WORK/m.pem" 2>&1 | last)
check_eq "requester_polls_its_certificate" "status=SUCCESS" "${out%% *}"
out=$(renew m2 "$CA_URL/manual/scep" --subject /CN=dev-m --signer-cert "$WORK/m.pem" --signer-key "$WORK/m.key")
check_eq "renewal_of_an_approved_certificate_needs_no_new_approval" "status=SUCCESS" "${out%% *}"

# ---- GetCert answers only the holder ---------------------------------------
M=$(serial_of "$WORK/m.pem")
out=$("$REQ" --url "$CA_URL/scep" --get-cert "$M" --keygen rsa:2048 2>&1 | last)
check_eq "getcert_from_a_self_signed_stranger_is_refused" "status=FAILURE failInfo=badRequest" "$(status "$out")"
out=$("$REQ" --url "$CA_URL/scep" --get-cert "$M" --signer-cert "$WORK/f.pem" --signer-key "$WORK/f.key" 2>&1 | last)
check_eq "getcert_for_another_subject_is_refused" "status=FAILURE failInfo=badCertId" "$(status "$out")"
out=$("$REQ" --url "$CA_URL/scep" --get-cert "$A" "${signed_by_a[@]}" 2>&1 | last)
check_eq "getcert_by_a_revoked_holder_is_refused" "status=FAILURE failInfo=badRequest" "$(status "$out")"
M2=$(serial_of "$WORK/m2.pem")
out=$("$REQ" --url "$CA_URL/scep" --get-cert "$M" --signer-cert "$WORK/m2.pem" --signer-key "$WORK/m2.key" 2>&1 | last)
check "getcert_by_a_holder_of_the_same_subject_succeeds" grep -q "status=SUCCESS serial=$M" <<<"$out"

