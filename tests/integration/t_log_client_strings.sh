#!/usr/bin/env bash
# Strings a client chooses (the transactionID, the CSR's subject, a wrong
# challenge's request) reach scep-ca's log, and none of them can end a log
# line: a newline and a forged line in them come out escaped (shared/base/log.c),
# so the log holds no line the client wrote.
. "$TOP/tests/integration/lib.sh"

CA=$WORK/ca
CH=log-test-challenge
"$SCEP_CA" init --dir "$CA" --challenge "$CH" --key ec:p256 >"$WORK/init.log" 2>&1 ||
    { cat "$WORK/init.log"; exit 1; }
start_ca "$CA" --log-level debug || exit 1
REQ=$TOOLS/scepreq
FORGED='2030-01-01T00:00:00.000Z info scep: profile=default PKCSReq txid=forged issued serial 01'

# A PKCSReq whose transactionID carries a newline, a carriage return, an
# escape sequence and a forged line; once with the right challenge, once
# with a wrong one (the refusal is logged at warn).
"$REQ" --url "$CA_URL/scep" --challenge "$CH" --subject "/CN=log-ok" \
    --keygen rsa:2048 --txid $'t1\n'"$FORGED"$'\r\x1b[2K' >"$WORK/r1.out" 2>&1
"$REQ" --url "$CA_URL/scep" --challenge wrong --subject "/CN=log-refused" \
    --keygen rsa:2048 --txid $'t2\n'"$FORGED" >"$WORK/r2.out" 2>&1
# A subject whose CN holds a newline and a short forged line (the issued
# subject is logged).
"$REQ" --url "$CA_URL/scep" --challenge "$CH" --keygen rsa:2048 \
    --subject "/CN=x"$'\n''2030-01-01T00:00:00.000Z info scep: forged' \
    >"$WORK/r3.out" 2>&1
check "requests_with_hostile_txid_are_answered" grep -q 'status=' "$WORK/r1.out"
stop_ca

check_eq "no_log_line_starts_with_the_forged_text" 0 \
    "$(grep -c '^2030-01-01' "$CA/serve.log")"
check_eq "no_log_line_holds_a_raw_carriage_return_or_escape" 0 \
    "$(grep -c $'[\r\x1b]' "$CA/serve.log")"
check_eq "every_log_line_starts_with_a_timestamp" "" \
    "$(grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (error|warn|info|debug) ' \
    "$CA/serve.log")"
check "the_txid_is_logged_escaped_on_its_line" grep -qF 'txid=t1\n2030-01-01T' \
    "$CA/serve.log"
