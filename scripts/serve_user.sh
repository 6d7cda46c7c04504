# Sourced by the scripts that start `scep-ca serve` (tests, demo, bench).
# Started as root, serve refuses to run without --user NAME.  serve_user
# DIR hands the CA directory DIR to the system user scep-ca (made by
# scripts/deps.sh, named by scripts/scep-ca.service), lets that user pass
# through the directories above DIR (mktemp -d makes them 0700), and sets
# the array SERVE_USER to the arguments serve then takes: (--user scep-ca)
# as root, () otherwise (serve runs as the caller).
SCEP_CA_USER=${SCEP_CA_USER:-scep-ca}

serve_user() {
	local dir=$1 d
	SERVE_USER=()
	[ "$(id -u)" -eq 0 ] || return 0
	if ! getent passwd "$SCEP_CA_USER" >/dev/null; then
		echo "serve_user: the user $SCEP_CA_USER is missing:" \
		    "run scripts/deps.sh check as root" >&2
		return 1
	fi
	chown -R "$SCEP_CA_USER:" "$dir" || return 1
	d=$(cd "$dir/.." && pwd) || return 1
	while [ "$d" != / ]; do
		runuser -u "$SCEP_CA_USER" -- test -x "$d" || chmod o+x "$d" ||
		    return 1
		d=$(dirname "$d")
	done
	SERVE_USER=(--user "$SCEP_CA_USER")
}
