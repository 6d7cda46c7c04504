# Sourced by the benchmark scripts (bench/*.sh): process control by PID,
# free loopback ports, CPU accounting, key=value fields.

# serve_user DIR: as root, scep-ca serves DIR as the user scep-ca.
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/serve_user.sh"

# Stops one process by PID: TERM, then KILL after 5 s.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# free_port [NETNS]: a TCP port nothing listens on (in NETNS when given),
# below the kernel's ephemeral range so no outgoing connection holds it.
free_port() {
	local p lo ns=${1:-}
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	[ "$lo" -gt 12000 ] 2>/dev/null || lo=32768
	while :; do
		p=$(( (RANDOM << 15 | RANDOM) % (lo - 11000) + 10000 ))
		if [ -n "$ns" ]; then
			ip netns exec "$ns" ss -Hltn "sport = :$p" | grep -q . && continue
		else
			ss -Hltn "sport = :$p" 2>/dev/null | grep -q . && continue
		fi
		echo "$p"
		return
	done
}

# wait_tcp PORT PID [NETNS]: waits up to 15 s until 127.0.0.1:PORT
# accepts; gives up at once when PID has exited.
wait_tcp() {
	local port=$1 pid=$2 ns=${3:-} i
	local probe="exec 3<>/dev/tcp/127.0.0.1/$port"
	for i in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || return 1
		if [ -n "$ns" ]; then
			ip netns exec "$ns" bash -c "$probe" 2>/dev/null && return 0
		else
			bash -c "$probe" 2>/dev/null && return 0
		fi
		sleep 0.05
	done
	return 1
}

# CPU time (user + system) of a process, in clock ticks.
cpu_ticks() {
	# Fields after the ")" of comm: state is 3rd, utime 14th, stime 15th.
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'
}

# field NAME LINE: the value of NAME=value in a key=value line.
field() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
