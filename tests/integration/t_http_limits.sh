#!/usr/bin/env bash
# scep-ca's HTTP server holds against connection and request exhaustion:
# the descriptor limit is raised to the hard limit at start; a query of
# 500 arguments and oversized headers are answered 4xx at once (not held
# until the 30 s timeout); one address gets at most max_connections_per_ip
# connections while another address is still served.
. "$TOP/tests/integration/lib.sh"

CA=$WORK/ca
"$SCEP_CA" init --dir "$CA" --challenge http-limits-secret --key ec:p256 \
    >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; exit 1; }
sed -i 's/^max_body = .*/&\nmax_connections_per_ip = 4/' "$CA/scep-ca.conf"

# Started with a low soft descriptor limit, the daemon raises it.
hard=$(ulimit -Hn)
low=$(( hard < 512 ? hard : 512 ))
ulimit -Sn "$low"
start_ca "$CA" || exit 1
ulimit -Sn "$hard"
check_eq "descriptor_soft_limit_is_raised_to_the_hard_limit" "$hard" \
    "$(awk '/^Max open files/ { print $4 }' "/proc/$CA_PID/limits")"
check "connection_limit_is_logged" grep -q 'at most [0-9]* connections (4 per address)' \
    "$CA/serve.log"

# ---- query arguments and headers ------------------------------------------
# code ARGS...: the HTTP status curl got, 000 when nothing came within 5 s.
code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"
}
q=$(printf 'a%d=1&' $(seq 500))
check_eq "query_with_500_arguments_is_refused_at_once" 414 \
    "$(code "$CA_URL/scep?operation=GetCACaps&${q%&}")"
q=$(printf 'a%d=1&' $(seq 31))
check_eq "query_with_32_arguments_is_served" 200 \
    "$(code "$CA_URL/scep?operation=GetCACaps&${q%&}")"
big=$(head -c 40000 /dev/zero | tr '\0' a)
check_eq "oversized_header_is_refused_at_once" 431 \
    "$(code -H "X-Big: $big" "$CA_URL/healthz")"
hs=()
for i in $(seq 800); do hs+=(-H "X-H$i: v"); done
check_eq "800_headers_are_refused_at_once" 431 "$(code "${hs[@]}" "$CA_URL/healthz")"
check_eq "server_answers_after_the_refusals" 200 "$(code "$CA_URL/healthz")"

# ---- per-address connection limit -----------------------------------------
# Four connections from 127.0.0.1, each proven counted by a keep-alive
# request; a fifth is closed unanswered; 127.0.0.2 (loopback too) is
# served; once one of the four closes, 127.0.0.1 is served again.
python3 - "$CA_PORT" >"$WORK/perip.out" 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1])
REQ = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"

def conn(src):
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s

def answer(s):
    try:
        s.sendall(REQ)
        data = s.recv(4096)
    except (ConnectionError, socket.timeout) as e:
        return "closed (%s)" % type(e).__name__
    return data.split(b"\r\n")[0].decode() if data else "closed"

held = [conn("127.0.0.1") for _ in range(4)]
print("held:", ", ".join(answer(s) for s in held))
print("fifth:", answer(conn("127.0.0.1")))
print("other address:", answer(conn("127.0.0.2")))
held.pop().close()
got = ""
for _ in range(50):
    got = answer(conn("127.0.0.1"))
    if got.startswith("HTTP/1.1 200"):
        break
    time.sleep(0.1)
print("after release:", got)
PY
out=$(cat "$WORK/perip.out")
check_eq "four_connections_from_one_address_are_served" \
    "held: HTTP/1.1 200 OK, HTTP/1.1 200 OK, HTTP/1.1 200 OK, HTTP/1.1 200 OK" \
    "$(grep '^held:' <<<"$out")"
check "fifth_connection_from_that_address_is_closed_unanswered" \
    grep -q '^fifth: closed' <<<"$out"
check_eq "another_address_is_still_served" "other address: HTTP/1.1 200 OK" \
    "$(grep '^other address:' <<<"$out")"
check_eq "a_released_slot_serves_that_address_again" "after release: HTTP/1.1 200 OK" \
    "$(grep '^after release:' <<<"$out")"
check "refusals_are_logged" grep -q 'connection(s) refused' "$CA/serve.log"
