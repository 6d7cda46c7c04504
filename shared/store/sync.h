/*
 * sync.h - what scep-ca's sync jobs keep in the store (schema 3):
 *
 *   sync_state      one row per job ("entra-devices", "entra-users",
 *                   "intune-revocations"): its position (the Graph
 *                   deltaLink, how far its scan of certificate rows went)
 *                   and its health (last success, last error, failures in
 *                   a row, items applied), which `scep-ca status` prints;
 *   entra_objects   what Entra said last of each device and user that
 *                   matters: object id, deviceId or UPN (lower-case),
 *                   enabled, deleted; and which Entra deviceId an Intune
 *                   managed device id stands for.
 *
 * store_entra_apply() records facts about devices and users and, in the
 * same transaction, changes the status of every certificate they concern
 * (entra_decide()): deleted → revoked (cessationOfOperation), disabled →
 * on hold (certificateHold), enabled again → a hold the sync made is
 * released.  A certificate's identities are its row's entra_device_id,
 * intune_device_id and upn; the worst state among them decides.
 *
 * Thread-safety: as store.h (any thread; each has its own connection).
 */
#ifndef BUNDLE_STORE_SYNC_H
#define BUNDLE_STORE_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

/* sync_state names. */
#define SYNC_ENTRA_DEVICES	"entra-devices"
#define SYNC_ENTRA_USERS	"entra-users"
#define SYNC_INTUNE_REVOCATIONS	"intune-revocations"

/* The status_source (store.h cert_row) of changes each job makes. */
#define SYNC_ACTOR_ENTRA	"entra"
#define SYNC_ACTOR_INTUNE	"intune"

/* One row of sync_state.  Strings owned; sync_row_clear() frees. */
struct sync_row {
	char	 name[64];
	char	*delta_link;		/* NULL: none yet */
	int64_t	 scan_rowid;		/* certificates scanned up to it */
	int64_t	 last_success;		/* 0: never */
	int64_t	 last_attempt;		/* 0: never */
	char	*last_error;		/* NULL: none ever */
	int64_t	 last_error_at;
	int64_t	 items_applied;		/* changes made, in total */
	int	 failures;		/* failed runs in a row */
};

void	sync_row_clear(struct sync_row *r);

/* Reads one job's row.  ERR_NOT_FOUND before its first run. */
int	store_sync_get(struct store *st, const char *name, struct sync_row *out,
	    struct err *e);

/* Calls fn for every row, by name; fn returns non-zero to stop. */
typedef int (*store_sync_fn)(void *arg, const struct sync_row *r);
int	store_sync_list(struct store *st, store_sync_fn fn, void *arg,
	    struct err *e);

/*
 * Records progress: a new delta_link (NULL keeps it), a new scan_rowid
 * (-1 keeps it), and items more applied.  Returns 0 or -1.
 */
int	store_sync_progress(struct store *st, const char *name,
	    const char *delta_link, int64_t scan_rowid, int64_t items,
	    struct err *e);

/*
 * Records the end of a run at now: a success when error is NULL (the
 * failure count goes back to 0), else the error (counted).  0 or -1.
 */
int	store_sync_result(struct store *st, const char *name, int64_t now,
	    const char *error, struct err *e);

/*
 * Revokes a certificate with reason unless it is revoked already (a
 * hold becomes a revocation; an earlier revocation keeps its reason and
 * date), in one transaction that bumps the revocation generation when
 * it changes the row.  *changed (may be NULL) tells.  ERR_NOT_FOUND for
 * an unknown serial.  Returns 0 or -1.
 */
int	store_cert_revoke_once(struct store *st, const char *serial, int reason,
	    const char *actor, int *changed, struct err *e);

/* ---- Entra devices and users (entra.c) -------------------------- */

enum entra_kind {
	ENTRA_DEVICE = 0,	/* ext_id: the Entra deviceId */
	ENTRA_USER,		/* ext_id: the userPrincipalName */
	ENTRA_MANAGED,		/* ext_id: Intune managed device id;
				   id: its Entra deviceId, "" for none */
};

/* Ordered: the worst state of a certificate's identities decides. */
enum entra_state {
	ENTRA_ENABLED = 0,	/* or nothing known */
	ENTRA_DISABLED,
	ENTRA_DELETED,		/* deleted, or never found (404) */
};

enum entra_action {
	ENTRA_KEEP = 0,
	ENTRA_REVOKE,		/* cessationOfOperation */
	ENTRA_HOLD,		/* certificateHold */
	ENTRA_RELEASE,		/* back to valid */
};

/* What the sync may do (bit mask, [entra] revoke_on). */
#define ENTRA_ON_DELETED	0x01	/* revoke for a deleted identity */
#define ENTRA_ON_DISABLED	0x02	/* hold for a disabled one */

const char	*entra_kind_name(enum entra_kind k);
const char	*entra_state_name(enum entra_state s);

/*
 * The decision for one certificate (status, and held_by_sync when it is
 * on a hold the sync itself made) whose identities' worst state is
 * worst, under policy (ENTRA_ON_*):
 *   deleted   → revoke a valid or held certificate (ENTRA_ON_DELETED;
 *               without it a deleted identity counts as disabled);
 *   disabled  → hold a valid one (ENTRA_ON_DISABLED);
 *   enabled   → release a hold the sync made; never an admin's hold,
 *               never a revocation.
 */
enum entra_action entra_decide(enum entra_state worst, enum cert_status status,
	    int held_by_sync, int policy);

/*
 * One fact about a device, user or Intune managed device.  Strings are
 * borrowed.  A fact names the object by id, ext_id or both:
 *   - a live object seen by delta or a lookup: id and ext_id (either may
 *     be NULL when Graph left it out), enabled 1/0 (-1: not said);
 *   - an "@removed" delta entry: id only, deleted;
 *   - a lookup that found nothing (404): ext_id only, deleted;
 *   - ENTRA_MANAGED: ext_id the Intune id, id its Entra deviceId ("" for
 *     none), deleted when Intune does not know it; certificate rows with
 *     that Intune id and no Entra deviceId get this one;
 *   - deleted -1: nothing new is known of ext_id; its certificates are
 *     decided again from what is recorded (new certificate rows).
 */
struct entra_fact {
	enum entra_kind	 kind;
	const char	*id;
	const char	*ext_id;
	int		 enabled;
	int		 deleted;
};

/* One certificate changed by a batch, for the caller's log. */
struct entra_change {
	const char		*serial;
	enum entra_action	 action;
	int			 reason;	/* enum crl_reason */
	enum entra_kind		 why_kind;	/* the identity that decided */
	const char		*why_id;	/* its ext_id */
	enum entra_state	 why_state;
};

typedef void (*entra_change_fn)(void *arg, const struct entra_change *c);

/* What store_entra_apply() does in one transaction. */
struct entra_batch {
	const struct entra_fact	*facts;
	size_t			 n;
	int			 policy;	/* ENTRA_ON_* */
	int64_t			 now;
	const char		*sync_name;	/* NULL: sync_state untouched */
	const char		*delta_link;	/* saved with it; NULL: kept */
	int64_t			 scan_rowid;	/* saved with it; -1: kept */
	entra_change_fn		 report;	/* may be NULL */
	void			*arg;
};

/*
 * Records the facts in entra_objects, then re-decides every certificate
 * valid in time (not_after > now) that one of the facts' objects
 * concerns and applies the changes (status_source "entra", an audit row
 * each), and saves the sync position, all in one transaction that bumps
 * the revocation generation when a certificate changed.  *changed (may
 * be NULL) receives the number of certificates changed; report is called
 * for each after the commit.  Returns 0, or -1 with nothing changed.
 */
int	store_entra_apply(struct store *st, const struct entra_batch *b,
	    int *changed, struct err *e);

/*
 * Forgets what entra_objects holds for kind (ENTRA_DEVICE also forgets
 * ENTRA_MANAGED) and resets job `name`'s deltaLink and scan, in one
 * transaction: after Graph refused a deltaLink, every identity is looked
 * up again.  Returns 0 or -1.
 */
int	store_entra_restart(struct store *st, const char *name,
	    enum entra_kind kind, struct err *e);

/*
 * Whether entra_objects has a row for (kind, ext_id), in any letter
 * case.  Returns 1, 0, or -1.
 */
int	store_entra_known(struct store *st, enum entra_kind kind,
	    const char *ext_id, struct err *e);

/* A certificate row's identities, for the scan.  Owned strings. */
struct entra_scan_row {
	int64_t	 rowid;
	char	*a;	/* devices: entra_device_id; users: upn */
	char	*b;	/* devices: intune_device_id; users: NULL */
};

void	entra_scan_row_clear(struct entra_scan_row *r);

/*
 * Fills rows (up to max) with the certificates after rowid `after`,
 * valid in time at now and not revoked, that name a device (kind
 * ENTRA_DEVICE) or a user (ENTRA_USER), in rowid order.  Returns how
 * many (the caller clears each), or -1.
 */
int	store_entra_scan(struct store *st, enum entra_kind kind, int64_t after,
	    int64_t now, struct entra_scan_row *rows, int max, struct err *e);

#endif
