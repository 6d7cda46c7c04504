#!/usr/bin/env bash
# Store benchmark: serial lookups in a store of 1 000 000 certificates
# (target: under 20 µs each), as the OCSP responder (status only) and the
# RADIUS module (the whole row) make them, against bare SQLite on the
# same file in the same run (one prepared SELECT by primary key, no layer
# of ours) as the floor.
#
# Usage: bench/store.sh BUILD_DIR        (bench/run.sh calls it as a section)
# Environment: BENCH_STORE_CERTS (default 1000000), BENCH_KEEP=1.
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 2
CERTS=${BENCH_STORE_CERTS:-1000000}
SCEP_CA=${SCEP_CA:-$BUILD/scep-ca}
LOOKUP=$BUILD/bench/store_lookup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-store.XXXXXX")

cleanup() {
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "  work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== store: serial lookups in a store of $CERTS certificates"
for need in "$SCEP_CA" "$LOOKUP"; do
	[ -x "$need" ] || { echo "  $need is not built; section skipped"; exit 0; }
done
command -v sqlite3 >/dev/null || { echo "  sqlite3 missing; section skipped"; exit 0; }
"$SCEP_CA" init --dir "$WORK/ca" --challenge bench-challenge-$$ >"$WORK/init.log" 2>&1 || {
	echo "  scep-ca init failed:"; sed 's/^/    | /' "$WORK/init.log"; exit 1; }

# Rows of a real size: 16-byte serials, a ~700-byte certificate, the
# identities the sync and the module read, 1 in 10 revoked.
t0=$(date +%s%N)
now=$(date +%s)
# Without a journal while filling (written once, not WAL then checkpoint),
# in WAL mode again after, as scep-ca keeps it.
sqlite3 "$WORK/ca/store.db" >/dev/null <<SQL || { echo "  filling the store failed"; exit 1; }
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $CERTS)
INSERT INTO certificates (serial, issuer, subject, san, not_before, not_after,
    issued_at, status, revoked_at, reason, status_source, sha1, sha256, der,
    profile, key_hash, entra_device_id, upn)
SELECT '4' || substr(hex(randomblob(16)), 2), 'CN=scep-ca', 'CN=device-' || i,
    'URI:IntuneDeviceId://' || lower(hex(randomblob(16))), $now - 86400,
    $now + 365 * 86400, $now - 86400,
    CASE WHEN i % 10 = 0 THEN 'revoked' ELSE 'valid' END,
    CASE WHEN i % 10 = 0 THEN $now - 3600 END,
    CASE WHEN i % 10 = 0 THEN 1 END, 'bench',
    lower(hex(randomblob(20))), lower(hex(randomblob(32))), randomblob(700),
    'default', lower(hex(randomblob(32))), lower(hex(randomblob(16))),
    'user' || i || '@example.com'
FROM n;
COMMIT;
PRAGMA journal_mode = WAL;
SQL
sqlite3 "$WORK/ca/store.db" "SELECT serial FROM certificates" >"$WORK/serials.txt"
t1=$(date +%s%N)
echo "  store: $(wc -l <"$WORK/serials.txt") certificates, $(( $(stat -c %s "$WORK/ca/store.db") / 1048576 )) MiB," \
    "made in $(( (t1 - t0) / 1000000 )) ms"

out=$("$LOOKUP" --store "$WORK/ca/store.db" --serials "$WORK/serials.txt" --lookups 200000 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/  /'
[ $rc -eq 0 ] || echo "  (some lookups did not find their serial)"
us() { printf '%s\n' "$out" | sed -n "s/^way=$1 .*us_per_lookup=\([0-9.]*\).*/\1/p"; }
floor=$(us bare_sqlite)
for way in store_cert_status store_cert_get; do
	v=$(us "$way")
	awk -v v="${v:-999}" -v f="${floor:-0}" -v w="$way" 'BEGIN {
		printf "  %s: %.2f us per lookup, %.2fx bare SQLite (target < 20 us: %s)\n",
		    w, v, (f > 0) ? v / f : 0, (v < 20) ? "met" : "NOT met" }'
done
exit 0
