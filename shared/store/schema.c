/*
 * schema.c - the store's schema as an ordered list of migrations.
 *
 * Migration N brings a file from user_version N-1 to N.  Append new
 * migrations at the end; never edit one that has shipped.
 */
#include <stddef.h>

#include "store/internal.h"

static const char *const migrations[] = {
	/* 1: certificates, SCEP transactions, one-time challenges, audit. */
	"CREATE TABLE certificates ("
	"  serial TEXT PRIMARY KEY NOT NULL,"
	"  issuer TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  san TEXT NOT NULL DEFAULT '',"
	"  entra_device_id TEXT,"
	"  intune_device_id TEXT,"
	"  upn TEXT,"
	"  not_before INTEGER NOT NULL,"
	"  not_after INTEGER NOT NULL,"
	"  issued_at INTEGER NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'valid'"
	"    CHECK (status IN ('valid', 'revoked', 'hold')),"
	"  revoked_at INTEGER,"
	"  reason INTEGER,"
	"  status_source TEXT,"
	"  sha1 TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  der BLOB NOT NULL,"
	"  profile TEXT NOT NULL,"
	"  transaction_id TEXT,"
	"  key_hash TEXT NOT NULL,"
	"  renewed_from TEXT"
	");"
	"CREATE INDEX certificates_entra ON certificates(entra_device_id)"
	"  WHERE entra_device_id IS NOT NULL;"
	"CREATE INDEX certificates_intune ON certificates(intune_device_id)"
	"  WHERE intune_device_id IS NOT NULL;"
	"CREATE INDEX certificates_upn ON certificates(upn) WHERE upn IS NOT NULL;"
	"CREATE INDEX certificates_not_valid ON certificates(status)"
	"  WHERE status <> 'valid';"
	"CREATE TABLE transactions ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  profile TEXT NOT NULL,"
	"  state TEXT NOT NULL"
	"    CHECK (state IN ('pending', 'approved', 'issued', 'denied')),"
	"  csr BLOB,"
	"  key_hash TEXT NOT NULL,"
	"  signer_hash TEXT,"
	"  subject TEXT NOT NULL,"
	"  serial TEXT REFERENCES certificates(serial),"
	"  renewal_of TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE TABLE challenges ("
	"  hash TEXT PRIMARY KEY NOT NULL,"
	"  profile TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER"
	");"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT,"
	"  detail TEXT"
	");"
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY NOT NULL,"
	"  value TEXT"
	");",
	/*
	 * 2: the outbox of notifications (Intune success and failure
	 * notifications) that a background sender delivers and retries.  A
	 * row is written in the same transaction as what it reports, so a
	 * crash cannot lose it; `kind` tells the sender how to read
	 * `payload` (JSON).
	 */
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  kind TEXT NOT NULL,"
	"  ref TEXT,"
	"  payload TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (state IN ('pending', 'sent', 'abandoned')),"
	"  created_at INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_at INTEGER NOT NULL,"
	"  last_error TEXT,"
	"  done_at INTEGER"
	");"
	"CREATE INDEX outbox_pending ON outbox(next_attempt_at)"
	"  WHERE state = 'pending';",
	/*
	 * 3: what the sync jobs keep (sync.h).  entra_objects maps
	 * Entra object ids to the deviceIds and UPNs certificate rows name
	 * (a delta "@removed" entry carries only the object id) and records
	 * the last state seen of each; kind 'managed' maps an Intune managed
	 * device id to its Entra deviceId (id, '' when it has none).  ext_id
	 * is lower-case.  sync_state keeps each job's position (deltaLink,
	 * how far its scan of certificates went) and health.  The NOCASE
	 * indexes find certificates by identity in any letter case.
	 */
	"CREATE TABLE entra_objects ("
	"  kind TEXT NOT NULL CHECK (kind IN ('device', 'user', 'managed')),"
	"  ext_id TEXT NOT NULL,"
	"  id TEXT,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  deleted INTEGER NOT NULL DEFAULT 0,"
	"  seen_at INTEGER NOT NULL,"
	"  PRIMARY KEY (kind, ext_id)"
	");"
	"CREATE INDEX entra_objects_id ON entra_objects(kind, id)"
	"  WHERE id IS NOT NULL;"
	"CREATE TABLE sync_state ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  delta_link TEXT,"
	"  scan_rowid INTEGER NOT NULL DEFAULT 0,"
	"  last_success INTEGER,"
	"  last_attempt INTEGER,"
	"  last_error TEXT,"
	"  last_error_at INTEGER,"
	"  items_applied INTEGER NOT NULL DEFAULT 0,"
	"  failures INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX certificates_entra_nocase ON certificates("
	"  entra_device_id COLLATE NOCASE) WHERE entra_device_id IS NOT NULL;"
	"CREATE INDEX certificates_intune_nocase ON certificates("
	"  intune_device_id COLLATE NOCASE) WHERE intune_device_id IS NOT NULL;"
	"CREATE INDEX certificates_upn_nocase ON certificates("
	"  upn COLLATE NOCASE) WHERE upn IS NOT NULL;",
	/*
	 * 4: renewals.  A certificate is renewed once (store_cert_insert()
	 * refuses a second child) and a revocation reaches every certificate
	 * renewed from the revoked one: both look children up by parent.  Not
	 * UNIQUE, so that a store holding several children of one parent from
	 * before this rule still opens.
	 */
	"CREATE INDEX certificates_renewed_from ON certificates(renewed_from)"
	"  WHERE renewed_from IS NOT NULL;",
	/*
	 * 5: pending requests are bounded and expire (store_txn_add_pending).
	 * expires_at is when a pending request is dropped unapproved (NULL:
	 * never); requests pending before this step get the default
	 * pending_ttl, 7 days from their arrival.  The partial indexes hold
	 * only the pending rows: the counts per profile and per key and the
	 * sweep of expired ones read them, not every transaction ever made.
	 */
	"ALTER TABLE transactions ADD COLUMN expires_at INTEGER;"
	"UPDATE transactions SET expires_at = created_at + 604800"
	"  WHERE state = 'pending';"
	"CREATE INDEX transactions_pending ON transactions(profile, key_hash)"
	"  WHERE state = 'pending';"
	"CREATE INDEX transactions_pending_expiry ON transactions(expires_at)"
	"  WHERE state = 'pending';",
};

const char *
store_migration(int version)
{
	if (version < 1 || (size_t)version > sizeof(migrations) / sizeof(migrations[0]))
		return NULL;
	return migrations[version - 1];
}

int
store_schema_latest(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}
