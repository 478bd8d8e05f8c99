/*
 * postgres_sync.c - the PostgreSQL backend's promotions, holidays, sync
 * runs, sync log and sync state. The same steps as sqlite_sync.c, so that
 * both engines give the same rows and counts.
 *
 * A sync batch is applied in one transaction holding the writers' lock
 * (pg_begin_locked), so no checkout of another edge node can bump a
 * promotion's current_uses between the moment the row is read and the
 * moment it is replaced. The ids that came go into a temporary table of
 * the session (ON COMMIT DELETE ROWS); rows that did not come (full sync)
 * or were listed as deleted (incremental) are removed, the rows that came
 * are removed and inserted afresh (so codes may move between promotions
 * without tripping UNIQUE (store_id, code) halfway), keeping each row's
 * local last_used_at, and current_uses is the CMS's count plus this edge's
 * unreported, unvoided uses. promotion_usage is never written here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_internal.h"

#define PROMOTION_PARAMS 33

/* Text forms of a promotion's parameters, $1..$33. */
struct promotion_params {
    const char *values[PROMOTION_PARAMS];
    char numbers[5][PG_INT_TEXT_MAX]; /* priority, limits, current_uses */
};

/* A time of day; "" means none to the engine and is NULL in a TIME. */
static const char *time_text(const char *value)
{
    return value != NULL && value[0] != '\0' ? value : NULL;
}

static const char *bool_text(bool value)
{
    return value ? "t" : "f";
}

/* An optional integer: its text, or NULL. */
static const char *optional_text(bool has, int64_t value,
                                 char out[PG_INT_TEXT_MAX])
{
    if (!has)
        return NULL;
    pg_int_text(value, out);
    return out;
}

static void promotion_params_fill(struct promotion_params *pp,
                                  const struct promo_record *p,
                                  const char *synced_at)
{
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
    const char **v = pp->values;

    for (int i = 0; i < 11; i++)
        v[i] = texts[i];
    pg_int_text(p->execution_priority, pp->numbers[0]);
    v[11] = pp->numbers[0];
    for (int i = 0; i < 5; i++)
        v[12 + i] = bool_text(flags[i]);
    v[17] = p->start_date;
    v[18] = p->end_date;
    v[19] = time_text(p->time_start);
    v[20] = time_text(p->time_end);
    v[21] = p->valid_days_json;
    v[22] = bool_text(p->exclude_holidays);
    v[23] = p->rules_json;
    v[24] = p->scope_json;
    v[25] = p->targeting_json;
    v[26] = optional_text(p->has_max_uses, p->max_uses, pp->numbers[1]);
    v[27] = optional_text(p->has_max_uses_per_customer,
                          p->max_uses_per_customer, pp->numbers[2]);
    v[28] = optional_text(p->has_max_uses_per_day, p->max_uses_per_day,
                          pp->numbers[3]);
    v[29] = optional_text(true, p->current_uses, pp->numbers[4]);
    v[30] = p->compiled_at;
    v[31] = synced_at ? synced_at : p->synced_at;
    v[32] = p->last_used_at;
}

/* Reads an optional integer column. */
static void read_optional(const PGresult *res, int row, int column, bool *has,
                          int64_t *value)
{
    *has = !PQgetisnull(res, row, column);
    *value = pg_value_int(res, row, column, 0);
}

static bool read_texts(const PGresult *res, int row, struct ep_arena *arena,
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
    const int later[] = { 17, 18, 19, 20, 21, 23, 24, 25, 30, 31, 32 };
    const char **later_slots[] = { &p->start_date,      &p->end_date,
                                   &p->time_start,      &p->time_end,
                                   &p->valid_days_json, &p->rules_json,
                                   &p->scope_json,      &p->targeting_json,
                                   &p->compiled_at,     &p->synced_at,
                                   &p->last_used_at };
    bool ok = true;

    for (int i = 0; i < 11; i++) {
        *texts[i] = pg_value_dup(res, row, i, arena);
        ok &= *texts[i] != NULL || PQgetisnull(res, row, i);
    }
    for (int i = 0; i < 11; i++) {
        *later_slots[i] = pg_value_dup(res, row, later[i], arena);
        ok &= *later_slots[i] != NULL || PQgetisnull(res, row, later[i]);
    }
    return ok;
}

static bool read_promotion(const PGresult *res, int row, struct ep_arena *arena,
                           struct promo_record *p)
{
    bool *flags[] = { &p->is_active, &p->is_auto_apply, &p->require_voucher,
                      &p->member_only, &p->is_stackable };

    memset(p, 0, sizeof(*p));
    p->execution_priority = pg_value_int(res, row, 11, 500);
    for (int i = 0; i < 5; i++)
        *flags[i] = pg_value_bool(res, row, 12 + i);
    p->exclude_holidays = pg_value_bool(res, row, 22);
    read_optional(res, row, 26, &p->has_max_uses, &p->max_uses);
    read_optional(res, row, 27, &p->has_max_uses_per_customer,
                  &p->max_uses_per_customer);
    read_optional(res, row, 28, &p->has_max_uses_per_day, &p->max_uses_per_day);
    p->current_uses = pg_value_int(res, row, 29, 0);
    return read_texts(res, row, arena, p);
}

enum ep_status pg_promotions_load(struct store *store, struct ep_arena *arena,
                                  struct promo_record **out, size_t *count_out,
                                  struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    PGresult *res = NULL;
    struct promo_record *items;
    size_t count;
    enum ep_status status;

    status =
        pg_query(s, PG_PROMOTIONS_LOAD, 0, NULL, &res, "load promotions", err);
    if (status != EP_OK)
        return status;
    count = (size_t)PQntuples(res);
    items = ep_arena_calloc(arena, count + 1, sizeof(*items));
    for (size_t i = 0; items != NULL && i < count; i++) {
        if (!read_promotion(res, (int)i, arena, &items[i]))
            items = NULL;
    }
    PQclear(res);
    if (items == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, NULL,
                            "database: out of memory loading promotions");
    *out = items;
    *count_out = count;
    return EP_OK;
}

enum ep_status pg_holidays_load(struct store *store, struct ep_arena *arena,
                                struct holiday_record **out, size_t *count_out,
                                struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    PGresult *res = NULL;
    struct holiday_record *items;
    size_t count;
    enum ep_status status;

    status = pg_query(s, PG_HOLIDAYS_LOAD, 0, NULL, &res, "load holidays", err);
    if (status != EP_OK)
        return status;
    count = (size_t)PQntuples(res);
    items = ep_arena_calloc(arena, count + 1, sizeof(*items));
    for (size_t i = 0; items != NULL && i < count; i++) {
        items[i].date = pg_value_dup(res, (int)i, 0, arena);
        items[i].name = pg_value_dup(res, (int)i, 1, arena);
        if (items[i].date == NULL ||
            (items[i].name == NULL && !PQgetisnull(res, (int)i, 1)))
            items = NULL;
    }
    PQclear(res);
    if (items == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, NULL,
                            "database: out of memory loading holidays");
    *out = items;
    *count_out = count;
    return EP_OK;
}

/* Replaces one source's holidays; inside the caller's transaction. */
static enum ep_status replace_holidays(struct pg_store *s, const char *source,
                                       const struct holiday_record *holidays,
                                       size_t count, struct ep_error *err)
{
    const char *values[3] = { source, NULL, NULL };
    enum ep_status status;

    status = pg_run_done(s, PG_HOLIDAYS_DELETE_SOURCE, 1, values,
                         "delete holidays", err);
    for (size_t i = 0; status == EP_OK && i < count; i++) {
        values[0] = holidays[i].date;
        values[1] = holidays[i].name;
        values[2] = source;
        status =
            pg_run_done(s, PG_HOLIDAY_UPSERT, 3, values, "store holiday", err);
    }
    return status;
}

enum ep_status pg_holidays_replace(struct store *store, const char *source,
                                   const struct holiday_record *holidays,
                                   size_t count, struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    enum ep_status status;

    status = pg_begin_locked(s, "begin holidays", err);
    if (status != EP_OK)
        return status;
    status = replace_holidays(s, source, holidays, count, err);
    if (status == EP_OK)
        return pg_commit(s, "commit holidays", err);
    pg_rollback(s);
    return status;
}

/* Creates the session's temporary tables of sync runs, once. */
static enum ep_status make_temp_tables(struct pg_store *s, struct ep_error *err)
{
    enum ep_status status;

    if (s->temp_ready)
        return EP_OK;
    status = pg_exec(s,
                     "CREATE TEMP TABLE IF NOT EXISTS sync_incoming ("
                     "id TEXT PRIMARY KEY) ON COMMIT DELETE ROWS; "
                     "CREATE TEMP TABLE IF NOT EXISTS sync_keep ("
                     "id TEXT PRIMARY KEY, last_used_at TIMESTAMPTZ) "
                     "ON COMMIT DELETE ROWS",
                     "create sync tables", err);
    s->temp_ready = status == EP_OK;
    return status;
}

/* Fills pg_temp.sync_incoming with the ids of the batch. */
static enum ep_status collect_incoming(struct pg_store *s,
                                       const struct store_sync_batch *b,
                                       struct ep_error *err)
{
    enum ep_status status;

    status = pg_run_done(s, PG_INCOMING_CLEAR, 0, NULL, "clear", err);
    if (status == EP_OK)
        status = pg_run_done(s, PG_KEEP_CLEAR, 0, NULL, "clear", err);
    for (size_t i = 0; status == EP_OK && i < b->item_count; i++) {
        status = pg_run_done(s, PG_INCOMING_ADD, 1, &b->items[i].id,
                             "collect incoming ids", err);
        if (status == EP_ERR_CONFLICT)
            ep_error_prefix_field(err, "promotions");
    }
    return status;
}

/* Deletes what the batch removes; counts rows deleted. */
static enum ep_status delete_removed(struct pg_store *s,
                                     const struct store_sync_batch *b,
                                     int64_t *deleted, struct ep_error *err)
{
    enum ep_status status = EP_OK;
    int64_t changed = 0;

    *deleted = 0;
    if (b->full)
        return pg_run_changes(s, PG_DELETE_NOT_INCOMING, 1, &b->company_id,
                              deleted, "delete promotions not sent", err);
    for (size_t i = 0; status == EP_OK && i < b->deleted_count; i++) {
        status = pg_run_changes(s, PG_DELETE_ID, 1, &b->deleted_ids[i],
                                &changed, "delete promotion", err);
        *deleted += changed;
    }
    return status;
}

/* Replaces the rows that came: remember, delete, insert. */
static enum ep_status write_incoming(struct pg_store *s,
                                     const struct store_sync_batch *b,
                                     struct ep_error *err)
{
    struct promotion_params pp;
    char field[48];
    enum ep_status status;

    status = pg_run_done(s, PG_KEEP_FILL, 0, NULL, "keep local columns", err);
    if (status == EP_OK)
        status = pg_run_done(s, PG_DELETE_INCOMING, 0, NULL,
                             "replace promotions", err);
    for (size_t i = 0; status == EP_OK && i < b->item_count; i++) {
        promotion_params_fill(&pp, &b->items[i], b->synced_at);
        status = pg_run_done(s, PG_PROMOTION_INSERT, PROMOTION_PARAMS,
                             pp.values, "store promotion", err);
        if (status != EP_OK) {
            snprintf(field, sizeof(field), "promotions[%zu]", i);
            ep_error_prefix_field(err, field);
        }
    }
    return status;
}

static enum ep_status save_state(struct pg_store *s,
                                 const struct store_sync_batch *b,
                                 struct ep_error *err)
{
    const char *values[5] = { b->company_id, b->store_id, b->cursor,
                              b->server_time, b->synced_at };

    return pg_run_done(s, PG_SYNC_STATE_SAVE, 5, values, "save sync state",
                       err);
}

static enum ep_status apply_batch(struct pg_store *s,
                                  const struct store_sync_batch *b,
                                  struct store_sync_counts *counts,
                                  struct ep_error *err)
{
    int64_t existing = 0;
    enum ep_status status = collect_incoming(s, b, err);

    if (status == EP_OK)
        status = pg_run_int(s, PG_INCOMING_EXISTING, 0, NULL, &existing,
                            "count existing", err);
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

enum ep_status pg_sync_apply(struct store *store,
                             const struct store_sync_batch *batch,
                             struct store_sync_counts *counts_out,
                             struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    struct store_sync_counts counts = { 0 };
    enum ep_status status;

    status = pg_begin_locked(s, "begin sync", err);
    if (status != EP_OK)
        return status;
    status = make_temp_tables(s, err);
    if (status == EP_OK)
        status = apply_batch(s, batch, &counts, err);
    if (status == EP_OK)
        status = pg_commit(s, "commit sync", err);
    else
        pg_rollback(s);
    if (status != EP_OK) {
        s->temp_ready = false;
        return status;
    }
    if (counts_out != NULL)
        *counts_out = counts;
    return EP_OK;
}

/* ---- sync log and state ----------------------------------------------- */

enum ep_status pg_sync_log_insert(struct store *store,
                                  const struct store_sync_log *e,
                                  struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    const int64_t numbers[] = { e->received,   e->added,   e->updated,
                                e->deleted,    e->skipped, e->duration_seconds,
                                e->duration_ms };
    char texts[7][PG_INT_TEXT_MAX];
    const char *values[17] = {
        e->sync_type,
        e->sync_status,
        texts[0],
        texts[1],
        texts[2],
        texts[3],
        texts[4],
        e->company_id ? e->company_id : "",
        e->store_id ? e->store_id : "",
        e->error_message,
        e->error_details,
        e->started_at,
        e->completed_at,
        texts[5],
        texts[6],
        e->cms_version,
        e->edge_version,
    };

    for (int i = 0; i < 7; i++)
        pg_int_text(numbers[i], texts[i]);
    return pg_run_done(s, PG_SYNC_LOG_INSERT, 17, values, "write sync log",
                       err);
}

static void read_sync_log(const PGresult *res, int row, struct ep_arena *arena,
                          struct store_sync_log *e)
{
    int64_t *numbers[] = { &e->received, &e->added, &e->updated, &e->deleted,
                           &e->skipped };
    const char **texts[] = { &e->company_id,    &e->store_id,
                             &e->error_message, &e->error_details,
                             &e->started_at,    &e->completed_at };

    memset(e, 0, sizeof(*e));
    e->id = pg_value_int(res, row, 0, 0);
    e->sync_type = pg_value_dup(res, row, 1, arena);
    e->sync_status = pg_value_dup(res, row, 2, arena);
    for (int i = 0; i < 5; i++)
        *numbers[i] = pg_value_int(res, row, 3 + i, 0);
    for (int i = 0; i < 6; i++)
        *texts[i] = pg_value_dup(res, row, 8 + i, arena);
    e->duration_seconds = pg_value_int(res, row, 14, 0);
    e->duration_ms = pg_value_int(res, row, 15, 0);
    e->cms_version = pg_value_dup(res, row, 16, arena);
    e->edge_version = pg_value_dup(res, row, 17, arena);
}

enum ep_status pg_sync_log_recent(struct store *store, const char *store_id,
                                  size_t limit, struct ep_arena *arena,
                                  struct store_sync_log **out,
                                  size_t *count_out, struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    char limit_text[PG_INT_TEXT_MAX];
    const char *values[2] = { store_id, limit_text };
    struct store_sync_log *items;
    PGresult *res = NULL;
    size_t count;
    enum ep_status status;

    items = ep_arena_calloc(arena, limit == 0 ? 1 : limit, sizeof(*items));
    if (items == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    pg_int_text((int64_t)limit, limit_text);
    status =
        pg_query(s, PG_SYNC_LOG_RECENT, 2, values, &res, "read sync log", err);
    if (status != EP_OK)
        return status;
    count = (size_t)PQntuples(res);
    for (size_t i = 0; i < count && i < limit; i++)
        read_sync_log(res, (int)i, arena, &items[i]);
    PQclear(res);
    *out = items;
    *count_out = count < limit ? count : limit;
    return EP_OK;
}

enum ep_status pg_sync_stats_get(struct store *store, const char *store_id,
                                 int days, struct store_sync_stats *out,
                                 struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    char days_text[PG_INT_TEXT_MAX];
    const char *values[2] = { store_id, days_text };
    PGresult *res = NULL;
    enum ep_status status;

    pg_int_text(days, days_text);
    status =
        pg_query(s, PG_SYNC_STATS, 2, values, &res, "read sync stats", err);
    if (status != EP_OK)
        return status;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ep_error_set(err, EP_ERR_DB, NULL,
                            "database: read sync stats: no row");
    }
    out->total = pg_value_int(res, 0, 0, 0);
    out->successful = pg_value_int(res, 0, 1, 0);
    out->partial = pg_value_int(res, 0, 2, 0);
    out->failed = pg_value_int(res, 0, 3, 0);
    out->avg_duration_s = strtod(PQgetvalue(res, 0, 4), NULL);
    out->promotions = pg_value_int(res, 0, 5, 0);
    PQclear(res);
    return EP_OK;
}

enum ep_status pg_sync_state_get(struct store *store, const char *company_id,
                                 const char *store_id, struct ep_arena *arena,
                                 struct store_sync_state *out,
                                 struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    const char *values[2] = { company_id, store_id };
    PGresult *res = NULL;
    enum ep_status status;

    memset(out, 0, sizeof(*out));
    status =
        pg_query(s, PG_SYNC_STATE_GET, 2, values, &res, "read sync state", err);
    if (status != EP_OK)
        return status;
    if (PQntuples(res) > 0) {
        out->cursor = pg_value_dup(res, 0, 0, arena);
        out->server_time = pg_value_dup(res, 0, 1, arena);
        out->last_success_at = pg_value_dup(res, 0, 2, arena);
        out->data_version = pg_value_int(res, 0, 3, 0);
    }
    PQclear(res);
    return EP_OK;
}

enum ep_status pg_data_version(struct store *store, int64_t *out,
                               struct ep_error *err)
{
    return pg_run_int(pg_store_of(store), PG_DATA_VERSION, 0, NULL, out,
                      "read data version", err);
}
