/*
 * store_int.h - internals shared by the store's source files.
 */
#ifndef BUNDLE_STORE_INT_H
#define BUNDLE_STORE_INT_H

/* SQL of the migration to `version` (1-based), or NULL past the last. */
const char	*store_migration(int version);

/* The newest schema version this build knows. */
int		 store_schema_latest(void);

#endif
