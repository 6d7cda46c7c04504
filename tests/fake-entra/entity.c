/*
 * entity.c - Graph JSON of directory objects (devices, users, Intune
 * managed devices) and OData $select.
 *
 * One declarative table per kind lists the properties Graph knows, which
 * of them the emulator keeps (and where), and which come without $select.
 * As in Graph, a $select of a property the type lacks is a 400, a known
 * property without a value is null, and "id" always comes.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fake.h"
#include "state.h"

enum fe_ptype {
	P_STR,		/* char * at off */
	P_BOOL,		/* int at off */
	P_NULL,		/* a property Graph has and we do not keep */
};

struct fe_prop {
	const char	*name;
	enum fe_ptype	 type;
	size_t		 off;
	int		 dflt;	/* returned when there is no $select */
};

static const struct fe_prop device_props[] = {
	{ "id", P_STR, offsetof(struct fe_device, id), 1 },
	{ "deviceId", P_STR, offsetof(struct fe_device, device_id), 1 },
	{ "displayName", P_STR, offsetof(struct fe_device, display_name), 1 },
	{ "accountEnabled", P_BOOL, offsetof(struct fe_device, enabled), 1 },
	{ "operatingSystem", P_STR, offsetof(struct fe_device, os), 1 },
	{ "operatingSystemVersion", P_NULL, 0, 0 },
	{ "trustType", P_NULL, 0, 0 },
	{ "isCompliant", P_NULL, 0, 0 },
	{ "isManaged", P_NULL, 0, 0 },
	{ "mdmAppId", P_NULL, 0, 0 },
	{ "approximateLastSignInDateTime", P_NULL, 0, 0 },
	{ "registrationDateTime", P_NULL, 0, 0 },
	{ "deletedDateTime", P_NULL, 0, 0 },
	{ "deviceOwnership", P_NULL, 0, 0 },
	{ "manufacturer", P_NULL, 0, 0 },
	{ "model", P_NULL, 0, 0 },
	{ NULL, P_NULL, 0, 0 },
};

static const struct fe_prop user_props[] = {
	{ "id", P_STR, offsetof(struct fe_user, id), 1 },
	{ "userPrincipalName", P_STR, offsetof(struct fe_user, upn), 1 },
	{ "displayName", P_STR, offsetof(struct fe_user, display_name), 1 },
	/* reference §4: accountEnabled only comes when selected */
	{ "accountEnabled", P_BOOL, offsetof(struct fe_user, enabled), 0 },
	{ "mail", P_NULL, 0, 0 },
	{ "givenName", P_NULL, 0, 0 },
	{ "surname", P_NULL, 0, 0 },
	{ "jobTitle", P_NULL, 0, 0 },
	{ "userType", P_NULL, 0, 0 },
	{ "mobilePhone", P_NULL, 0, 0 },
	{ "officeLocation", P_NULL, 0, 0 },
	{ "preferredLanguage", P_NULL, 0, 0 },
	{ "onPremisesSecurityIdentifier", P_NULL, 0, 0 },
	{ "onPremisesSyncEnabled", P_NULL, 0, 0 },
	{ "createdDateTime", P_NULL, 0, 0 },
	{ "deletedDateTime", P_NULL, 0, 0 },
	{ NULL, P_NULL, 0, 0 },
};

static const struct fe_prop mdev_props[] = {
	{ "id", P_STR, offsetof(struct fe_mdev, id), 1 },
	{ "azureADDeviceId", P_STR, offsetof(struct fe_mdev, aad_id), 1 },
	{ "complianceState", P_STR, offsetof(struct fe_mdev, compliance), 1 },
	{ "deviceName", P_STR, offsetof(struct fe_mdev, name), 1 },
	{ "userPrincipalName", P_NULL, 0, 0 },
	{ "userId", P_NULL, 0, 0 },
	{ "serialNumber", P_NULL, 0, 0 },
	{ "operatingSystem", P_NULL, 0, 0 },
	{ "managementState", P_NULL, 0, 0 },
	{ "enrolledDateTime", P_NULL, 0, 0 },
	{ "lastSyncDateTime", P_NULL, 0, 0 },
	{ NULL, P_NULL, 0, 0 },
};

static const struct fe_prop *
fe_props(enum fe_kind kind)
{
	switch (kind) {
	case FE_KIND_DEVICE:
		return device_props;
	case FE_KIND_USER:
		return user_props;
	default:
		return mdev_props;
	}
}

/* The property named by n bytes of name (any case), or NULL. */
static const struct fe_prop *
fe_prop_find(const struct fe_prop *t, const char *name, size_t n)
{
	for (; t->name != NULL; t++)
		if (strlen(t->name) == n && strncasecmp(t->name, name, n) == 0)
			return t;
	return NULL;
}

/* Calls fn for each trimmed name of a comma-separated list; stops on -1. */
static int
fe_select_each(const char *select, int (*fn)(const char *, size_t, void *),
    void *arg)
{
	const char	*s = select, *e;
	size_t		 n;

	while (*s != '\0') {
		while (*s == ' ' || *s == ',')
			s++;
		e = s + strcspn(s, ",");
		n = (size_t)(e - s);
		while (n > 0 && s[n - 1] == ' ')
			n--;
		if (n > 0 && fn(s, n, arg) == -1)
			return -1;
		s = e;
	}
	return 0;
}

struct fe_check_arg {
	const struct fe_prop	*props;
	char			*bad;
	size_t			 badlen;
};

static int
fe_check_one(const char *name, size_t n, void *arg)
{
	struct fe_check_arg	*a = arg;

	if (fe_prop_find(a->props, name, n) != NULL)
		return 0;
	snprintf(a->bad, a->badlen, "%.*s", (int)n, name);
	return -1;
}

int
fe_select_check(enum fe_kind kind, const char *select, char *bad,
    size_t badlen)
{
	struct fe_check_arg	a = { fe_props(kind), bad, badlen };

	if (select == NULL)
		return 0;
	return fe_select_each(select, fe_check_one, &a);
}

/* Sets property p of obj in j. */
static int
fe_prop_put(json_t *j, const struct fe_prop *p, const void *obj)
{
	const char	*base = obj;
	const char	*s;
	int		 b;
	json_t		*v;

	switch (p->type) {
	case P_STR:
		memcpy(&s, base + p->off, sizeof(s));
		v = s != NULL ? json_string(s) : json_null();
		break;
	case P_BOOL:
		memcpy(&b, base + p->off, sizeof(b));
		v = json_boolean(b);
		break;
	default:
		v = json_null();
		break;
	}
	return json_object_set_new(j, p->name, v);
}

struct fe_put_arg {
	const struct fe_prop	*props;
	const void		*obj;
	json_t			*j;
};

static int
fe_put_one(const char *name, size_t n, void *arg)
{
	struct fe_put_arg	*a = arg;
	const struct fe_prop	*p = fe_prop_find(a->props, name, n);

	return p == NULL ? 0 : fe_prop_put(a->j, p, a->obj);
}

json_t *
fe_entity_json(enum fe_kind kind, const void *obj, const char *select)
{
	const struct fe_prop	*t = fe_props(kind), *p;
	struct fe_put_arg	 a = { t, obj, json_object() };

	if (a.j == NULL || fe_prop_put(a.j, &t[0], obj) == -1)
		goto fail;
	if (select != NULL && *select != '\0') {
		if (fe_select_each(select, fe_put_one, &a) == -1)
			goto fail;
		return a.j;
	}
	for (p = t + 1; p->name != NULL; p++)
		if (p->dflt && fe_prop_put(a.j, p, obj) == -1)
			goto fail;
	return a.j;
fail:
	json_decref(a.j);
	return NULL;
}
