/*
 * state.h - fake-entra's whole memory: registered apps, issued tokens, the
 * directory (devices, users, Intune managed devices), Intune challenges,
 * revocation requests, injected faults, delta sessions and the records
 * tests read back.
 *
 * Thread safety: one mutex, st->lock, guards every field of struct
 * fe_state and everything reachable from it.  Handlers take it with
 * fe_state_lock() for a short critical section, never across a sleep, a
 * network write or an expensive computation they can do on a copy.
 */
#ifndef FAKE_ENTRA_STATE_H
#define FAKE_ENTRA_STATE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "fake.h"

/* A growable array of owned pointers. */
struct fe_vec {
	void	**v;
	size_t	  n;
	size_t	  cap;
};

/* An app registration; tenant + client_id identify it. */
struct fe_app {
	char		*tenant;
	char		*client_id;
	char		*secret;	/* or NULL */
	X509		*cert;		/* or NULL; owned */
	char		 x5t[32];	/* base64url SHA-1 of the DER */
	char		 x5t_s256[48];	/* base64url SHA-256 of the DER */
};

/* An access token we issued. */
struct fe_token {
	char		 value[64];
	enum fe_aud	 aud;
	time_t		 expires;
};

/* How an object left the directory. */
enum fe_gone {
	FE_LIVE = 0,
	FE_SOFT_DELETED,	/* users only: in the recycle bin */
	FE_DELETED,		/* gone for good */
};

/* An Entra device.  seq is the change sequence of its last change. */
struct fe_device {
	char		*id;		/* object id */
	char		*device_id;	/* Entra deviceId */
	char		*display_name;
	char		*os;
	int		 enabled;
	enum fe_gone	 gone;
	uint64_t	 seq;
};

/* An Entra user. */
struct fe_user {
	char		*id;
	char		*upn;
	char		*display_name;
	int		 enabled;
	enum fe_gone	 gone;
	uint64_t	 seq;
};

/* An Intune managed device. */
struct fe_mdev {
	char		*id;
	char		*aad_id;	/* azureADDeviceId */
	char		*compliance;
	char		*name;
};

/* An Intune challenge registered for one CSR subject. */
struct fe_challenge {
	char		*challenge;
	char		*subject;	/* RFC 4514 form */
	time_t		 expires;
};

/* A revocation request queued for the PKI connector. */
struct fe_revreq {
	char		*context;
	char		*serial;
	char		*issuer;
	char		*caconf;
	int		 answered;
};

/* An injected fault; remaining == 0 means until DELETE /_admin/faults. */
struct fe_fault {
	char		*prefix;
	int		 status;
	int		 retry_after;	/* -1: no header */
	int		 latency_ms;
	int		 remaining;
};

/* A client assertion id seen, kept until the assertion expires. */
struct fe_jti {
	char		*jti;
	time_t		 exp;
};

/* A delta session position: a $skiptoken or a $deltatoken. */
struct fe_dtoken {
	char		 value[48];
	int		 users;		/* 0 devices, 1 users */
	int		 is_skip;	/* 1: nextLink page, 0: deltaLink */
	uint64_t	 since;		/* changes after this sequence... */
	uint64_t	 cursor;	/* ...already sent up to this one... */
	uint64_t	 upto;		/* ...in a round that ends here */
	char		*select;	/* $select of the round, or NULL */
};

struct fe_state {
	pthread_mutex_t	 lock;		/* guards everything below */
	struct fe_vec	 apps;		/* struct fe_app */
	struct fe_vec	 tokens;	/* struct fe_token */
	struct fe_vec	 devices;	/* struct fe_device */
	struct fe_vec	 users;		/* struct fe_user */
	struct fe_vec	 mdevs;		/* struct fe_mdev */
	struct fe_vec	 challenges;	/* struct fe_challenge */
	struct fe_vec	 revreqs;	/* struct fe_revreq */
	struct fe_vec	 faults;	/* struct fe_fault */
	struct fe_vec	 jtis;		/* struct fe_jti */
	struct fe_vec	 dtokens;	/* struct fe_dtoken */
	uint64_t	 seq;		/* last change sequence handed out */
	json_t		*notifications;	/* arrays of records, in order */
	json_t		*validations;
	json_t		*revresults;
	json_t		*requests;
};

/* Creates an empty state.  Returns NULL when out of memory. */
struct fe_state	*fe_state_new(void);

/* Frees the state and everything in it.  Accepts NULL. */
void	 fe_state_free(struct fe_state *st);

/* Takes and releases st->lock. */
void	 fe_state_lock(struct fe_state *st);
void	 fe_state_unlock(struct fe_state *st);

/* Appends p to v.  Returns 0, or -1 when out of memory (p not taken). */
int	 fe_vec_push(struct fe_vec *v, void *p);

/* Removes item i, keeping the order; returns it to the caller. */
void	*fe_vec_remove(struct fe_vec *v, size_t i);

/* Destructors for items; each accepts NULL. */
void	 fe_app_free(struct fe_app *a);
void	 fe_device_free(struct fe_device *d);
void	 fe_user_free(struct fe_user *u);
void	 fe_mdev_free(struct fe_mdev *m);
void	 fe_challenge_free(struct fe_challenge *c);
void	 fe_revreq_free(struct fe_revreq *r);
void	 fe_fault_free(struct fe_fault *f);
void	 fe_dtoken_free(struct fe_dtoken *t);

/* Lookups; the caller holds the lock.  Each returns NULL when absent. */
struct fe_app	 *fe_app_find(struct fe_state *st, const char *tenant,
		    const char *client_id);
int		  fe_tenant_known(struct fe_state *st, const char *tenant);
struct fe_device *fe_device_find(struct fe_state *st, const char *device_id);
struct fe_device *fe_device_find_id(struct fe_state *st, const char *id);
struct fe_user	 *fe_user_find(struct fe_state *st, const char *id_or_upn);
struct fe_mdev	 *fe_mdev_find(struct fe_state *st, const char *id);
struct fe_challenge *fe_challenge_find(struct fe_state *st,
		    const char *challenge);

/*
 * Remembers a client assertion id until exp, forgetting expired ones on
 * the way (lock held).  Returns 1 when jti was already seen (a replay), 0
 * when it is new, -1 when out of memory.
 */
int	 fe_jti_remember(struct fe_state *st, const char *jti, time_t exp);

/* Hands out the next change sequence (lock held). */
uint64_t fe_state_next_seq(struct fe_state *st);

/*
 * Appends a record to one of the record arrays, dropping the oldest when
 * it holds more than FE_MAX_RECORDS (lock held).  rec is consumed.
 */
#define FE_MAX_RECORDS	50000
void	 fe_state_record(json_t *array, json_t *rec);

/* Strdup that accepts NULL. */
char	*fe_strdup0(const char *s);

#endif
