/*
 * config.h - scep-ca's configuration (DIR/scep-ca.conf, INI).
 *
 * Parsed by a declarative table of {section, name, type, offset, default}
 * and checked in one validation pass.  Read-only once loaded; shared by
 * every thread.
 */
#ifndef SCEPCA_CONFIG_H
#define SCEPCA_CONFIG_H

#include "base/buf.h"
#include "base/err.h"
#include "pki/identity.h"

struct entra_conf;

#define CONF_MAX_PROFILES	16

enum challenge_mode {
	CHALLENGE_STATIC = 0,
	CHALLENGE_ONE_TIME,
	CHALLENGE_INTUNE,
	CHALLENGE_NONE,		/* only with approval = manual */
};

/* Which CSR SAN kinds pass into the certificate (bit mask). */
#define SAN_DNS		0x01
#define SAN_EMAIL	0x02
#define SAN_URI		0x04
#define SAN_UPN		0x08
#define SAN_IP		0x10

/* Which client key types a profile accepts (bit mask + RSA minimum). */
#define KEY_RSA		0x01
#define KEY_EC_P256	0x02
#define KEY_EC_P384	0x04

/* One [profile NAME] section. */
struct profile_conf {
	char			 name[64];
	char			*path;			/* "/scep" */
	enum challenge_mode	 challenge;
	char			*challenge_secret_file;
	struct buf		 challenge_secret;	/* loaded; wiped on free */
	char			*key_types;		/* "rsa:2048+ ec:p256" */
	int			 key_mask;
	int			 rsa_min_bits;
	char			*copy_subject;		/* "all", "none", "CN,O" */
	char			*copy_san;		/* "dns,email,uri,upn" */
	int			 san_mask;
	char			*eku;			/* "clientAuth,serverAuth" */
	int			 validity_days;		/* 0: [ca] default */
	int			 manual_approval;
	int			 allow_legacy;		/* DES and MD5 */
	/*
	 * Keys from the network: RSA keys of a request's signer or CSR
	 * larger than this are refused (badAlg) before any RSA operation.
	 */
	int			 max_rsa_bits;
	/* Intune profiles: accept renewals signed by our certificate
	 * without a challenge (Intune is then told of them). */
	int			 signed_renewal;
	/* challenge = none: pending requests bounded and expired. */
	int			 pending_max;		/* per profile */
	int			 pending_max_per_key;	/* per requester key */
	int			 pending_ttl;		/* s, then dropped */
	/* Identity recorded in the store row (pki/identity.h syntax). */
	char			*intune_device_id_from;
	char			*entra_device_id_from;
	char			*upn_from;
	struct identity_map	 idmap;			/* parsed from them */
};

struct scep_conf {
	char			*dir;			/* DIR, absolute */
	/* [ca] */
	char			*public_url;		/* "" = from listen */
	int			 validity_days;
	int			 renewal_window_days;	/* days before expiry */
	char			*key_passphrase_file;
	char			*name;			/* CRL file name stem */
	/* [http] */
	char			*listen;
	int			 threads;
	int			 max_body;
	int			 timeout;
	int			 max_connections;	/* 0 = from RLIMIT_NOFILE */
	int			 max_connections_per_ip;
	/* [store] */
	char			*store;
	char			*store_sync;		/* "normal" or "full" */
	int			 store_sync_full;	/* from store_sync */
	int			 flush_interval_ms;
	/* [log] */
	char			*log_level;
	/* [crl] */
	int			 crl_next_update;	/* s, nextUpdate - thisUpdate */
	int			 crl_min_interval;	/* s between two signings */
	char			*crl_dir;		/* "" = no file */
	/* [ocsp] */
	int			 ocsp_next_update;	/* s, response validity */
	char			*ocsp_signer;		/* "delegated" or "ca" */
	char			*ocsp_signer_key;	/* "ec:p256"... */
	int			 ocsp_signer_days;
	int			 ocsp_cache_entries;	/* pre-produced responses */
	int			 ocsp_cache_seconds;	/* reused this long */
	int			 ocsp_presign;		/* pre-produce for every cert */
	/*
	 * [entra]: the Microsoft cloud clients' settings (msft/conf.h),
	 * validated; NULL when the section is absent.  Owned.
	 */
	struct entra_conf	*entra;
	int			 entra_sync_interval;	/* s, revocation sync */
	char			*entra_revoke_on;	/* "deleted,disabled" */
	int			 entra_revoke_mask;	/* ENTRA_ON_* from it */
	int			 revocation_poll_interval; /* s, Intune; 0 off */
	int			 notify_retry_min;	/* s, first retry delay */
	int			 notify_retry_max;	/* s, longest retry delay */
	int			 notify_max_age;	/* s, then given up */
	int			 notify_max_attempts;	/* 0: no limit */
	/* profiles */
	struct profile_conf	 profiles[CONF_MAX_PROFILES];
	int			 nprofiles;
};

/*
 * Loads DIR/scep-ca.conf (missing file: defaults), resolves relative file
 * names against DIR, loads challenge secrets, validates everything.
 * Returns 0, or -1 with e saying which line or option is wrong.
 */
int	conf_load(struct scep_conf *conf, const char *dir, struct err *e);

/* Frees everything conf owns, wiping secrets.  Accepts NULL. */
void	conf_free(struct scep_conf *conf);

/* The profile serving an HTTP path, or NULL (see conf.c for the rules). */
const struct profile_conf *conf_profile_for_path(const struct scep_conf *conf,
	    const char *path);

/* The profile with this name, or NULL. */
const struct profile_conf *conf_profile_by_name(const struct scep_conf *conf,
	    const char *name);

const char	*challenge_mode_name(enum challenge_mode m);

/* What `init` writes into the first scep-ca.conf (NULL: left out). */
struct conf_initial {
	const char	*challenge_mode;
	const char	*secret_file;
	const char	*passphrase_file;
	const char	*listen;
};

/* Writes the initial scep-ca.conf that `init` creates. */
int	conf_write_initial(const char *path, const struct conf_initial *ci,
	    struct err *e);

#endif
