/* faults.c - the fixture of faults.h. */
#include "faults.h"

#include <jansson.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/localtime.h"
#include "common/mem.h"
#include "support.h"
#include "sync/sync.h"

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME  1099511628211ULL

static const char *const table_queries[FAULTS_TABLE_COUNT] = {
    "SELECT * FROM promotions ORDER BY id",
    "SELECT * FROM promotion_usage ORDER BY id",
    "SELECT * FROM pos_transactions ORDER BY transaction_id",
    "SELECT * FROM holidays ORDER BY date",
    "SELECT * FROM sync_state ORDER BY company_id, store_id",
};

static const char *const table_names[FAULTS_TABLE_COUNT] = {
    "promotions", "promotion_usage", "pos_transactions",
    "holidays",   "sync_state",
};

static void config_set(struct ep_config *config, const char *key,
                       const char *value)
{
    struct ep_error err = { 0 };

    if (ep_config_set(config, key, value, EP_CONFIG_FROM_FLAG, &err) != EP_OK)
        fail_msg("config %s: %s", key, err.message);
}

static void import_example(struct faults_db *db)
{
    struct store *store = faults_store_open(db, true);
    struct sync_report report;
    struct ep_error err = { 0 };
    char path[1024];

    test_source_path("examples/full_sync.json", path, sizeof(path));
    if (sync_import_file(store, &db->config, path, NULL, &report, &err) !=
        EP_OK)
        fail_msg("import: %s", err.message);
    sync_report_deinit(&report);
    store_close(store);
}

void faults_db_create(struct faults_db *db, const char *parent,
                      bool with_example)
{
    struct store *store;
    struct ep_error err = { 0 };

    memset(db, 0, sizeof(*db));
    if (parent != NULL) {
        snprintf(db->dir, sizeof(db->dir), "%s/faults-XXXXXX", parent);
        assert_non_null(mkdtemp(db->dir));
    } else {
        test_tmpdir(db->dir, sizeof(db->dir));
    }
    snprintf(db->path, sizeof(db->path), "%s/edge.db", db->dir);
    assert_int_equal(ep_config_init(&db->config), EP_OK);
    config_set(&db->config, "db", db->path);
    config_set(&db->config, "company_id", FAULTS_COMPANY_ID);
    config_set(&db->config, "store_id", FAULTS_STORE_ID);
    config_set(&db->config, "timezone", "Asia/Jakarta");
    store = faults_store_open(db, true);
    if (store_migrate(store, 0, NULL, &err) != EP_OK)
        fail_msg("migrate: %s", err.message);
    store_close(store);
    if (with_example)
        import_example(db);
}

void faults_db_destroy(struct faults_db *db)
{
    ep_config_deinit(&db->config);
    test_rmdir(db->dir);
}

struct store *faults_store_open(const struct faults_db *db, bool normal)
{
    struct store_options options;
    struct store *store = NULL;
    struct ep_error err = { 0 };

    memset(&options, 0, sizeof(options));
    options.synchronous_normal = normal;
    if (store_open(db->path, &options, &store, &err) != EP_OK)
        fail_msg("store_open %s: %s", db->path, err.message);
    return store;
}

/* ---- state ------------------------------------------------------------ */

static uint64_t fnv(uint64_t hash, const void *data, size_t size)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < size; i++)
        hash = (hash ^ p[i]) * FNV_PRIME;
    return hash;
}

/* Columns that say when, not what: the clock of the run wrote them. */
static bool is_volatile(const char *column)
{
    static const char *const names[] = {
        "synced_at", "last_success_at", "data_version", "updated_at",
        "used_at",   "created_at",      "last_used_at",
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(column, names[i]) == 0)
            return true;
    }
    return false;
}

static int64_t hash_table(sqlite3 *conn, const char *sql, bool stable,
                          uint64_t *hash)
{
    sqlite3_stmt *stmt = NULL;
    int64_t rows = 0;
    int rc;

    if (sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(conn));
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(stmt); c++) {
            const unsigned char *text = sqlite3_column_text(stmt, c);
            if (stable && is_volatile(sqlite3_column_name(stmt, c)))
                continue;
            *hash = fnv(*hash, text != NULL ? (const char *)text : "\1NULL",
                        text != NULL ? strlen((const char *)text) + 1 : 6);
        }
        rows++;
    }
    if (rc != SQLITE_DONE)
        fail_msg("%s: %s", sql, sqlite3_errmsg(conn));
    sqlite3_finalize(stmt);
    return rows;
}

static int64_t query_int(sqlite3 *conn, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    int64_t value;

    if (sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW)
        fail_msg("%s: %s", sql, sqlite3_errmsg(conn));
    value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
}

static void check_integrity(sqlite3 *conn, const char *path)
{
    sqlite3_stmt *stmt = NULL;
    const char *result;

    if (sqlite3_prepare_v2(conn, "PRAGMA integrity_check", -1, &stmt, NULL) !=
            SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW)
        fail_msg("integrity_check %s: %s", path, sqlite3_errmsg(conn));
    result = (const char *)sqlite3_column_text(stmt, 0);
    if (result == NULL || strcmp(result, "ok") != 0)
        fail_msg("integrity_check %s: %s", path, result ? result : "?");
    sqlite3_finalize(stmt);
}

void faults_state_read(const char *path, bool stable, struct faults_state *out)
{
    sqlite3 *conn = NULL;

    memset(out, 0, sizeof(*out));
    if (sqlite3_open_v2(path, &conn, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail_msg("open %s: %s", path, sqlite3_errmsg(conn));
    sqlite3_busy_timeout(conn, 5000);
    check_integrity(conn, path);
    out->checksum = FNV_OFFSET;
    for (int t = 0; t < FAULTS_TABLE_COUNT; t++)
        out->rows[t] =
            hash_table(conn, table_queries[t], stable, &out->checksum);
    out->uses = query_int(conn, "SELECT TOTAL(current_uses) FROM promotions");
    out->log_rows = query_int(conn, "SELECT COUNT(*) FROM promotion_sync_log");
    sqlite3_close(conn);
}

bool faults_state_equal(const struct faults_state *a,
                        const struct faults_state *b)
{
    return memcmp(a->rows, b->rows, sizeof(a->rows)) == 0 &&
           a->checksum == b->checksum && a->uses == b->uses;
}

void faults_state_assert_equal(const struct faults_state *a,
                               const struct faults_state *b, const char *when)
{
    for (int t = 0; t < FAULTS_TABLE_COUNT; t++) {
        if (a->rows[t] != b->rows[t])
            fail_msg("%s: %s has %lld rows, expected %lld", when,
                     table_names[t], (long long)b->rows[t],
                     (long long)a->rows[t]);
    }
    if (a->uses != b->uses)
        fail_msg("%s: current_uses total %lld, expected %lld", when,
                 (long long)b->uses, (long long)a->uses);
    if (a->checksum != b->checksum)
        fail_msg("%s: the rows changed (checksum %016llx, expected %016llx)",
                 when, (unsigned long long)b->checksum,
                 (unsigned long long)a->checksum);
}

void faults_checkpoint(const char *path)
{
    sqlite3 *conn = NULL;
    int rc;

    if (sqlite3_open_v2(path, &conn, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail_msg("open %s: %s", path, sqlite3_errmsg(conn));
    sqlite3_busy_timeout(conn, 5000);
    rc = sqlite3_wal_checkpoint_v2(conn, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
                                   NULL);
    if (rc != SQLITE_OK)
        fail_msg("checkpoint %s: %s", path, sqlite3_errmsg(conn));
    sqlite3_close(conn);
}

int64_t faults_page_count(const char *path)
{
    sqlite3 *conn = NULL;
    int64_t pages;

    if (sqlite3_open_v2(path, &conn, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail_msg("open %s: %s", path, sqlite3_errmsg(conn));
    pages = query_int(conn, "PRAGMA page_count");
    sqlite3_close(conn);
    return pages;
}

/* ---- bodies and carts ------------------------------------------------- */

static json_t *load_json(const char *relative)
{
    char path[1024];
    json_error_t jerr;
    json_t *root;

    test_source_path(relative, path, sizeof(path));
    root = json_load_file(path, 0, &jerr);
    if (root == NULL)
        fail_msg("%s: %s", relative, jerr.text);
    return root;
}

/* Renames a third, drops four, re-prioritises: the changes of a sync. */
static void change_example(json_t *promotions)
{
    char name[128];

    for (size_t i = json_array_size(promotions); i-- > 0;) {
        json_t *p = json_array_get(promotions, i);
        if (i % 7 == 3) {
            json_array_remove(promotions, i);
        } else if (i % 3 == 0) {
            snprintf(name, sizeof(name), "%s (baru)",
                     json_string_value(json_object_get(p, "name")));
            json_object_set_new(p, "name", json_string(name));
            json_object_set_new(p, "execution_priority",
                                json_integer((json_int_t)(300 + i)));
        }
    }
}

/* One without apply_to (its scope says "category"), one invalid. */
static void add_odd_ones(json_t *promotions)
{
    json_t *first = json_array_get(promotions, 0);
    json_t *implicit = json_deep_copy(first);
    json_t *invalid = json_deep_copy(first);

    json_object_del(implicit, "apply_to");
    json_object_set_new(implicit, "id",
                        json_string("fa017000-0000-4000-8000-000000000001"));
    json_object_set_new(implicit, "code", json_string("TANPAAPPLY"));
    json_array_append_new(promotions, implicit);
    json_object_set_new(invalid, "id",
                        json_string("fa017000-0000-4000-8000-000000000002"));
    json_object_set_new(invalid, "code", json_string("RUSAK"));
    json_object_set_new(json_object_get(invalid, "rules"), "discount_percent",
                        json_integer(250));
    json_array_append_new(promotions, invalid);
}

char *faults_changing_body(size_t promotions_from_workload, size_t *length)
{
    json_t *example = load_json("examples/full_sync.json");
    json_t *workload = load_json("fuzz/data/workload_full_sync.json");
    json_t *store = json_object_get(example, FAULTS_STORE_ID);
    json_t *promotions = json_object_get(store, "promotions");
    json_t *more = json_object_get(json_object_get(workload, FAULTS_STORE_ID),
                                   "promotions");
    json_t *holidays = json_object_get(store, "holidays");
    char *text;

    change_example(promotions);
    for (size_t i = 0; i < promotions_from_workload; i++)
        json_array_append(promotions, json_array_get(more, i));
    add_odd_ones(promotions);
    json_array_remove(holidays, 0);
    json_array_append_new(
        holidays,
        json_pack("{s:s, s:s}", "date", "2026-03-09", "name", "Libur toko"));
    json_object_set_new(store, "sync_token", json_string("faults-token-2"));
    text = json_dumps(example, JSON_COMPACT);
    assert_non_null(text);
    *length = strlen(text);
    json_decref(example);
    json_decref(workload);
    return text;
}

struct promo_set *faults_snapshot(struct store *store,
                                  const struct faults_db *db)
{
    struct promo_set *set = NULL;
    struct ep_error err = { 0 };

    if (sync_snapshot_load(store, &db->config, &set, &err) != EP_OK)
        fail_msg("snapshot: %s", err.message);
    return set;
}

static struct cart *cart_of(json_t *root, const char *txn,
                            struct ep_arena *arena)
{
    struct cart *cart = NULL;
    struct ep_error err = { 0 };

    if (txn != NULL)
        json_object_set_new(root, "transaction_id", json_string(txn));
    if (cart_from_json(root, arena, &cart, &err) != EP_OK)
        fail_msg("cart: %s", err.message);
    json_decref(root);
    return cart;
}

struct cart *faults_example_cart(const char *name, const char *txn,
                                 struct ep_arena *arena)
{
    char relative[256];

    snprintf(relative, sizeof(relative), "examples/carts/%s", name);
    return cart_of(load_json(relative), txn, arena);
}

struct cart *faults_big_cart(size_t line_count, const char *txn,
                             struct ep_arena *arena)
{
    json_t *root = json_pack("{s:s, s:s, s:[]}", "brand_id",
                             "4b4c6546-159b-4cd0-96d4-50a763ba12df", "at",
                             "2026-12-05T15:00:00+07:00", "lines");
    json_t *lines = json_object_get(root, "lines");
    char id[32];

    for (size_t i = 0; i < line_count; i++) {
        snprintf(id, sizeof(id), "%zu", i + 1);
        json_array_append_new(
            lines,
            json_pack("{s:s, s:s, s:s, s:i, s:i}", "line_id", id, "product_id",
                      "c0ffee00-0000-4000-8000-000000000003", "category_id",
                      "ca7e0000-0000-4000-8000-000000000101", "quantity", 1,
                      "unit_price", 30000 + (int)i));
    }
    return cart_of(root, txn, arena);
}
