/*
 * fixture.h - what the sync tests share: a fresh store of the engine
 * running (engines.h: a SQLite file, or a schema of the run's PostgreSQL
 * database), a config pointing at a fake CMS on 127.0.0.1, and a dump of
 * everything a failed sync must leave alone. The programs that touch the
 * store run their tests on both engines through test_engines_run. Test
 * code only.
 */
#ifndef EP_TEST_SYNC_FIXTURE_H
#define EP_TEST_SYNC_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"
#include "engines.h"
#include "fake_cms.h"
#include "store/store.h"
#include "sync/sync.h"

#define FIX_STORE_ID   "ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c"
#define FIX_COMPANY_ID "812e76b6-f235-4bb2-948a-cae58ee62b97"
#define FIX_TOKEN      "s3cret-cms-token"

struct fixture {
    struct test_engine_db tdb; /* the database of the engine running */
    const char *dir;           /* a temporary folder (tdb.dir) */
    const char *db;            /* what store_open and `db =` get (tdb.url) */
    struct ep_config config;   /* company, store, cms_url, token, timeouts */
    struct store *store;       /* open, migrated */
    struct fake_cms *cms;      /* running */
};

/* Sets everything up; the fake serves nothing until bodies are set. */
void fixture_setup(struct fixture *f);

/* Tears everything down. */
void fixture_teardown(struct fixture *f);

/* A full body of count promotions "<prefix>-<n>" starting at first. */
void fixture_serve_full(struct fixture *f, const char *prefix, size_t first,
                        size_t count);

/* Serves text as the incremental body. */
void fixture_serve_incremental(struct fixture *f, const char *text);

/*
 * Everything a failed sync must leave as it was: every promotion row, the
 * holidays, the sync state, and the usage of the given promotion ids. The
 * caller frees the string with free().
 */
char *fixture_dump(struct fixture *f);

/* Runs a sync and returns its status; the report is the caller's. */
enum ep_status fixture_sync(struct fixture *f, enum sync_kind kind,
                            struct sync_report *report);

/* Number of rows in the store's sync log. */
size_t fixture_log_count(struct fixture *f);

/* The newest sync log row (arena-owned). */
void fixture_log_last(struct fixture *f, struct ep_arena *arena,
                      struct store_sync_log *out);

/* Inserts one committed use of promotion id by customer (may be NULL). */
void fixture_use(struct fixture *f, const char *promotion_id, const char *code,
                 const char *transaction_id, const char *customer_id);

/* A single promotion object (JSON text) with the given id and code. */
char *fixture_promotion(const char *id, const char *code, int percent);

#endif
