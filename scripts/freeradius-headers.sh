#!/bin/sh
# Usage: scripts/freeradius-headers.sh OUTDIR
#
# Debian's libfreeradius-dev installs radiusd.h and modules.h but not all
# the headers they include (log.h, tmpl.h, xlat.h, clients.h, connection.h,
# process.h, listen.h, and automask.h which autoconf.h includes).  This
# script puts exactly those into OUTDIR/freeradius/, taken from Debian's own
# `freeradius` source package of the installed version, with the Debian
# patches that touch them applied and <freeradius-devel/x.h> rewritten to
# <freeradius/x.h>.  Compile with -IOUTDIR ahead of /usr/include and
# <freeradius/x.h> finds both sets.
#
# The source package is fetched with `apt-get source --download-only`
# through a private apt configuration under OUTDIR/source/ (deb-src lines
# derived from the machine's own apt sources, private lists and cache, no
# update hooks), so nothing system-wide changes.  apt verifies the files
# against the signed index.  The fetched source stays in OUTDIR/source/.
#
# Idempotent; quiet on success; one line on stderr on failure.
set -eu

prog=freeradius-headers
die() { echo "$prog: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
mkdir -p "$1" || die "cannot create $1"
out=$(cd "$1" && pwd)
src=$out/source
sys=/usr/include/freeradius
log=$src/fetch.log

[ -f "$sys/radiusd.h" ] || die "$sys/radiusd.h not found: install libfreeradius-dev"
pkg=$(dpkg-query -W -f='${source:Package}' libfreeradius-dev 2>/dev/null) &&
ver=$(dpkg-query -W -f='${source:Version}' libfreeradius-dev 2>/dev/null) ||
	die "cannot read the installed libfreeradius-dev version"

# Already done for this version?
[ "$(cat "$out/freeradius/.source-version" 2>/dev/null)" = "$pkg=$ver" ] && exit 0

mkdir -p "$src"
: >"$log"

# ---- private apt configuration ---------------------------------------------
# Returns the deb-src form of the machine's apt sources: one-line entries
# from sources.list(.d/*.list) into $apt/sources.list, deb822 stanzas from
# sources.list.d/*.sources into $apt/sources-parts/ with Types set to deb-src.
apt_sources() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n 's/^[[:space:]]*deb\(-src\)\{0,1\}[[:space:]]/deb-src /p' "$f"
	done | sort -u >"$apt/sources.list"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = "" }
		{
			n = split($0, line, "\n"); keep = 0; off = 0; text = ""
			for (i = 1; i <= n; i++) {
				l = line[i]
				if (l ~ /^Types:/) {
					if (l ~ /[: ]deb( |$)/ || l ~ /deb-src/) keep = 1
					l = "Types: deb-src"
				}
				if (tolower(l) ~ /^enabled:[ \t]*no/) off = 1
				text = text l "\n"
			}
			if (keep && !off) printf "%s\n", text
		}' "$f" >"$apt/sources-parts/$(basename "$f")"
	done
}

# Writes the private apt configuration: the system's apt.conf.d parts (for
# proxies and the like) followed by our own part, which points every
# directory apt writes to into $apt and clears the update hooks.
apt_config() {
	mkdir -p "$apt/conf-parts" "$apt/sources-parts" "$apt/lists/partial" \
	    "$apt/cache/archives/partial"
	rm -f "$apt/conf-parts/"* "$apt/sources-parts/"*
	for f in /etc/apt/apt.conf.d/*; do
		[ -f "$f" ] && cp "$f" "$apt/conf-parts/"
	done
	# The main apt.conf is read after the parts: read it as a part instead.
	[ -f /etc/apt/apt.conf ] && cp /etc/apt/apt.conf "$apt/conf-parts/zzzz-apt.conf"
	cat >"$apt/conf-parts/zzzz-zprivate" <<EOF
Dir::Etc::sourcelist "$apt/sources.list";
Dir::Etc::sourceparts "$apt/sources-parts";
Dir::State::Lists "$apt/lists";
Dir::Cache "$apt/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear DPkg::Pre-Invoke;
#clear DPkg::Post-Invoke;
EOF
	printf 'Dir::Etc::parts "%s";\nDir::Etc::main "/dev/null";\n' "$apt/conf-parts" \
	    >"$apt/apt.conf"
	apt_sources
}

# Prints the name of the file of the .dsc's file list whose name ends in
# SUFFIX (e.g. ".orig.tar" -> freeradius_3.2.1+dfsg.orig.tar.xz).
dsc_file() {
	sed -n "s/^ [0-9a-f]\{32,\} [0-9][0-9]* \([^ ]*$1\.[a-z0-9]*\)\$/\1/p" "$dsc" | head -n 1
}

# Downloads pkg=ver into $src (skipped when already there).
fetch_source() {
	apt=$src/apt
	apt_config
	export APT_CONFIG="$apt/apt.conf"
	cd "$src"
	[ -f "$dsc" ] && [ -f "$(dsc_file .orig.tar)" ] && return 0
	# A fresh private list is empty: update it first.  A failing third-party
	# source does not matter as long as the download then works.
	apt-get -q update >>"$log" 2>&1 || true
	apt-get -q source --download-only "$pkg=$ver" >>"$log" 2>&1 ||
		die "cannot download source package $pkg=$ver from this machine's apt sources (see $log)"
}

dsc=$src/${pkg}_${ver#*:}.dsc
fetch_source
orig=$(dsc_file .orig.tar)
deb=$(dsc_file .debian.tar)
[ -n "$orig" ] && [ -f "$src/$orig" ] || die "no orig tarball listed in $dsc"
orig=$src/$orig
[ -n "$deb" ] && deb=$src/$deb

# ---- extract the missing headers (and what they include) ------------------
tree=$src/tree
rm -rf "$tree"
mkdir -p "$tree"
top=$(tar -tf "$orig" | head -n 1 | cut -d/ -f1)
extract() {
	tar -xf "$orig" -C "$tree" --strip-components=1 "$@" >>"$log" 2>&1 ||
		die "cannot extract $* from $(basename "$orig") (see $log)"
}

# Headers included as <freeradius/x.h> by the installed ones, or as
# <freeradius-devel/x.h> by the extracted ones, that are not installed.
missing() {
	{
		grep -ho '#[[:space:]]*include[[:space:]]*<freeradius/[A-Za-z0-9_]*\.h>' "$sys"/*.h
		[ -d "$tree/src/include" ] &&
			grep -ho '#[[:space:]]*include[[:space:]]*<freeradius-devel/[A-Za-z0-9_]*\.h>' \
			    "$tree"/src/include/*.h
	} | sed 's|.*/\([A-Za-z0-9_]*\.h\)>|\1|' | sort -u | while read -r h; do
		[ -f "$sys/$h" ] || [ -f "$tree/src/include/$h" ] || echo "$h"
	done
}
for _ in 1 2 3 4 5; do
	need=$(missing)
	[ -z "$need" ] && break
	set --
	for h in $need; do set -- "$@" "$top/src/include/$h"; done
	extract "$@"
done
[ -z "$(missing)" ] || die "headers still missing after extraction: $(missing | tr '\n' ' ')"
headers=$(cd "$tree/src/include" && ls ./*.h | sed 's|^\./||')

# ---- apply the Debian patches that touch them ------------------------------
# None did in 3.2.1+dfsg-4+deb12u1; a later Debian revision might.
if [ -n "$deb" ]; then
	tar -xf "$deb" -C "$tree" debian/patches >>"$log" 2>&1 ||
		die "cannot extract debian/patches from $(basename "$deb")"
	series=$tree/debian/patches/series
	[ -f "$series" ] && sed 's/#.*//' "$series" | while read -r p rest; do
		[ -n "$p" ] || continue
		pf=$tree/debian/patches/$p
		files=$(sed -n 's|^+++ [^/]*/\([^[:space:]]*\).*|\1|p' "$pf")
		touches=no
		for h in $headers; do
			echo "$files" | grep -qx "src/include/$h" && touches=yes
		done
		[ "$touches" = yes ] || continue
		# Bring in the other files the patch touches, then apply it whole.
		for f in $files; do
			[ -f "$tree/$f" ] || tar -xf "$orig" -C "$tree" \
			    --strip-components=1 "$top/$f" >>"$log" 2>&1 || true
		done
		patch -p1 -s -d "$tree" <"$pf" >>"$log" 2>&1 ||
			die "Debian patch $p does not apply (see $log)"
	done
fi

# ---- install into OUTDIR/freeradius -----------------------------------------
mkdir -p "$out/freeradius"
for h in $headers; do
	sed 's|<freeradius-devel/|<freeradius/|g' "$tree/src/include/$h" \
	    >"$out/freeradius/$h.tmp" && mv "$out/freeradius/$h.tmp" "$out/freeradius/$h"
done
echo "$pkg=$ver" >"$out/freeradius/.source-version"
