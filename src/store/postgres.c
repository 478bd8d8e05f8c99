/*
 * postgres.c - the PostgreSQL backend of the store API, on libpq.
 * Not built yet: opening a postgresql:// database says so plainly.
 */
#include "store/internal.h"

const struct store_migration *store_postgres_migrations(size_t *count_out)
{
    *count_out = 0;
    return NULL;
}

enum ep_status store_postgres_open(const char *conninfo,
                                   const struct store_options *options,
                                   struct store **out, struct ep_error *err)
{
    (void)conninfo;
    (void)options;
    (void)out;
    return ep_error_set(err, EP_ERR_CONFIG, "db",
                        "db: PostgreSQL is not supported by this build yet");
}
