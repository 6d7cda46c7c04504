/*
 * sync_sql.h - the statements of the sync jobs' store functions
 * (sync.c, entra.c), as designated initializers that
 * store.c's statement table takes in whole.  Internal to the store.
 */
#ifndef BUNDLE_STORE_SYNC_SQL_H
#define BUNDLE_STORE_SYNC_SQL_H

#define SYNC_COLS \
	"name, delta_link, scan_rowid, last_success, last_attempt," \
	" last_error, last_error_at, items_applied, failures"

/* Certificates a device or user event may change: valid in time. */
#define ENTRA_CERT_COLS \
	"serial, status, status_source, revoked_at, entra_device_id," \
	" intune_device_id, upn"
#define ENTRA_CERT_LIVE \
	" AND status IN ('valid', 'hold') AND not_after > ?2"

#define STORE_SYNC_STATEMENTS \
	[STMT_SYNC_GET] = \
	    "SELECT " SYNC_COLS " FROM sync_state WHERE name = ?1", \
	[STMT_SYNC_LIST] = \
	    "SELECT " SYNC_COLS " FROM sync_state ORDER BY name", \
	/* Position and count; NULL arguments keep what is there. */ \
	[STMT_SYNC_PROGRESS] = \
	    "INSERT INTO sync_state (name, delta_link, scan_rowid," \
	    " items_applied) VALUES (?1, ?2, coalesce(?3, 0), ?4)" \
	    " ON CONFLICT(name) DO UPDATE SET" \
	    " delta_link = coalesce(?2, delta_link)," \
	    " scan_rowid = coalesce(?3, scan_rowid)," \
	    " items_applied = items_applied + ?4", \
	/* A run's end: ?3 NULL is a success, else the error. */ \
	[STMT_SYNC_RESULT] = \
	    "INSERT INTO sync_state (name, last_attempt, last_success," \
	    " last_error, last_error_at, failures) VALUES (?1, ?2," \
	    " iif(?3 IS NULL, ?2, NULL), ?3, iif(?3 IS NULL, NULL, ?2)," \
	    " iif(?3 IS NULL, 0, 1))" \
	    " ON CONFLICT(name) DO UPDATE SET last_attempt = ?2," \
	    " last_success = iif(?3 IS NULL, ?2, last_success)," \
	    " last_error = coalesce(?3, last_error)," \
	    " last_error_at = iif(?3 IS NULL, last_error_at, ?2)," \
	    " failures = iif(?3 IS NULL, 0, failures + 1)", \
	[STMT_SYNC_RESTART] = \
	    "UPDATE sync_state SET delta_link = NULL, scan_rowid = 0" \
	    " WHERE name = ?1", \
	[STMT_ENTRA_FORGET] = "DELETE FROM entra_objects WHERE kind = ?1", \
	/* A fact with an identifier; a NULL id or enabled keeps the old. */ \
	[STMT_ENTRA_UPSERT] = \
	    "INSERT INTO entra_objects (kind, ext_id, id, enabled, deleted," \
	    " seen_at) VALUES (?1, lower(?2), lower(?3), coalesce(?4, 1), ?5," \
	    " ?6)" \
	    " ON CONFLICT(kind, ext_id) DO UPDATE SET" \
	    " id = coalesce(excluded.id, id)," \
	    " enabled = coalesce(?4, enabled), deleted = excluded.deleted," \
	    " seen_at = excluded.seen_at", \
	/* Every row of an object: a renamed user keeps its old UPN's row. */ \
	[STMT_ENTRA_UPDATE_ID] = \
	    "UPDATE entra_objects SET enabled = coalesce(?3, enabled)," \
	    " deleted = ?4, seen_at = ?5 WHERE kind = ?1 AND id = lower(?2)", \
	[STMT_ENTRA_EXT_BY_ID] = \
	    "SELECT ext_id FROM entra_objects WHERE kind = ?1" \
	    " AND id = lower(?2)", \
	[STMT_ENTRA_KNOWN] = \
	    "SELECT 1 FROM entra_objects WHERE kind = ?1" \
	    " AND ext_id = lower(?2)", \
	/* \
	 * The worst state among a certificate's identities (2 deleted): \
	 * its devices by deviceId, and through its Intune id's mapping. \
	 */ \
	[STMT_ENTRA_WORST] = \
	    "SELECT kind, ext_id, iif(deleted, 2, iif(enabled, 0, 1)) AS sev" \
	    " FROM entra_objects WHERE" \
	    " (kind = 'device' AND ext_id IN (lower(?1), lower(?2)," \
	    " (SELECT id FROM entra_objects WHERE kind = 'managed'" \
	    " AND ext_id = lower(?2))))" \
	    " OR (kind = 'managed' AND ext_id = lower(?2))" \
	    " OR (kind = 'user' AND ext_id = lower(?3))" \
	    " ORDER BY sev DESC LIMIT 1", \
	[STMT_ENTRA_CERTS_DEVICE] = \
	    "SELECT " ENTRA_CERT_COLS " FROM certificates WHERE" \
	    " (entra_device_id = ?1 COLLATE NOCASE" \
	    " OR intune_device_id = ?1 COLLATE NOCASE" \
	    " OR intune_device_id COLLATE NOCASE IN (SELECT ext_id" \
	    " FROM entra_objects WHERE kind = 'managed' AND id = lower(?1)))" \
	    ENTRA_CERT_LIVE, \
	[STMT_ENTRA_CERTS_USER] = \
	    "SELECT " ENTRA_CERT_COLS " FROM certificates WHERE" \
	    " upn = ?1 COLLATE NOCASE" ENTRA_CERT_LIVE, \
	/* An Intune id resolved: the rows learn their Entra deviceId. */ \
	[STMT_ENTRA_FILL] = \
	    "UPDATE certificates SET entra_device_id = ?2" \
	    " WHERE intune_device_id = ?1 COLLATE NOCASE" \
	    " AND entra_device_id IS NULL", \
	[STMT_ENTRA_SCAN_DEVICES] = \
	    "SELECT rowid, entra_device_id, intune_device_id" \
	    " FROM certificates" \
	    " WHERE rowid > ?1 AND (entra_device_id IS NOT NULL" \
	    " OR intune_device_id IS NOT NULL)" ENTRA_CERT_LIVE \
	    " ORDER BY rowid LIMIT ?3", \
	[STMT_ENTRA_SCAN_USERS] = \
	    "SELECT rowid, upn, NULL FROM certificates" \
	    " WHERE rowid > ?1 AND upn IS NOT NULL" ENTRA_CERT_LIVE \
	    " ORDER BY rowid LIMIT ?3",

#endif
