#!/bin/sh
# Installs the Debian packages one make target needs.  Idempotent: it only
# calls apt-get for packages that are missing, and prints nothing when all
# are present.  Usage: scripts/deps.sh build|check|demo|bench|fuzz ...
set -eu

build="build-essential pkg-config libssl-dev libsqlite3-dev libmicrohttpd-dev
       libcurl4-openssl-dev libjansson-dev libinih-dev libtalloc-dev
       libfreeradius-dev libpcre3-dev freeradius xz-utils"
runtime="openssl sqlite3 curl iproute2 scep freeradius freeradius-utils eapoltest"
check="libcmocka-dev certmonger dbus dbus-bin procps"
fuzz="clang libclang-rt-14-dev"

want=""
user=""
for group in "$@"; do
	case "$group" in
	build) want="$want $build" ;;
	demo)  want="$want $build $runtime"; user=1 ;;
	check) want="$want $build $runtime $check $fuzz"; user=1 ;;
	bench) want="$want $build $runtime $check"; user=1 ;;
	fuzz)  want="$want $build $fuzz" ;;
	*) echo "deps: unknown group '$group'" >&2; exit 2 ;;
	esac
done

# Run as root, `scep-ca serve` needs --user: tests, demo and benchmarks
# serve as the system user scep-ca (the one the systemd unit names).
if [ -n "$user" ] && [ "$(id -u)" -eq 0 ] && ! getent passwd scep-ca >/dev/null; then
	echo "deps: creating the system user scep-ca"
	useradd --system --user-group --home-dir /nonexistent --no-create-home \
	    --shell /usr/sbin/nologin scep-ca 2>/dev/null ||
	    getent passwd scep-ca >/dev/null || {
		echo "deps: cannot create the user scep-ca" >&2; exit 1; }
fi

missing=""
for pkg in $want; do
	case " $missing " in *" $pkg "*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $pkg"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps: need root to install:$missing" >&2
		exit 1
	fi
else
	SUDO=""
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A clean machine may have no package lists yet; refresh them once.
if ! $SUDO apt-get install -y -q --no-install-recommends $missing >/tmp/deps-apt.$$ 2>&1; then
	$SUDO apt-get update -q >/dev/null
	$SUDO apt-get install -y -q --no-install-recommends $missing >/tmp/deps-apt.$$ 2>&1 || {
		tail -20 /tmp/deps-apt.$$ >&2
		rm -f /tmp/deps-apt.$$
		echo "deps: apt-get install failed" >&2
		exit 1
	}
fi
rm -f /tmp/deps-apt.$$
