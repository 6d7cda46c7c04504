# shellcheck shell=bash
# Sourced by integration tests after lib.sh: a private FreeRADIUS under
# $WORK that loads the freshly built rlm_entra_match.so, and eapol_test
# logins against it.
#
#   fr_setup SERVER_CERT SERVER_KEY CLIENT_CA [key=value ...]
#	builds $FR_RADDB from Debian's /etc/freeradius/3.0 plus raddb-examples/
#	(the server certificate and key, CLIENT_CA as the only CA trusted for
#	EAP-TLS clients, entra_match enabled with the key=value overrides);
#	sets FR_AUTH_PORT, FR_ACCT_PORT (free ports on 127.0.0.1) and FR_SECRET
#   fr_module_set key=value ...	 changes entra_match options (restart to apply)
#   fr_check_policy UNLANG	 adds unlang after entra_match in check-eap-tls
#   fr_check_config		 freeradius -XC; output in $FR_CHECK_LOG
#   fr_start [quiet] / fr_stop	 the server in the background, log in $FR_LOG
#   eaptls_login CERT KEY CA [accept|reject]
#	one EAP-TLS login with eapol_test, output in $EAPOL_LOG
#   eapol_reply_message [LOG]	 Reply-Message(s) of the last login's answers
#   fr_check_reply_message	 Reply-Message(s) check-eap-tls last replied
#   fr_keep_reply_message	 stops the outer site removing Reply-Message
#				 from EAP answers (restart to apply)
#   eaptls_bench LOGINS WORKERS CERT KEY CA
#	LOGINS logins over WORKERS parallel eapol_test loops; prints logins/s
#   fr_wait_log PATTERN [SECONDS]  waits for an extended regex in $FR_LOG
#   fr_last_result		 the Entra-Match-Result name of the module's
#				 last decision, read from $FR_LOG
#   eapol_has_attr NAME VALUE	 whether the last login's Access-Accept
#				 carried attribute NAME with VALUE
#
# The module is found through `libdir = "$BUILD:/usr/lib/freeradius"` in the
# private radiusd.conf (FR_LIBRARY_PATH, when set in the environment,
# overrides libdir, so it is cleared here).  The server runs as the calling
# user, listens only on 127.0.0.1, and is stopped by PID at exit (lib.sh).

FR_DEBIAN_RADDB=${FR_DEBIAN_RADDB:-/etc/freeradius/3.0}
FR_EXAMPLES=$TOP/raddb-examples
FR_RADDB=$WORK/raddb
FR_VAR=$WORK/radiusd
FR_LOG=$WORK/radiusd.log
FR_STARTS=0
FR_CHECK_LOG=$WORK/radiusd-check.log
FR_PID=
EAPOL_LOG=
EAPOL_N=0
unset FR_LIBRARY_PATH

# Removes every listen { } block of a site file (the ports
# Debian's sites open on all addresses), keeping everything else.
fr_strip_listen() {
	awk '
	skip == 0 && /^[ \t]*listen[ \t]*\{/ { skip = 1; depth = 0 }
	skip == 1 {
		line = $0; sub(/#.*/, "", line)
		depth += gsub(/\{/, "{", line) - gsub(/\}/, "}", line)
		if (depth <= 0) skip = 0
		next
	}
	{ print }' "$1"
}

# Quotes a value for the FreeRADIUS configuration unless it is a bare word.
fr_quote() {
	case "$1" in
	*[!A-Za-z0-9._-]*|"") printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')" ;;
	*) printf '%s' "$1" ;;
	esac
}

# fr_module_set key=value ...: sets entra_match options in the private
# raddb (an existing setting of the same key is replaced).
fr_module_set() {
	local f=$FR_RADDB/mods-available/entra_match kv key val
	for kv in "$@"; do
		key=${kv%%=*}
		val=${kv#*=}
		sed -i "/^[[:space:]]*${key}[[:space:]]*=/d" "$f"
		sed -i "s|^entra_match {\$|&\n\t$key = $(fr_quote "$val" | sed 's/[|&\\]/\\&/g')|" "$f"
	done
}

# fr_check_policy UNLANG: inserts UNLANG after the entra_match call of
# the private check-eap-tls server (e.g. a test-only refusal rule).
fr_check_policy() {
	local f=$FR_RADDB/sites-available/check-eap-tls
	printf '%s\n' "$1" >"$WORK/policy.tmp"
	sed -i "/^[[:space:]]*entra_match[[:space:]]*\$/r $WORK/policy.tmp" "$f"
}

# fr_keep_reply_message: Debian's default site removes Reply-Message from
# answers that carry an EAP-Message (policy remove_reply_message_if_eap,
# RFC 3579 §2.6.5), so by default the reason check-eap-tls gives never
# reaches the NAS.  This comments those calls out, as an admin whose NASes
# show Reply-Message would.
fr_keep_reply_message() {
	sed -i 's/^\([[:space:]]*\)remove_reply_message_if_eap$/\1#remove_reply_message_if_eap/' \
	    "$FR_RADDB/sites-available/default"
}

# fr_check_reply_message: prints the Reply-Message attributes (one per
# line) that the last run of a virtual server (check-eap-tls) put in its
# reply, which the eap module copies into the outer reply; read from the
# server's debug log.
fr_check_reply_message() {
	awk '
	/ Virtual server sending reply$/ { n = 0; inblk = 1; next }
	inblk && /^\([0-9]+\)   Reply-Message [:+]?= / {
		v = $0; sub(/^[^"]*"/, "", v); sub(/"$/, "", v); msg[++n] = v; next
	}
	inblk && !/^\([0-9]+\)   [A-Za-z]/ { inblk = 0 }
	END { for (i = 1; i <= n; i++) print msg[i] }' "$FR_LOG"
}

# Writes the outer server: Debian's default site without its listeners,
# with auth and acct listeners on 127.0.0.1 only.
fr_write_default_site() {
	{
		fr_strip_listen "$FR_DEBIAN_RADDB/sites-available/default" |
		awk -v auth="$FR_AUTH_PORT" -v acct="$FR_ACCT_PORT" '
		{ print }
		/^server default \{/ {
			print "listen {\n\ttype = auth\n\tipaddr = 127.0.0.1\n\tport = " auth "\n}"
			print "listen {\n\ttype = acct\n\tipaddr = 127.0.0.1\n\tport = " acct "\n}"
		}'
	} >"$FR_RADDB/sites-available/default"
}

# Points the private radiusd.conf at the private tree and the build dir;
# runs as the calling user; answers rejects at once (no reject_delay); no
# proxying, whose socket would listen on every address.
fr_write_radiusd_conf() {
	sed -i \
	    -e "s|^raddbdir = .*|raddbdir = $FR_RADDB|" \
	    -e "s|^logdir = .*|logdir = $FR_VAR/log|" \
	    -e "s|^run_dir = .*|run_dir = $FR_VAR/run|" \
	    -e "s|^db_dir = .*|db_dir = $FR_VAR/db|" \
	    -e "s|^libdir = .*|libdir = \"$BUILD:/usr/lib/freeradius\"|" \
	    -e 's/^\([[:space:]]*\)\(user\|group\)\([[:space:]]*=\)/\1#\2\3/' \
	    -e 's/^\([[:space:]]*\)reject_delay = .*/\1reject_delay = 0/' \
	    -e 's/^proxy_requests[[:space:]]*=.*/proxy_requests = no/' \
	    "$FR_RADDB/radiusd.conf"
	mkdir -p "$FR_VAR/log" "$FR_VAR/run" "$FR_VAR/db"

	# Each edit must have found its line (Debian's file may change).
	local want
	for want in "raddbdir = $FR_RADDB" "logdir = $FR_VAR/log" "run_dir = $FR_VAR/run" \
	    "db_dir = $FR_VAR/db" "libdir = \"$BUILD:/usr/lib/freeradius\"" \
	    "reject_delay = 0" "proxy_requests = no"; do
		grep -qF "$want" "$FR_RADDB/radiusd.conf" || {
			echo "fr_setup: could not set '$want' in radiusd.conf" >&2; return 1; }
	done
	if grep -qE '^[[:space:]]*(user|group)[[:space:]]*=' "$FR_RADDB/radiusd.conf"; then
		echo "fr_setup: could not remove user/group from radiusd.conf" >&2
		return 1
	fi
}

# fr_setup SERVER_CERT SERVER_KEY CLIENT_CA [key=value ...]
fr_setup() {
	local cert=$1 key=$2 client_ca=$3; shift 3
	[ -f "$BUILD/rlm_entra_match.so" ] || {
		echo "fr_setup: $BUILD/rlm_entra_match.so not built" >&2; return 1; }
	rm -rf "$FR_RADDB"
	cp -r "$FR_DEBIAN_RADDB" "$FR_RADDB" || return 1
	FR_AUTH_PORT=$(free_port)
	FR_ACCT_PORT=$(free_port)
	while [ "$FR_ACCT_PORT" = "$FR_AUTH_PORT" ]; do FR_ACCT_PORT=$(free_port); done
	FR_SECRET=$(openssl rand -hex 16)

	# Sites: our outer server and check-eap-tls, nothing else.
	rm -f "$FR_RADDB"/sites-enabled/*
	fr_write_default_site
	cp "$FR_EXAMPLES/sites-available/check-eap-tls" "$FR_RADDB/sites-available/"
	ln -s ../sites-available/default "$FR_RADDB/sites-enabled/default"
	ln -s ../sites-available/check-eap-tls "$FR_RADDB/sites-enabled/check-eap-tls"

	# Modules: the EAP-TLS-only eap, and entra_match.
	cp "$FR_EXAMPLES/mods-available/eap" "$FR_EXAMPLES/mods-available/entra_match" \
	    "$FR_RADDB/mods-available/"
	ln -sf ../mods-available/entra_match "$FR_RADDB/mods-enabled/entra_match"
	cp "$cert" "$FR_RADDB/certs/server.pem"
	cp "$key" "$FR_RADDB/certs/server.key"
	cp "$client_ca" "$FR_RADDB/certs/scep-ca.pem"
	chmod 600 "$FR_RADDB/certs/server.key"

	cp "$FR_EXAMPLES/dictionary" "$FR_RADDB/dictionary.entra_match"
	echo '$INCLUDE dictionary.entra_match' >>"$FR_RADDB/dictionary"

	cat >"$FR_RADDB/clients.conf" <<-EOF
	client localhost {
		ipaddr = 127.0.0.1
		secret = $FR_SECRET
		nas_type = other
	}
	EOF
	fr_write_radiusd_conf || return 1
	fr_module_set "$@"
}

# fr_check_config: `freeradius -XC` on the private raddb.  Returns its
# exit status; the output is in $FR_CHECK_LOG.
fr_check_config() {
	freeradius -XC -d "$FR_RADDB" >"$FR_CHECK_LOG" 2>&1
}

# fr_start [quiet]: runs the server in the background and waits until it
# is ready to process requests.  By default with -X (full debug log, one
# thread: for functional tests); with "quiet", -f with its normal log and
# thread pool (for throughput).  The listeners are UDP, so readiness is
# read from the log: $FR_LOG, radiusd.N.log for the Nth start (earlier
# runs' logs are kept).
fr_start() {
	local args=(-X)
	[ "${1:-}" = quiet ] && args=(-f -l stdout)
	FR_STARTS=$((FR_STARTS + 1))
	FR_LOG=$WORK/radiusd.$FR_STARTS.log
	bg "$FR_LOG" freeradius "${args[@]}" -d "$FR_RADDB"
	FR_PID=$BG_PID
	for _ in $(seq 200); do
		grep -q 'Ready to process requests' "$FR_LOG" 2>/dev/null && return 0
		kill -0 "$FR_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "fr_start: freeradius not ready; last lines of $FR_LOG:" >&2
	tail -n 20 "$FR_LOG" >&2
	return 1
}

# fr_stop: stops the server started by fr_start.
fr_stop() {
	[ -n "$FR_PID" ] && stop_pid "$FR_PID"
	FR_PID=
}

# Writes an eapol_test configuration for one EAP-TLS identity to FILE.
# wpa_supplicant 2.10 offers TLS 1.2 unless phase1 enables 1.3.
eapol_conf() {
	local file=$1 cert=$2 key=$3 ca=$4
	cat >"$file" <<-EOF
	network={
		key_mgmt=IEEE8021X
		eap=TLS
		identity="host/$(basename "$cert" .pem)"
		ca_cert="$ca"
		client_cert="$cert"
		private_key="$key"
		phase1="tls_disable_tlsv1_3=1"
	}
	EOF
}

# eaptls_login CERT KEY CA [accept|reject]: one EAP-TLS login.  CA is the
# CA the client trusts for the server's certificate.  Without an
# expectation returns eapol_test's exit status (0 = authenticated).  With
# one, returns 0 when the login ended that way: accept = EAP-Success;
# reject = an Access-Reject arrived (as opposed to a timeout or a TLS
# failure before any RADIUS answer).  Output kept in $EAPOL_LOG.
eaptls_login() {
	local cert=$1 key=$2 ca=$3 expect=${4:-} conf rc
	EAPOL_N=$((EAPOL_N + 1))
	conf=$WORK/eapol_test.$EAPOL_N.conf
	EAPOL_LOG=$WORK/eapol_test.$EAPOL_N.log
	eapol_conf "$conf" "$cert" "$key" "$ca"
	eapol_test -c "$conf" -a 127.0.0.1 -p "$FR_AUTH_PORT" -s "$FR_SECRET" \
	    -r 0 -t 10 >"$EAPOL_LOG" 2>&1
	rc=$?
	case "$expect" in
	"") return "$rc" ;;
	accept) [ "$rc" -eq 0 ] && grep -q '^SUCCESS$' "$EAPOL_LOG" ;;
	reject) [ "$rc" -ne 0 ] && grep -q 'code=3 (Access-Reject)' "$EAPOL_LOG" ;;
	*) echo "eaptls_login: unknown expectation '$expect'" >&2; return 2 ;;
	esac
}

# eapol_reply_message [LOG]: prints the Reply-Message attributes (one per
# line) of the RADIUS answers in an eapol_test log (default: the last one).
eapol_reply_message() {
	local log=${1:-$EAPOL_LOG}
	# eapol_test dumps each attribute as "Attribute 18 (Reply-Message)
	# length=N" followed by "Value: '...'".
	awk '
	/Attribute 18 \(Reply-Message\)/ { want = 1; next }
	want && /Value: / {
		v = $0; sub(/.*Value: \047?/, "", v); sub(/\047$/, "", v)
		print v; want = 0
	}' "$log"
}

# eaptls_bench LOGINS WORKERS CERT KEY CA: runs LOGINS EAP-TLS logins
# spread over WORKERS concurrent eapol_test loops (one login at a time per
# worker) and prints "N logins in S s with W workers: R logins/s (F failed)".
# Sets BENCH_RATE.  Returns non-zero when any login failed.
eaptls_bench() {
	local total=$1 workers=$2 cert=$3 key=$4 ca=$5 w conf start end failed
	local per=$(( (total + workers - 1) / workers )) pids=()
	conf=$WORK/eapol_bench.conf
	eapol_conf "$conf" "$cert" "$key" "$ca"
	rm -f "$WORK"/bench.*.fail
	start=$(date +%s.%N)
	for w in $(seq "$workers"); do
		(
			n=0
			for _ in $(seq "$per"); do
				eapol_test -c "$conf" -a 127.0.0.1 -p "$FR_AUTH_PORT" \
				    -s "$FR_SECRET" -r 0 -t 10 >/dev/null 2>&1 || n=$((n + 1))
			done
			echo "$n" >"$WORK/bench.$w.fail"
		) &
		pids+=($!)
	done
	wait "${pids[@]}"
	end=$(date +%s.%N)
	failed=$(cat "$WORK"/bench.*.fail | awk '{ s += $1 } END { print s + 0 }')
	total=$((per * workers))
	BENCH_RATE=$(awk -v n="$total" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", n / (e - s) }')
	awk -v n="$total" -v s="$start" -v e="$end" -v w="$workers" -v f="$failed" \
	    -v r="$BENCH_RATE" 'BEGIN { printf "%d logins in %.2f s with %d workers: %s logins/s (%d failed)\n", n, e - s, w, r, f }'
	[ "$failed" -eq 0 ]
}

# fr_wait_log PATTERN [SECONDS]: waits until the server's log has a line
# matching the extended regex PATTERN (default 10 s).
fr_wait_log() {
	local pat=$1 limit=${2:-10} i
	for i in $(seq $((limit * 20))); do
		grep -qE -- "$pat" "$FR_LOG" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# fr_last_result: prints the result (accept, device-disabled, ...) of the
# module's last decision, from its log line "entra_match: ... (RESULT)".
fr_last_result() {
	grep -oE 'entra_match: (ERROR: )?(Accepted|Refused|Not issued by this CA[^(]*) \([a-z-]+\)' "$FR_LOG" |
	    tail -n 1 | sed -E 's/.*\(([a-z-]+)\)$/\1/'
}

# eapol_has_attr NAME VALUE [LOG]: whether an Access-Accept in the
# eapol_test log carried attribute NAME with the text VALUE (eapol_test
# prints some as text, others, e.g. tagged ones, in hex).
eapol_has_attr() {
	local name=$1 value=$2 log=${3:-$EAPOL_LOG} hex
	hex=$(printf '%s' "$value" | od -An -tx1 | tr -d ' \n')
	awk -v name="$name" -v value="'$value'" -v hex="$hex" '
	/code=2 \(Access-Accept\)/ { acc = 1; next }
	/code=[0-9]+ \(/ { acc = 0 }
	acc && index($0, "(" name ")") { want = 1; next }
	acc && want && /Value: / {
		v = $0; sub(/.*Value: /, "", v)
		if (v == value || v == hex) found = 1
		want = 0
	}
	END { exit !found }' "$log"
}
