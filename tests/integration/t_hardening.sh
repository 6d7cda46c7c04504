#!/usr/bin/env bash
# What faces the network is built hardened (Makefile, HARDEN=1): scep-ca
# is a position-independent executable, both it and rlm_entra_match.so
# have full RELRO (GNU_RELRO + BIND_NOW), a stack protector and FORTIFY'd
# libc calls.  Read from the binaries themselves with readelf (binutils).
# A sanitizer build leaves FORTIFY out on purpose (see the Makefile): that
# one check is then a counted skip.
. "$(dirname "$0")/lib.sh"

command -v readelf >/dev/null || { not_ok "readelf_present" \
    "readelf is missing: apt-get install binutils"; exit 1; }

# hardened NAME FILE KIND: KIND is "exe" (PIE wanted) or "so".
hardened() {
	local name=$1 file=$2 kind=$3 hdr dyn seg syms chk
	if [ ! -f "$file" ]; then
		not_ok "${name}_built" "missing: $file"
		return
	fi
	hdr=$(readelf -hW "$file")
	dyn=$(readelf -dW "$file")
	seg=$(readelf -lW "$file")
	syms=$(readelf --dyn-syms -W "$file")
	check "${name}_is_position_independent" grep -q 'Type: *DYN' <<<"$hdr"
	if [ "$kind" = exe ]; then
		check "${name}_is_pie" grep -Eq 'FLAGS_1.*Flags:.* PIE' <<<"$dyn"
	fi
	check "${name}_has_relro_segment" grep -q 'GNU_RELRO' <<<"$seg"
	check "${name}_binds_now" grep -Eq \
	    '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*Flags:.* NOW' <<<"$dyn"
	check "${name}_has_stack_protector" grep -q ' __stack_chk_fail' <<<"$syms"
	if grep -q ' __asan_init' <<<"$syms"; then
		skip "${name}_calls_fortified_libc" "sanitizer build: no FORTIFY"
		return
	fi
	chk=$(grep -oE ' __[a-z0-9_]+_chk(@|$)' <<<"$syms" | tr -d ' @' |
	    sort -u | tr '\n' ' ')
	if grep -Eq '__(memcpy|snprintf|vsnprintf|fprintf|sprintf)_chk' \
	    <<<"$chk"; then
		ok "${name}_calls_fortified_libc"
	else
		not_ok "${name}_calls_fortified_libc" \
		    "no __memcpy_chk/__snprintf_chk... import; found: ${chk:-none}"
	fi
}

hardened scep_ca "$BUILD/scep-ca" exe
hardened module "$BUILD/rlm_entra_match.so" so
