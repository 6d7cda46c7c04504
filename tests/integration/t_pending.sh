#!/usr/bin/env bash
# Requests waiting for manual approval: on a `challenge = none` profile
# anyone can send them, so they are bounded per profile and per key and
# expire; the copies kept of them hold no static challenge, so the store
# (which the RADIUS module's user can read) never holds the secret.
. "$TOP/tests/integration/lib.sh"

REQ=$TOOLS/scepreq
CA=$WORK/ca
SECRET=held-secret-7f3a9c51e2
"$SCEP_CA" init --dir "$CA" --challenge "$SECRET" --key rsa:2048 \
    --subject "CN=Pending Test CA,O=Example" >"$WORK/init.log" 2>&1 ||
    { cat "$WORK/init.log"; exit 1; }
cat >>"$CA/scep-ca.conf" <<EOF

[profile open]
path = /open/scep
challenge = none
approval = manual
pending_max = 5
pending_max_per_key = 1
pending_ttl = 60

[profile held]
path = /held/scep
challenge = static
challenge_secret_file = challenge.secret
approval = manual
EOF
start_ca "$CA" || exit 1
OPEN=$CA_URL/open/scep
HELD=$CA_URL/held/scep
DB=$CA/store.db
last() { tail -n 1; }
# status of a reply line: "PENDING", "SUCCESS", "FAILURE badRequest"...
status() { sed -E 's/^status=([A-Z]+)( failInfo=([A-Za-z]+))?.*/\1 \3/; s/ $//'; }
txid_of() { sql "$DB" "SELECT id FROM transactions WHERE subject = 'CN=$1'"; }
pending_open() { sql "$DB" "SELECT count(*) FROM transactions WHERE profile = 'open' AND state = 'pending'"; }

# ---- a flood of requests, each with a key of its own -----------------------
answers=()
for i in $(seq 20); do
	answers+=("$("$REQ" --url "$OPEN" --subject "/CN=flood-$i" --keygen rsa:2048 \
	    --key-out "$WORK/flood-$i.key" 2>&1 | last | status)")
done
check_eq "flood_first_five_are_pending" "PENDING PENDING PENDING PENDING PENDING" \
    "${answers[*]:0:5}"
refused=0
for a in "${answers[@]:5}"; do [ "$a" = "FAILURE badRequest" ] && refused=$((refused + 1)); done
check_eq "flood_beyond_pending_max_is_refused_with_badrequest" 15 "$refused"
check_eq "flood_leaves_exactly_pending_max_rows" "5|5" \
    "$(sql "$DB" "SELECT count(*), sum(state = 'pending') FROM transactions WHERE profile = 'open'")"
check "flood_refusal_names_pending_max" grep -q \
    'refused: profile open has 5 pending requests (pending_max)' "$CA/serve.log"
out=$("$REQ" --url "$OPEN" --subject /CN=flood-2 --key "$WORK/flood-2.key" 2>&1 | last | status)
check_eq "pending_request_sent_again_is_still_pending" "PENDING" "$out"

# ---- approval frees a place; the device polls for its certificate --------
t1=$(txid_of flood-1)
check "approve_pending_request" "$SCEP_CA" approve "$t1" --dir "$CA"
out=$("$REQ" --url "$OPEN" --poll --subject /CN=flood-1 --key "$WORK/flood-1.key" \
    --out "$WORK/flood-1.pem" 2>&1 | last | status)
check_eq "poll_after_approval_gets_the_certificate" "SUCCESS" "$out"
check "approved_certificate_verifies" openssl verify -CAfile "$CA/ca.crt" "$WORK/flood-1.pem"
check "approved_certificate_has_the_requested_subject" grep -q 'CN *= *flood-1' \
    <(openssl x509 -in "$WORK/flood-1.pem" -noout -subject)
check_eq "approval_leaves_four_pending" 4 "$(pending_open)"

# ---- one key, one pending request ------------------------------------------
out=$("$REQ" --url "$OPEN" --subject /CN=flood-2-again --key "$WORK/flood-2.key" \
    --txid flood-2-again 2>&1 | last | status)
check_eq "second_request_from_a_pending_key_is_refused" "FAILURE badRequest" "$out"
check "per_key_refusal_is_logged" grep -q \
    'refused: this key already has 1 pending request (pending_max_per_key)' "$CA/serve.log"
check_eq "per_key_refusal_stores_nothing" "" "$(txid_of flood-2-again)"
out=$("$REQ" --url "$OPEN" --subject /CN=fresh-1 --keygen rsa:2048 2>&1 | last | status)
check_eq "freed_place_takes_a_new_request" "PENDING" "$out"
out=$("$REQ" --url "$OPEN" --subject /CN=fresh-2 --keygen rsa:2048 2>&1 | last | status)
check_eq "full_again_refuses" "FAILURE badRequest" "$out"

# ---- expiry: requests older than pending_ttl go ----------------------------
t3=$(txid_of flood-3)
sql_rw() { sqlite3 -batch "$DB" ".timeout 5000" "$1"; }
sql_rw "UPDATE transactions SET created_at = created_at - 61,
    expires_at = expires_at - 61 WHERE profile = 'open' AND state = 'pending'"
err=$("$SCEP_CA" approve "$t3" --dir "$CA" 2>&1); rc=$?
check "approve_of_expired_request_fails" test "$rc" -ne 0
check "approve_of_expired_request_says_expired" grep -q 'expired' <<<"$err"
check_eq "approve_of_expired_request_changes_nothing" pending \
    "$(sql "$DB" "SELECT state FROM transactions WHERE id = '$t3'")"
# Not swept yet (no new request came): a poll still learns it expired.
out=$("$REQ" --url "$OPEN" --poll --subject /CN=flood-3 --key "$WORK/flood-3.key" 2>&1 | last | status)
check_eq "poll_for_expired_unswept_request_gets_badcertid" "FAILURE badCertId" "$out"
answers=()
for i in $(seq 5); do
	answers+=("$("$REQ" --url "$OPEN" --subject "/CN=late-$i" --keygen rsa:2048 2>&1 | last | status)")
done
check_eq "after_expiry_new_requests_are_accepted" "PENDING PENDING PENDING PENDING PENDING" \
    "${answers[*]}"
check_eq "expired_requests_are_gone" 0 \
    "$(sql "$DB" "SELECT count(*) FROM transactions WHERE subject LIKE 'CN=flood-%' AND state = 'pending'")"
check_eq "each_expired_request_is_audited" 5 \
    "$(sql "$DB" "SELECT count(*) FROM audit WHERE action = 'expired'")"
check_eq "issued_request_does_not_expire" issued \
    "$(sql "$DB" "SELECT state FROM transactions WHERE id = '$t1'")"
out=$("$REQ" --url "$OPEN" --poll --subject /CN=flood-3 --key "$WORK/flood-3.key" 2>&1 | last | status)
check_eq "poll_for_expired_request_gets_badcertid" "FAILURE badCertId" "$out"

# ---- a static challenge never reaches the store ----------------------------
out=$("$REQ" --url "$HELD" --challenge "$SECRET" --subject /CN=held-1 --keygen rsa:2048 \
    --key-out "$WORK/held-1.key" 2>&1 | last | status)
check_eq "static_manual_profile_answers_pending" "PENDING" "$out"
sql "$DB" "SELECT writefile('$WORK/held-1.der', csr) FROM transactions
    WHERE subject = 'CN=held-1'" >/dev/null
text=$(openssl req -inform DER -in "$WORK/held-1.der" -noout -text 2>&1)
check "stored_csr_is_readable_by_openssl" grep -q 'Subject: CN *= *held-1' <<<"$text"
check_fails "stored_csr_has_no_challenge_password" grep -qi 'challengePassword' <<<"$text"
check_eq "stored_csr_does_not_hold_the_secret" 0 \
    "$(grep -a -c -F "$SECRET" "$WORK/held-1.der")"
"$REQ" --url "$HELD" --challenge "$SECRET" --subject /CN=held-2 --keygen rsa:2048 >/dev/null 2>&1
check "deny_static_request" "$SCEP_CA" deny "$(txid_of held-2)" --dir "$CA"
check_eq "denied_request_keeps_its_csr" 1 \
    "$(sql "$DB" "SELECT count(*) FROM transactions WHERE subject = 'CN=held-2' AND state = 'denied' AND length(csr) > 0")"
check "approve_static_request" "$SCEP_CA" approve "$(txid_of held-1)" --dir "$CA"
out=$("$REQ" --url "$HELD" --poll --subject /CN=held-1 --key "$WORK/held-1.key" \
    --out "$WORK/held-1.pem" 2>&1 | last | status)
check_eq "stripped_copy_is_issued_after_approval" "SUCCESS" "$out"
check "stripped_copy_certificate_verifies" openssl verify -CAfile "$CA/ca.crt" "$WORK/held-1.pem"
# The write-ahead log keeps old page images too: the secret must never
# have been written, not merely be gone from the tables.
in_store=0
for f in "$DB" "$DB-wal" "$DB-shm"; do
	[ -f "$f" ] || continue
	in_store=$((in_store + $(grep -a -c -F "$SECRET" "$f")))
done
check_eq "static_secret_is_nowhere_in_the_store_files" 0 "$in_store"
