/*
 * sqlite_sync.c - the SQLite backend's promotions, holidays, sync runs,
 * sync log and sync state.
 *
 * A sync batch is applied in one BEGIN IMMEDIATE transaction. The ids that
 * came are put in a temporary table; rows that did not come (full sync) or
 * were listed as deleted (incremental) are removed, the rows that came are
 * removed and inserted afresh (so that codes may move between promotions
 * without tripping UNIQUE (store_id, code) halfway), keeping each row's
 * local last_used_at, and current_uses is the CMS's count plus this edge's
 * unreported, unvoided uses. promotion_usage is never written here.
 */
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "store/sqlite_internal.h"

#define PROMOTION_COLUMN_COUNT 33

/* Binds an optional integer column. */
static int bind_optional(sqlite3_stmt *stmt, int index, bool has, int64_t value)
{
    if (!has)
        return sqlite3_bind_null(stmt, index);
    return sqlite3_bind_int64(stmt, index, value);
}

static int bind_promotion(sqlite3_stmt *stmt, const struct promo_record *p,
                          const char *synced_at)
{
    int rc = SQLITE_OK;
    const char *texts[] = { p->id,
                            p->code,
                            p->name,
                            p->description,
                            p->terms_conditions,
                            p->company_id,
                            p->brand_id,
                            p->store_id,
                            p->promo_type,
                            p->apply_to,
                            p->execution_stage };
    const bool flags[] = { p->is_active, p->is_auto_apply, p->require_voucher,
                           p->member_only, p->is_stackable };

    for (int i = 0; rc == SQLITE_OK && i < 11; i++)
        rc = sqlite_bind_text(stmt, i + 1, texts[i]);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(stmt, 12, p->execution_priority);
    for (int i = 0; rc == SQLITE_OK && i < 5; i++)
        rc = sqlite3_bind_int(stmt, 13 + i, flags[i] ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = sqlite_bind_text(stmt, 18, p->start_date);
    if (rc == SQLITE_OK)
        rc = sqlite_bind_text(stmt, 19, p->end_date);
    if (rc == SQLITE_OK)
        rc = sqlite_bind_text(stmt, 20, p->time_start);
    if (rc == SQLITE_OK)
        rc = sqlite_bind_text(stmt, 21, p->time_end);
    if (rc == SQLITE_OK)
        rc = sqlite_bind_text(stmt, 22, p->valid_days_json);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(stmt, 23, p->exclude_holidays ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = sqlite_bind_text(stmt, 24, p->rules_json);
    if (rc == SQLITE_OK)
        rc = sqlite_bind_text(stmt, 25, p->scope_json);
    if (rc == SQLITE_OK)
        rc = sqlite_bind_text(stmt, 26, p->targeting_json);
    if (rc == SQLITE_OK)
        rc = bind_optional(stmt, 27, p->has_max_uses, p->max_uses);
    if (rc == SQLITE_OK)
        rc = bind_optional(stmt, 28, p->has_max_uses_per_customer,
                           p->max_uses_per_customer);
    if (rc == SQLITE_OK)
        rc = bind_optional(stmt, 29, p->has_max_uses_per_day,
                           p->max_uses_per_day);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(stmt, 30, p->current_uses);
    if (rc == SQLITE_OK)
        rc = sqlite_bind_text(stmt, 31, p->compiled_at);
    if (rc == SQLITE_OK)
        rc = sqlite_bind_text(stmt, 32, synced_at ? synced_at : p->synced_at);
    if (rc == SQLITE_OK)
        rc = sqlite_bind_text(stmt, 33, p->last_used_at);
    return rc;
}

/* Reads an optional integer column. */
static void read_optional(sqlite3_stmt *stmt, int column, bool *has,
                          int64_t *value)
{
    *has = sqlite3_column_type(stmt, column) != SQLITE_NULL;
    *value = *has ? sqlite3_column_int64(stmt, column) : 0;
}

static bool read_promotion(sqlite3_stmt *stmt, struct ep_arena *arena,
                           struct promo_record *p)
{
    const char **texts[] = { &p->id,
                             &p->code,
                             &p->name,
                             &p->description,
                             &p->terms_conditions,
                             &p->company_id,
                             &p->brand_id,
                             &p->store_id,
                             &p->promo_type,
                             &p->apply_to,
                             &p->execution_stage };
    bool *flags[] = { &p->is_active, &p->is_auto_apply, &p->require_voucher,
                      &p->member_only, &p->is_stackable };
    bool ok = true;

    memset(p, 0, sizeof(*p));
    for (int i = 0; i < 11; i++) {
        *texts[i] = sqlite_column_dup(stmt, i, arena);
        ok &= *texts[i] != NULL || sqlite3_column_type(stmt, i) == SQLITE_NULL;
    }
    p->execution_priority = sqlite3_column_type(stmt, 11) == SQLITE_NULL
                                ? 500
                                : sqlite3_column_int64(stmt, 11);
    for (int i = 0; i < 5; i++)
        *flags[i] = sqlite3_column_int(stmt, 12 + i) != 0;
    p->start_date = sqlite_column_dup(stmt, 17, arena);
    p->end_date = sqlite_column_dup(stmt, 18, arena);
    p->time_start = sqlite_column_dup(stmt, 19, arena);
    p->time_end = sqlite_column_dup(stmt, 20, arena);
    p->valid_days_json = sqlite_column_dup(stmt, 21, arena);
    p->exclude_holidays = sqlite3_column_int(stmt, 22) != 0;
    p->rules_json = sqlite_column_dup(stmt, 23, arena);
    p->scope_json = sqlite_column_dup(stmt, 24, arena);
    p->targeting_json = sqlite_column_dup(stmt, 25, arena);
    read_optional(stmt, 26, &p->has_max_uses, &p->max_uses);
    read_optional(stmt, 27, &p->has_max_uses_per_customer,
                  &p->max_uses_per_customer);
    read_optional(stmt, 28, &p->has_max_uses_per_day, &p->max_uses_per_day);
    p->current_uses = sqlite3_column_int64(stmt, 29);
    p->compiled_at = sqlite_column_dup(stmt, 30, arena);
    p->synced_at = sqlite_column_dup(stmt, 31, arena);
    p->last_used_at = sqlite_column_dup(stmt, 32, arena);
    return ok && (p->rules_json != NULL ||
                  sqlite3_column_type(stmt, 23) == SQLITE_NULL);
}

/* Grows an arena array of records by doubling; false when out of memory. */
static bool grow_array(struct ep_arena *arena, void **items, size_t size,
                       size_t *capacity, size_t count)
{
    size_t new_capacity;
    void *grown;

    if (count < *capacity)
        return true;
    new_capacity = *capacity == 0 ? 64 : *capacity * 2;
    grown = ep_arena_calloc(arena, new_capacity, size);
    if (grown == NULL)
        return false;
    if (count > 0)
        memcpy(grown, *items, count * size);
    *items = grown;
    *capacity = new_capacity;
    return true;
}

enum ep_status sqlite_promotions_load(struct store *store,
                                      struct ep_arena *arena,
                                      struct promo_record **out,
                                      size_t *count_out, struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_PROMOTIONS_LOAD, err);
    struct promo_record *items = NULL;
    size_t count = 0;
    size_t capacity = 0;
    int rc;

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (!grow_array(arena, (void **)&items, sizeof(*items), &capacity,
                        count) ||
            !read_promotion(stmt, arena, &items[count])) {
            sqlite3_reset(stmt);
            return ep_error_set(err, EP_ERR_NOMEM, NULL,
                                "database: out of memory loading promotions");
        }
        count++;
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return sqlite_fail(s, rc, "load promotions", err);
    *out = items;
    *count_out = count;
    return EP_OK;
}

enum ep_status sqlite_holidays_load(struct store *store, struct ep_arena *arena,
                                    struct holiday_record **out,
                                    size_t *count_out, struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_HOLIDAYS_LOAD, err);
    struct holiday_record *items = NULL;
    size_t count = 0;
    size_t capacity = 0;
    int rc;

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (!grow_array(arena, (void **)&items, sizeof(*items), &capacity,
                        count)) {
            sqlite3_reset(stmt);
            return ep_error_set(err, EP_ERR_NOMEM, NULL,
                                "database: out of memory loading holidays");
        }
        items[count].date = sqlite_column_dup(stmt, 0, arena);
        items[count].name = sqlite_column_dup(stmt, 1, arena);
        if (items[count].date == NULL) {
            sqlite3_reset(stmt);
            return ep_error_set(err, EP_ERR_NOMEM, NULL,
                                "database: out of memory loading holidays");
        }
        count++;
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return sqlite_fail(s, rc, "load holidays", err);
    *out = items;
    *count_out = count;
    return EP_OK;
}

/* Replaces one source's holidays; inside the caller's transaction. */
static enum ep_status replace_holidays(struct sqlite_store *s,
                                       const char *source,
                                       const struct holiday_record *holidays,
                                       size_t count, struct ep_error *err)
{
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_HOLIDAYS_DELETE_SOURCE, err);
    enum ep_status status;

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    sqlite_bind_text(stmt, 1, source);
    status = sqlite_step_done(s, stmt, "delete holidays", err);
    for (size_t i = 0; status == EP_OK && i < count; i++) {
        stmt = sqlite_stmt(s, SQ_HOLIDAY_UPSERT, err);
        if (stmt == NULL)
            return err ? err->status : EP_ERR_DB;
        sqlite_bind_text(stmt, 1, holidays[i].date);
        sqlite_bind_text(stmt, 2, holidays[i].name);
        sqlite_bind_text(stmt, 3, source);
        status = sqlite_step_done(s, stmt, "store holiday", err);
    }
    return status;
}

enum ep_status sqlite_holidays_replace(struct store *store, const char *source,
                                       const struct holiday_record *holidays,
                                       size_t count, struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    enum ep_status status;

    status = sqlite_write_open(s, "begin holidays", err);
    if (status != EP_OK)
        return status;
    status = replace_holidays(s, source, holidays, count, err);
    if (status != EP_OK) {
        sqlite_write_close(s, false, "rollback holidays", NULL);
        return status;
    }
    return sqlite_write_close(s, true, "commit holidays", err);
}

/* Runs a prepared statement with one text parameter. */
static enum ep_status run_with_text(struct sqlite_store *s,
                                    enum sqlite_stmt_id id, const char *text,
                                    const char *what, struct ep_error *err)
{
    sqlite3_stmt *stmt = sqlite_stmt(s, id, err);

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    if (text != NULL)
        sqlite_bind_text(stmt, 1, text);
    return sqlite_step_done(s, stmt, what, err);
}

/* Fills temp.sync_incoming with the ids of the batch. */
static enum ep_status collect_incoming(struct sqlite_store *s,
                                       const struct store_sync_batch *b,
                                       struct ep_error *err)
{
    enum ep_status status = sqlite_exec(
        s,
        "CREATE TEMP TABLE IF NOT EXISTS sync_incoming (id TEXT PRIMARY KEY);"
        "CREATE TEMP TABLE IF NOT EXISTS sync_keep (id TEXT PRIMARY KEY, "
        "last_used_at TEXT)",
        "create sync tables", err);

    if (status == EP_OK)
        status = run_with_text(s, SQ_INCOMING_CLEAR, NULL, "clear", err);
    if (status == EP_OK)
        status = run_with_text(s, SQ_KEEP_CLEAR, NULL, "clear", err);
    for (size_t i = 0; status == EP_OK && i < b->item_count; i++) {
        status = run_with_text(s, SQ_INCOMING_ADD, b->items[i].id,
                               "collect incoming ids", err);
        if (status == EP_ERR_CONFLICT)
            ep_error_prefix_field(err, "promotions");
    }
    return status;
}

/* Deletes what the batch removes; counts rows deleted. */
static enum ep_status delete_removed(struct sqlite_store *s,
                                     const struct store_sync_batch *b,
                                     int64_t *deleted, struct ep_error *err)
{
    enum ep_status status = EP_OK;

    *deleted = 0;
    if (b->full) {
        status = run_with_text(s, SQ_DELETE_NOT_INCOMING, b->company_id,
                               "delete promotions not sent", err);
        *deleted = sqlite3_changes64(s->db);
        return status;
    }
    for (size_t i = 0; status == EP_OK && i < b->deleted_count; i++) {
        status = run_with_text(s, SQ_DELETE_ID, b->deleted_ids[i],
                               "delete promotion", err);
        *deleted += sqlite3_changes64(s->db);
    }
    return status;
}

/* Replaces the rows that came: remember, delete, insert. */
/*
 * A batch this large writes the promotions table's own indexes afresh:
 * they are dropped before the rows go in and made again after, inside the
 * same transaction (a rollback brings them back as they were). Building an
 * index once from the finished table beats updating it row by row.
 */
#define BULK_ROWS        2000
#define BULK_INDEXES_MAX 32

struct bulk_indexes {
    char *name[BULK_INDEXES_MAX]; /* index names; owned */
    char *sql[BULK_INDEXES_MAX];  /* their CREATE INDEX statements; owned */
    size_t count;
};

static void bulk_indexes_free(struct bulk_indexes *set)
{
    for (size_t i = 0; i < set->count; i++) {
        ep_free(set->name[i]);
        ep_free(set->sql[i]);
    }
    set->count = 0;
}

/* Reads the promotions table's named indexes into set. */
static enum ep_status bulk_indexes_read(struct sqlite_store *s,
                                        struct bulk_indexes *set,
                                        struct ep_error *err)
{
    static const char query[] =
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
        "tbl_name = 'promotions' AND sql IS NOT NULL ORDER BY name";
    sqlite3_stmt *stmt = NULL;
    enum ep_status status = EP_OK;
    int rc = sqlite3_prepare_v2(s->db, query, -1, &stmt, NULL);

    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW &&
           set->count < BULK_INDEXES_MAX) {
        size_t i = set->count;
        set->name[i] = ep_strdup((const char *)sqlite3_column_text(stmt, 0));
        set->sql[i] = ep_strdup((const char *)sqlite3_column_text(stmt, 1));
        set->count++;
        if (set->name[i] == NULL || set->sql[i] == NULL)
            status = ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
        rc = status == EP_OK ? SQLITE_OK : SQLITE_NOMEM;
    }
    if (status == EP_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        status = sqlite_fail(s, rc, "read indexes", err);
    sqlite3_finalize(stmt);
    return status;
}

/* Drops the indexes read into set. */
static enum ep_status bulk_indexes_drop(struct sqlite_store *s,
                                        struct bulk_indexes *set,
                                        struct ep_error *err)
{
    enum ep_status status = bulk_indexes_read(s, set, err);

    for (size_t i = 0; status == EP_OK && i < set->count; i++) {
        char drop[256];
        snprintf(drop, sizeof(drop), "DROP INDEX \"%s\"", set->name[i]);
        status = sqlite_exec(s, drop, "drop index for a bulk sync", err);
    }
    return status;
}

static enum ep_status bulk_indexes_make(struct sqlite_store *s,
                                        struct bulk_indexes *set,
                                        struct ep_error *err)
{
    enum ep_status status = EP_OK;

    for (size_t i = 0; status == EP_OK && i < set->count; i++)
        status =
            sqlite_exec(s, set->sql[i], "make index after a bulk sync", err);
    return status;
}

static enum ep_status insert_incoming(struct sqlite_store *s,
                                      const struct store_sync_batch *b,
                                      struct ep_error *err)
{
    enum ep_status status = EP_OK;
    sqlite3_stmt *stmt;

    for (size_t i = 0; status == EP_OK && i < b->item_count; i++) {
        stmt = sqlite_stmt(s, SQ_PROMOTION_INSERT, err);
        if (stmt == NULL)
            return err ? err->status : EP_ERR_DB;
        if (bind_promotion(stmt, &b->items[i], b->synced_at) != SQLITE_OK)
            return sqlite_fail(s, SQLITE_NOMEM, "bind promotion", err);
        status = sqlite_step_done(s, stmt, "store promotion", err);
        if (status != EP_OK && err != NULL) {
            char field[48];
            snprintf(field, sizeof(field), "promotions[%zu]", i);
            ep_error_prefix_field(err, field);
        }
    }
    return status;
}

static enum ep_status write_incoming(struct sqlite_store *s,
                                     const struct store_sync_batch *b,
                                     struct ep_error *err)
{
    struct bulk_indexes indexes = { { NULL }, { NULL }, 0 };
    bool bulk = b->item_count >= BULK_ROWS;
    enum ep_status status = EP_OK;

    if (bulk)
        status = bulk_indexes_drop(s, &indexes, err);
    if (status == EP_OK)
        status =
            run_with_text(s, SQ_KEEP_FILL, NULL, "keep local columns", err);
    if (status == EP_OK)
        status = run_with_text(s, SQ_DELETE_INCOMING, NULL,
                               "replace promotions", err);
    if (status == EP_OK)
        status = insert_incoming(s, b, err);
    if (status == EP_OK && bulk)
        status = bulk_indexes_make(s, &indexes, err);
    bulk_indexes_free(&indexes);
    return status;
}

static enum ep_status save_state(struct sqlite_store *s,
                                 const struct store_sync_batch *b,
                                 struct ep_error *err)
{
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_SYNC_STATE_SAVE, err);

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    sqlite_bind_text(stmt, 1, b->company_id);
    sqlite_bind_text(stmt, 2, b->store_id);
    sqlite_bind_text(stmt, 3, b->cursor);
    sqlite_bind_text(stmt, 4, b->server_time);
    sqlite_bind_text(stmt, 5, b->synced_at);
    return sqlite_step_done(s, stmt, "save sync state", err);
}

static enum ep_status apply_batch(struct sqlite_store *s,
                                  const struct store_sync_batch *b,
                                  struct store_sync_counts *counts,
                                  struct ep_error *err)
{
    int64_t existing = 0;
    sqlite3_stmt *stmt;
    enum ep_status status = collect_incoming(s, b, err);

    if (status != EP_OK)
        return status;
    stmt = sqlite_stmt(s, SQ_INCOMING_EXISTING, err);
    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    status = sqlite_step_int(s, stmt, &existing, "count existing", err);
    if (status == EP_OK)
        status = delete_removed(s, b, &counts->deleted, err);
    if (status == EP_OK)
        status = write_incoming(s, b, err);
    if (status == EP_OK && b->replace_holidays)
        status = replace_holidays(s, "cms", b->holidays, b->holiday_count, err);
    if (status == EP_OK)
        status = save_state(s, b, err);
    counts->updated = existing;
    counts->added = (int64_t)b->item_count - existing;
    return status;
}

enum ep_status sqlite_sync_apply(struct store *store,
                                 const struct store_sync_batch *batch,
                                 struct store_sync_counts *counts_out,
                                 struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    struct store_sync_counts counts = { 0 };
    enum ep_status status;

    status = sqlite_write_open(s, "begin sync", err);
    if (status != EP_OK)
        return status;
    status = apply_batch(s, batch, &counts, err);
    if (status != EP_OK) {
        sqlite_write_close(s, false, "rollback sync", NULL);
        return status;
    }
    status = sqlite_write_close(s, true, "commit sync", err);
    if (status != EP_OK)
        return status;
    if (counts_out != NULL)
        *counts_out = counts;
    return EP_OK;
}

enum ep_status sqlite_sync_log_insert(struct store *store,
                                      const struct store_sync_log *e,
                                      struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_SYNC_LOG_INSERT, err);
    const int64_t numbers[] = { e->received, e->added, e->updated, e->deleted,
                                e->skipped };

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    sqlite_bind_text(stmt, 1, e->sync_type);
    sqlite_bind_text(stmt, 2, e->sync_status);
    for (int i = 0; i < 5; i++)
        sqlite3_bind_int64(stmt, 3 + i, numbers[i]);
    sqlite_bind_text(stmt, 8, e->company_id ? e->company_id : "");
    sqlite_bind_text(stmt, 9, e->store_id ? e->store_id : "");
    sqlite_bind_text(stmt, 10, e->error_message);
    sqlite_bind_text(stmt, 11, e->error_details);
    sqlite_bind_text(stmt, 12, e->started_at);
    sqlite_bind_text(stmt, 13, e->completed_at);
    sqlite3_bind_int64(stmt, 14, e->duration_seconds);
    sqlite3_bind_int64(stmt, 15, e->duration_ms);
    sqlite_bind_text(stmt, 16, e->cms_version);
    sqlite_bind_text(stmt, 17, e->edge_version);
    return sqlite_step_done(s, stmt, "write sync log", err);
}

static void read_sync_log(sqlite3_stmt *stmt, struct ep_arena *arena,
                          struct store_sync_log *e)
{
    int64_t *numbers[] = { &e->received, &e->added, &e->updated, &e->deleted,
                           &e->skipped };

    memset(e, 0, sizeof(*e));
    e->id = sqlite3_column_int64(stmt, 0);
    e->sync_type = sqlite_column_dup(stmt, 1, arena);
    e->sync_status = sqlite_column_dup(stmt, 2, arena);
    for (int i = 0; i < 5; i++)
        *numbers[i] = sqlite3_column_int64(stmt, 3 + i);
    e->company_id = sqlite_column_dup(stmt, 8, arena);
    e->store_id = sqlite_column_dup(stmt, 9, arena);
    e->error_message = sqlite_column_dup(stmt, 10, arena);
    e->error_details = sqlite_column_dup(stmt, 11, arena);
    e->started_at = sqlite_column_dup(stmt, 12, arena);
    e->completed_at = sqlite_column_dup(stmt, 13, arena);
    e->duration_seconds = sqlite3_column_int64(stmt, 14);
    e->duration_ms = sqlite3_column_int64(stmt, 15);
    e->cms_version = sqlite_column_dup(stmt, 16, arena);
    e->edge_version = sqlite_column_dup(stmt, 17, arena);
}

enum ep_status sqlite_sync_log_recent(struct store *store, const char *store_id,
                                      size_t limit, struct ep_arena *arena,
                                      struct store_sync_log **out,
                                      size_t *count_out, struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_SYNC_LOG_RECENT, err);
    struct store_sync_log *items;
    size_t count = 0;
    int rc;

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    items = ep_arena_calloc(arena, limit == 0 ? 1 : limit, sizeof(*items));
    if (items == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    sqlite_bind_text(stmt, 1, store_id);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)limit);
    while (count < limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        read_sync_log(stmt, arena, &items[count++]);
    sqlite3_reset(stmt);
    if (count < limit && rc != SQLITE_DONE)
        return sqlite_fail(s, rc, "read sync log", err);
    *out = items;
    *count_out = count;
    return EP_OK;
}

enum ep_status sqlite_sync_stats_get(struct store *store, const char *store_id,
                                     int days, struct store_sync_stats *out,
                                     struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_SYNC_STATS, err);
    int rc;

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    sqlite_bind_text(stmt, 1, store_id);
    sqlite3_bind_int(stmt, 2, days);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(stmt);
        return sqlite_fail(s, rc, "read sync stats", err);
    }
    out->total = sqlite3_column_int64(stmt, 0);
    out->successful = sqlite3_column_int64(stmt, 1);
    out->partial = sqlite3_column_int64(stmt, 2);
    out->failed = sqlite3_column_int64(stmt, 3);
    out->avg_duration_s = sqlite3_column_double(stmt, 4);
    out->promotions = sqlite3_column_int64(stmt, 5);
    sqlite3_reset(stmt);
    return EP_OK;
}

enum ep_status
sqlite_sync_state_get(struct store *store, const char *company_id,
                      const char *store_id, struct ep_arena *arena,
                      struct store_sync_state *out, struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_SYNC_STATE_GET, err);
    int rc;

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    memset(out, 0, sizeof(*out));
    sqlite_bind_text(stmt, 1, company_id);
    sqlite_bind_text(stmt, 2, store_id);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        out->cursor = sqlite_column_dup(stmt, 0, arena);
        out->server_time = sqlite_column_dup(stmt, 1, arena);
        out->last_success_at = sqlite_column_dup(stmt, 2, arena);
        out->data_version = sqlite3_column_int64(stmt, 3);
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_fail(s, rc, "read sync state", err);
    return EP_OK;
}

enum ep_status sqlite_data_version(struct store *store, int64_t *out,
                                   struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_DATA_VERSION, err);

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    return sqlite_step_int(s, stmt, out, "read data version", err);
}
