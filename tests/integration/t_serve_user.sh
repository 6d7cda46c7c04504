#!/usr/bin/env bash
# scep-ca serve never runs as root: started as root without --user it
# refuses with one line; with --user it binds, reads its keys, then runs
# with the user's uid, gid and groups only, and still enrolls and answers.
. "$TOP/tests/integration/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	skip "serve_as_root_is_refused" "dropping root needs root"
	exit 0
fi
CA=$WORK/ca
CH=serve-user-secret
"$SCEP_CA" init --dir "$CA" --challenge "$CH" --key ec:p256 >"$WORK/init.log" 2>&1 ||
    { cat "$WORK/init.log"; exit 1; }
PORT=$(free_port)

# ---- root without --user: one line on stderr, non-zero exit ---------------
"$SCEP_CA" serve --dir "$CA" --listen "127.0.0.1:$PORT" \
    >"$WORK/root.out" 2>"$WORK/root.err"; rc=$?
check "serve_as_root_without_user_exits_non_zero" test "$rc" -ne 0
check_eq "serve_as_root_refusal_is_one_line" 1 "$(wc -l <"$WORK/root.err")"
check "serve_as_root_refusal_names_user_option" grep -q 'refusing to run as root.*--user' \
    "$WORK/root.err"
check_fails "serve_as_root_listens_on_nothing" \
    bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"
check_fails "serve_with_unknown_user_is_refused" "$SCEP_CA" serve --dir "$CA" \
    --listen "127.0.0.1:$PORT" --user no-such-user-here
check_fails "serve_with_user_root_is_refused" "$SCEP_CA" serve --dir "$CA" \
    --listen "127.0.0.1:$PORT" --user root

# ---- a directory the user cannot write: refused, saying so ---------------
out=$("$SCEP_CA" serve --dir "$CA" --listen "127.0.0.1:$PORT" \
    --user "$SCEP_CA_USER" 2>&1); rc=$?
check "serve_refuses_a_directory_the_user_cannot_write" test "$rc" -ne 0
check "refusal_names_the_directory_and_chown" grep -q "cannot write.*chown -R $SCEP_CA_USER" \
    <<<"$out"

# ---- --user: the process is the user's, and it works ---------------------
start_ca "$CA" || exit 1
uid=$(id -u "$SCEP_CA_USER") gid=$(id -g "$SCEP_CA_USER")
status=/proc/$CA_PID/status
check_eq "serve_runs_with_the_users_uids" "$uid $uid $uid $uid" \
    "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "$status")"
check_eq "serve_runs_with_the_users_gids" "$gid $gid $gid $gid" \
    "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "$status")"
check_eq "serve_keeps_only_the_users_groups" "$(id -G "$SCEP_CA_USER" | tr ' ' '\n' | sort | xargs)" \
    "$(awk '/^Groups:/ { $1 = ""; print }' "$status" | tr ' ' '\n' | sed '/^$/d' | sort | xargs)"
check_eq "serve_has_no_capabilities" 0000000000000000 \
    "$(awk '/^CapEff:/ { print $2 }' "$status")"
check_eq "serve_cannot_gain_privileges" 1 "$(awk '/^NoNewPrivs:/ { print $2 }' "$status")"
check "serve_as_user_logs_whom_it_runs_as" grep -q "running as user $SCEP_CA_USER" \
    "$CA/serve.log"
out=$("$TOOLS/scepreq" --url "$CA_URL/scep" --challenge "$CH" --subject /CN=dropped \
    --keygen rsa:2048 2>&1 | tail -n 1)
check "serve_as_user_enrolls" grep -q '^status=SUCCESS' <<<"$out"
check_eq "serve_as_user_stores_the_certificate" 1 \
    "$(sql "$CA/store.db" "SELECT count(*) FROM certificates")"
check_eq "serve_as_user_answers_healthz" ok "$(curl -s --max-time 5 "$CA_URL/healthz")"
check_eq "files_the_daemon_makes_belong_to_the_user" "$SCEP_CA_USER" \
    "$(stat -c %U "$CA/store.db-wal")"
