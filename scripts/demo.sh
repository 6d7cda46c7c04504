#!/usr/bin/env bash
# make demo: the whole story on loopback, with real programs only.
#   1. create a CA with scep-ca init and serve it on a free loopback port
#   2. enroll a device certificate with certmonger, a real SCEP client
#   3. check it with openssl and find it in the CA's store
#   4. (when the RADIUS module is built) log in with it by EAP-TLS through
#      FreeRADIUS, disable the device in the Microsoft cloud emulator and
#      be refused at the next login; delete it and see scep-ca revoke its
#      certificate by itself (OCSP, CRL): scripts/demo_radius.sh
# Every process started here is stopped by its PID at the end.
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 1
TOP=$(cd "$(dirname "$0")/.." && pwd)
SCEP_CA=$BUILD/scep-ca
DEMO=$(mktemp -d "${TMPDIR:-/tmp}/scep-ca-demo.XXXXXX")
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "${KEEP_DEMO:-}" ] && echo "demo files kept in $DEMO" || rm -rf "$DEMO"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
die() { echo "demo: $*" >&2; exit 1; }

free_port() {
	local p lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	while :; do
		p=$(( (RANDOM << 15 | RANDOM) % (lo - 11000) + 10000 ))
		ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

step "1. Create a CA and serve it on loopback"
CA=$DEMO/ca
CHALLENGE=demo-challenge-$RANDOM$RANDOM
run "$SCEP_CA" init --dir "$CA" --subject "CN=Demo Device CA,O=Example" \
    --challenge "$CHALLENGE" 2>/dev/null || die "init failed"
PORT=$(free_port)
. "$TOP/scripts/serve_user.sh"	# as root, serve as the user scep-ca
serve_user "$CA" || die "cannot hand $CA to the user scep-ca"
"$SCEP_CA" serve --dir "$CA" --listen "127.0.0.1:$PORT" "${SERVE_USER[@]}" \
    >"$DEMO/serve.log" 2>&1 &
PIDS+=($!)
wait_port "$PORT" || { cat "$DEMO/serve.log"; die "scep-ca did not start"; }
URL=http://127.0.0.1:$PORT/scep
echo "scep-ca serves $URL (log: $DEMO/serve.log)"
run curl -s "$URL?operation=GetCACaps" | tr '\n' ' '; echo

step "2. Enroll a device with certmonger (a real SCEP client, AES + SHA-256)"
CM=$DEMO/certmonger
mkdir -p "$CM/req" "$CM/cas" "$CM/local" "$CM/tmp"
cat >"$CM/run.sh" <<EOF
export HOME=$CM CERTMONGER_REQUESTS_DIR=$CM/req CERTMONGER_CAS_DIR=$CM/cas
export CERTMONGER_LOCAL_CA_DIR=$CM/local CERTMONGER_TMPDIR=$CM/tmp
certmonger -s -n >$CM/certmonger.log 2>&1 &
cm=\$!
trap 'kill \$cm 2>/dev/null; wait \$cm 2>/dev/null' EXIT
# Wait until our certmonger owns its bus name.  Asking certmonger itself
# (getcert) before that would make D-Bus start another one, without our
# private state directories.
for i in \$(seq 100); do
	dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \\
	    org.freedesktop.DBus.NameHasOwner string:org.fedorahosted.certmonger \\
	    2>/dev/null | grep -q 'boolean true' && break
	sleep 0.05
done
getcert add-scep-ca -s -c demo -u $URL >/dev/null
getcert request -s -c demo -k $DEMO/device.key -f $DEMO/device.crt \
    -L $CHALLENGE -N "CN=laptop-42,O=Example" -w -v
EOF
printf '$ getcert request -c demo -k device.key -f device.crt -L <challenge> -N CN=laptop-42,O=Example -w\n'
timeout 120 dbus-run-session -- bash "$CM/run.sh" 2>&1 | grep -E '^State|issued' | tail -3
[ -s "$DEMO/device.crt" ] || die "certmonger did not get a certificate"

step "3. Check the certificate and find it in the store"
run openssl verify -CAfile "$CA/ca.crt" "$DEMO/device.crt"
run openssl x509 -in "$DEMO/device.crt" -noout -subject -issuer -serial -enddate
SERIAL=$(openssl x509 -in "$DEMO/device.crt" -noout -serial | cut -d= -f2)
run "$SCEP_CA" list --dir "$CA"
run "$SCEP_CA" show "$SERIAL" --dir "$CA" | sed -n '1,12p'
echo
echo "The server's own account of it:"
grep 'issued' "$DEMO/serve.log" | tail -1

if [ -x "$TOP/scripts/demo_radius.sh" ] && [ -f "$BUILD/rlm_entra_match.so" ]; then
	step "4. Network access: EAP-TLS through FreeRADIUS with rlm_entra_match"
	DEMO=$DEMO SCEP_CA=$SCEP_CA "$TOP/scripts/demo_radius.sh" "$BUILD" || die "the RADIUS part failed"
fi
step "Done"
echo "Everything ran on 127.0.0.1 and has been stopped."
