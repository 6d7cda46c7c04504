# Sourced by every tests/integration/t_*.sh.  Gives each script a private
# work directory, free loopback ports, process tracking by PID, and TAP
# output ("ok - name" / "not ok - name").  Every process a test starts is
# stopped by its PID when the script exits.
set -u
: "${BUILD:?run through tests/run.sh}" "${TOP:?run through tests/run.sh}"
VECTORS=${VECTORS:-$TOP/../shared/vectors}
SCEP_CA=$BUILD/scep-ca
FAKE_ENTRA=$BUILD/fake-entra
TOOLS=$BUILD/tools
T_NAME=$(basename "$0" .sh)
mkdir -p "$BUILD/tmp"
WORK=$(mktemp -d "$BUILD/tmp/$T_NAME.XXXXXX")
T_PIDS=()
T_FAILED=0

# Stops one process by PID: TERM, then KILL after 5 s.
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

t_cleanup() {
	local pid
	for pid in "${T_PIDS[@]}"; do
		stop_pid "$pid"
	done
	# Keep the evidence of a failed run; tidy after a good one.
	if [ "$T_FAILED" -eq 0 ] && [ -z "${KEEP_WORK:-}" ]; then
		rm -rf "$WORK"
	else
		echo "# work directory kept: $WORK"
	fi
}
trap t_cleanup EXIT

ok()     { echo "ok - $1"; }
skip()   { echo "ok - $1 # SKIP ${2:-}"; }
not_ok() {
	local name=$1; shift
	T_FAILED=1
	echo "not ok - $name"
	local line
	for line in "$@"; do echo "#   $line"; done
}

# check NAME CMD...: ok when CMD exits 0; on failure show its output.
check() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		not_ok "$name" "command: $*" "$(printf '%s' "$out" | tail -n 15)"
	fi
}

# check_fails NAME CMD...: ok when CMD exits non-zero.
check_fails() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then
		not_ok "$name" "expected failure, command succeeded: $*" \
		    "$(printf '%s' "$out" | tail -n 10)"
	else
		ok "$name"
	fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		not_ok "$1" "expected: $2" "actual:   $3"; fi
}

# Prints a TCP port on 127.0.0.1 that nothing listens on, below the
# kernel's ephemeral range (so no outgoing connection holds it).
free_port() {
	local p lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	[ "$lo" -gt 12000 ] 2>/dev/null || lo=32768
	while :; do
		p=$(( (RANDOM << 15 | RANDOM) % (lo - 11000) + 10000 ))
		if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q . &&
		   ! ss -Hlun "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return
		fi
	done
}

# bg LOGFILE CMD...: starts CMD in the background, records its PID in
# BG_PID and in the list stopped at exit.
bg() {
	local log=$1; shift
	"$@" >"$log" 2>&1 &
	BG_PID=$!
	T_PIDS+=("$BG_PID")
}

# wait_tcp PORT [SECONDS [PID]]: waits until 127.0.0.1:PORT accepts
# connections; gives up early when PID (if given) has exited.
wait_tcp() {
	local port=$1 limit=${2:-10} pid=${3:-} i
	for i in $(seq $((limit * 20))); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			echo "process $pid exited before listening on $port" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "nothing listens on 127.0.0.1:$port after ${limit}s" >&2
	return 1
}

# Store queries for assertions (the sqlite3 CLI, read-only).
sql() {
	sqlite3 -readonly -batch -noheader "$1" "$2"
}

# start_ca DIR [extra serve args]: serves DIR on a free port; sets CA_PORT,
# CA_URL and CA_PID.  Logs go to DIR/serve.log.  As root, the daemon
# serves as the user scep-ca, owner of DIR (scripts/serve_user.sh).
. "$TOP/scripts/serve_user.sh"
start_ca() {
	local dir=$1 try; shift
	serve_user "$dir" || return 1
	# A port picked free can be taken before the daemon binds it: retry.
	for try in 1 2 3; do
		CA_PORT=$(free_port)
		bg "$dir/serve.log" "$SCEP_CA" serve --dir "$dir" \
		    --listen "127.0.0.1:$CA_PORT" "${SERVE_USER[@]}" "$@"
		CA_PID=$BG_PID
		CA_URL="http://127.0.0.1:$CA_PORT"
		# The port is bound (as root) before the daemon is ready; an
		# HTTP answer says it serves (the request waits in the backlog).
		wait_tcp "$CA_PORT" 15 "$CA_PID" &&
		    curl -s -o /dev/null --max-time 30 "$CA_URL/healthz" && return 0
		grep -q 'cannot listen' "$dir/serve.log" || break
	done
	cat "$dir/serve.log" >&2
	return 1
}

# stop_ca: stops the CA started by start_ca.
stop_ca() {
	stop_pid "$CA_PID"
}

# certrep_status FILE: prints "STATUS FAILINFO" of a CertRep (DER), read
# with the openssl CLI: "0 -" for SUCCESS, "2 1" for FAILURE badMessageCheck.
certrep_status() {
	openssl cms -inform DER -in "$1" -cmsout -print 2>/dev/null | awk '
		/object: .*2\.16\.840\.1\.113733\.1\.9\.3\)/ { want = "status" }
		/object: .*2\.16\.840\.1\.113733\.1\.9\.4\)/ { want = "fail" }
		/PRINTABLESTRING:/ && want != "" {
			sub(/.*PRINTABLESTRING:/, "")
			v[want] = $0; want = ""
		}
		END { print (v["status"] == "" ? "none" : v["status"]), \
		    (v["fail"] == "" ? "-" : v["fail"]) }'
}

# scep_post URL FILE OUT: POSTs a pkiMessage; prints the HTTP status.
scep_post() {
	curl -s -o "$3" -w '%{http_code}' --data-binary @"$2" \
	    -H 'Content-Type: application/x-pki-message' \
	    "$1?operation=PKIOperation"
}
