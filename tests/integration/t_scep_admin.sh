#!/usr/bin/env bash
# scep-ca's admin side and its life as a daemon: one-time challenges,
# manual approval with CertPoll, GetCert, the admin commands, refusing
# key files others can read, SIGTERM, concurrency (every serial distinct,
# every certificate stored) and a kill -9 in the middle of enrollments.
. "$TOP/tests/integration/lib.sh"

REQ=$TOOLS/scepreq
CA=$WORK/ca
"$SCEP_CA" init --dir "$CA" --key rsa:2048 --subject "CN=Admin Test CA,O=Example" \
    >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; exit 1; }
cat >>"$CA/scep-ca.conf" <<EOF

[profile manual]
path = /manual/scep
challenge = none
approval = manual
EOF
start_ca "$CA" || exit 1
openssl genrsa -out "$WORK/dev.key" 2048 >/dev/null 2>&1
last() { tail -n 1; }

# ---- one-time challenges ---------------------------------------------------
otc=$("$SCEP_CA" challenge --dir "$CA" --ttl 10m)
check "challenge_prints_a_long_random_secret" test "${#otc}" -ge 32
check_eq "challenge_is_stored_hashed_not_in_clear" 0 \
    "$(sql "$CA/store.db" "SELECT count(*) FROM challenges WHERE hash = '$otc'")"
out=$("$REQ" --url "$CA_URL/scep" --challenge "$otc" --subject /CN=otc-1 --keygen rsa:2048 2>&1 | last)
check_eq "one_time_challenge_enrolls" "status=SUCCESS" "${out%% *}"
out=$("$REQ" --url "$CA_URL/scep" --challenge "$otc" --subject /CN=otc-2 --keygen rsa:2048 2>&1 | last)
check_eq "one_time_challenge_is_refused_the_second_time" "status=FAILURE failInfo=badRequest" \
    "$(cut -d' ' -f1-2 <<<"$out")"
short=$("$SCEP_CA" challenge --dir "$CA" --ttl 1s)
sleep 2
out=$("$REQ" --url "$CA_URL/scep" --challenge "$short" --subject /CN=otc-3 --keygen rsa:2048 2>&1 | last)
check_eq "expired_challenge_is_refused" "status=FAILURE failInfo=badRequest" "$(cut -d' ' -f1-2 <<<"$out")"
check_fails "challenge_with_bad_ttl_fails" "$SCEP_CA" challenge --dir "$CA" --ttl forever

# ---- manual approval and CertPoll -----------------------------------------
M=$CA_URL/manual/scep
out=$("$REQ" --url "$M" --subject /CN=pending-1 --key "$WORK/dev.key" 2>&1 | last)
check_eq "manual_profile_answers_pending" "status=PENDING" "${out%% *}"
txid=$(sql "$CA/store.db" "SELECT id FROM transactions WHERE state='pending' AND subject='CN=pending-1'")
check "pending_transaction_recorded" test -n "$txid"
out=$("$REQ" --url "$M" --poll --subject /CN=pending-1 --key "$WORK/dev.key" 2>&1 | last)
check_eq "poll_before_approval_stays_pending" "status=PENDING" "${out%% *}"
check "approve_succeeds" "$SCEP_CA" approve "$txid" --dir "$CA"
out=$("$REQ" --url "$M" --poll --subject /CN=pending-1 --key "$WORK/dev.key" \
    --out "$WORK/approved.pem" 2>&1 | last)
check_eq "poll_after_approval_gets_the_certificate" "status=SUCCESS" "${out%% *}"
check "approved_certificate_verifies" openssl verify -CAfile "$CA/ca.crt" "$WORK/approved.pem"
check_fails "approve_twice_fails" "$SCEP_CA" approve "$txid" --dir "$CA"
openssl genrsa -out "$WORK/dev2.key" 2048 >/dev/null 2>&1
"$REQ" --url "$M" --subject /CN=pending-2 --key "$WORK/dev2.key" >/dev/null 2>&1
txid2=$(sql "$CA/store.db" "SELECT id FROM transactions WHERE subject='CN=pending-2'")
check "deny_succeeds" "$SCEP_CA" deny "$txid2" --dir "$CA"
out=$("$REQ" --url "$M" --poll --subject /CN=pending-2 --key "$WORK/dev2.key" 2>&1 | last)
check_eq "poll_after_denial_fails" "status=FAILURE failInfo=badRequest" "$(cut -d' ' -f1-2 <<<"$out")"
out=$("$REQ" --url "$M" --poll --subject /CN=never --keygen rsa:2048 2>&1 | last)
check_eq "poll_for_unknown_transaction_gets_badcertid" "status=FAILURE failInfo=badCertId" \
    "$(cut -d' ' -f1-2 <<<"$out")"

# ---- GetCert ---------------------------------------------------------------
serial=$(openssl x509 -in "$WORK/approved.pem" -noout -serial | cut -d= -f2)
holder=(--signer-cert "$WORK/approved.pem" --signer-key "$WORK/dev.key")
out=$("$REQ" --url "$CA_URL/scep" --get-cert "$serial" "${holder[@]}" 2>&1 | last)
check "getcert_returns_the_holders_certificate" grep -q "status=SUCCESS serial=$serial" <<<"$out"
out=$("$REQ" --url "$CA_URL/scep" --get-cert "$serial" --keygen rsa:2048 2>&1 | last)
check_eq "getcert_from_a_stranger_is_refused" "status=FAILURE failInfo=badRequest" \
    "$(cut -d' ' -f1-2 <<<"$out")"
out=$("$REQ" --url "$CA_URL/scep" --get-cert 0123456789ABCDEF "${holder[@]}" 2>&1 | last)
check_eq "getcert_unknown_serial_gets_badcertid" "status=FAILURE failInfo=badCertId" \
    "$(cut -d' ' -f1-2 <<<"$out")"

# ---- admin commands --------------------------------------------------------
for c in init serve challenge list show revoke unrevoke approve deny inspect; do
	check "${c}_help_exits_0" "$SCEP_CA" "$c" --help
done
check_fails "unknown_command_fails" "$SCEP_CA" frobnicate
check "list_shows_the_certificate" grep -q "^$serial .*valid" <("$SCEP_CA" list --dir "$CA")
lower=$(tr 'A-F' 'a-f' <<<"$serial" | sed 's/../&:/g; s/:$//')
check "show_accepts_lowercase_and_colons" grep -q "^serial  *$serial" \
    <("$SCEP_CA" show "$lower" --dir "$CA")
err=$("$SCEP_CA" show 0BADBEEF --dir "$CA" 2>&1 >/dev/null); rc=$?
check_eq "show_unknown_serial_fails_with_one_line" "1 1" "$rc $(wc -l <<<"$err")"
check_fails "revoke_with_unknown_reason_fails" "$SCEP_CA" revoke "$serial" --dir "$CA" --reason bogus
check "hold_a_certificate" "$SCEP_CA" revoke "$serial" --dir "$CA" --reason certificateHold
check_eq "held_certificate_listed_as_hold" "hold" \
    "$(sql "$CA/store.db" "SELECT status FROM certificates WHERE serial='$serial'")"
check "release_a_hold" "$SCEP_CA" unrevoke "$serial" --dir "$CA"
check "revoke_for_key_compromise" "$SCEP_CA" revoke "$serial" --dir "$CA" --reason keyCompromise
check_fails "revocation_cannot_be_undone" "$SCEP_CA" unrevoke "$serial" --dir "$CA"
check_eq "revocation_reason_recorded" "revoked|1" \
    "$(sql "$CA/store.db" "SELECT status || '|' || reason FROM certificates WHERE serial='$serial'")"
check "admin_actions_audited" test "$(sql "$CA/store.db" \
    "SELECT count(*) FROM audit WHERE actor='admin' AND object='$serial'")" -ge 3
check_fails "list_without_dir_fails" "$SCEP_CA" list

# ---- 2 clients x 200 enrollments: distinct serials, all stored ------------
stop_ca
STATIC=$WORK/static
"$SCEP_CA" init --dir "$STATIC" --challenge concurrency-secret --key rsa:2048 >/dev/null 2>&1
start_ca "$STATIC" || exit 1
"$BUILD/bench/enroll_bench" --url "$CA_URL/scep" --challenge concurrency-secret \
    --requests 400 --concurrency 2 --keys 8 --check-serials >"$WORK/conc.out" 2>&1
check "concurrent_enrollments_all_succeed" grep -q 'requests=400 ok=400 failed=0' "$WORK/conc.out"
check "concurrent_serials_all_distinct" grep -q 'distinct_serials=400' "$WORK/conc.out"
check_eq "concurrent_certificates_all_stored" 400 \
    "$(sql "$STATIC/store.db" "SELECT count(DISTINCT serial) FROM certificates")"

# ---- SIGTERM exits 0 --------------------------------------------------------
kill -TERM "$CA_PID"; wait "$CA_PID"; rc=$?
check_eq "sigterm_exits_0" 0 "$rc"
check "sigterm_is_logged" grep -q 'draining' "$STATIC/serve.log"

# ---- keys others can read: refused ----------------------------------------
chmod 0644 "$STATIC/ca.key"
serve_user "$STATIC"
err=$("$SCEP_CA" serve --dir "$STATIC" --listen "127.0.0.1:$(free_port)" \
    "${SERVE_USER[@]}" 2>&1); rc=$?
check "readable_key_refused" test "$rc" -ne 0
check "readable_key_refusal_names_the_mode" grep -q '0600' <<<"$err"
chmod 0600 "$STATIC/ca.key"

# ---- kill -9 in the middle: the store opens, and every certificate a
# client received is in it ---------------------------------------------------
start_ca "$STATIC" || exit 1
openssl genrsa -out "$WORK/k9.key" 2048 >/dev/null 2>&1
mkdir -p "$WORK/k9"
worker() {
	local w=$1 i
	for i in $(seq 200); do
		"$REQ" --url "$CA_URL/scep" --challenge concurrency-secret \
		    --subject "/CN=k9-$w-$i" --key "$WORK/k9.key" --txid "k9-$w-$i" \
		    --out "$WORK/k9/$w-$i.pem" >/dev/null 2>&1 || return 0
	done
}
worker a & wa=$!
worker b & wb=$!
T_PIDS+=("$wa" "$wb")
sleep 1.5
kill -KILL "$CA_PID"
wait "$wa" "$wb" 2>/dev/null
received=$(ls "$WORK/k9" | wc -l)
check "clients_received_certificates_before_the_kill" test "$received" -gt 0
check_eq "store_is_consistent_after_kill_9" ok "$(sqlite3 "$STATIC/store.db" 'PRAGMA integrity_check')"
missing=0
for f in "$WORK"/k9/*.pem; do
	s=$(openssl x509 -in "$f" -noout -serial 2>/dev/null | cut -d= -f2)
	[ -n "$s" ] || continue
	[ "$(sql "$STATIC/store.db" "SELECT count(*) FROM certificates WHERE serial='$s'")" = 1 ] ||
	    missing=$((missing + 1))
done
check_eq "every_received_certificate_is_stored_after_kill_9" 0 "$missing"
start_ca "$STATIC" || exit 1
out=$("$REQ" --url "$CA_URL/scep" --challenge concurrency-secret --subject /CN=after-kill \
    --keygen rsa:2048 2>&1 | last)
check_eq "server_restarts_and_issues_after_kill_9" "status=SUCCESS" "${out%% *}"
