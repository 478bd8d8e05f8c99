/*
 * store.c - chooses the backend from the db URL and dispatches the store
 * API through its table. Arguments are checked here once for both engines:
 * text longer than its column in the seed note (VARCHAR(n), counted in
 * characters) and dates or times that are not "YYYY-MM-DD" / "HH:MM:SS"
 * are refused with EP_ERR_INVALID before either engine sees them, so that
 * SQLite, which would store them, and PostgreSQL, which would not, answer
 * alike.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "common/localtime.h"
#include "store/internal.h"

/* A text argument and the width of its column. */
struct width_check {
    const char *field; /* the column, for the error */
    const char *value; /* may be NULL */
    size_t max;        /* characters */
};

/* Characters of UTF-8 text: bytes that do not continue a sequence. */
static size_t utf8_length(const char *text)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

static enum ep_status check_widths(const struct width_check *checks,
                                   size_t count, const char *prefix,
                                   struct ep_error *err)
{
    for (size_t i = 0; i < count; i++) {
        if (checks[i].value == NULL ||
            utf8_length(checks[i].value) <= checks[i].max)
            continue;
        ep_error_set(err, EP_ERR_INVALID, checks[i].field,
                     "%s: longer than %zu characters", checks[i].field,
                     checks[i].max);
        if (prefix != NULL)
            ep_error_prefix_field(err, prefix);
        return EP_ERR_INVALID;
    }
    return EP_OK;
}

static enum ep_status check_date(const char *field, const char *value,
                                 struct ep_error *err)
{
    int32_t day;

    if (value == NULL || ep_date_parse(value, &day) == EP_OK)
        return EP_OK;
    return ep_error_set(err, EP_ERR_INVALID, field,
                        "%s: expected a date YYYY-MM-DD", field);
}

static enum ep_status check_clock(const char *field, const char *value,
                                  struct ep_error *err)
{
    int32_t seconds;

    if (value == NULL || value[0] == '\0' ||
        ep_clock_parse(value, &seconds) == EP_OK)
        return EP_OK;
    return ep_error_set(err, EP_ERR_INVALID, field,
                        "%s: expected a time HH:MM:SS", field);
}

static enum ep_status check_promotion(const struct promo_record *p,
                                      size_t index, struct ep_error *err)
{
    const struct width_check checks[] = {
        { "id", p->id, 36 },
        { "code", p->code, 50 },
        { "name", p->name, 255 },
        { "company_id", p->company_id, 36 },
        { "brand_id", p->brand_id, 36 },
        { "store_id", p->store_id, 36 },
        { "promo_type", p->promo_type, 50 },
        { "apply_to", p->apply_to, 20 },
        { "execution_stage", p->execution_stage, 20 },
    };
    char prefix[48];
    enum ep_status status;

    snprintf(prefix, sizeof(prefix), "promotions[%zu]", index);
    status =
        check_widths(checks, sizeof(checks) / sizeof(checks[0]), NULL, err);
    if (status == EP_OK)
        status = check_date("start_date", p->start_date, err);
    if (status == EP_OK)
        status = check_date("end_date", p->end_date, err);
    if (status == EP_OK)
        status = check_clock("time_start", p->time_start, err);
    if (status == EP_OK)
        status = check_clock("time_end", p->time_end, err);
    if (status != EP_OK)
        ep_error_prefix_field(err, prefix);
    return status;
}

static enum ep_status check_holidays(const struct holiday_record *holidays,
                                     size_t count, struct ep_error *err)
{
    char prefix[48];
    enum ep_status status = EP_OK;

    for (size_t i = 0; status == EP_OK && i < count; i++) {
        struct width_check name = { "name", holidays[i].name, 255 };
        if (holidays[i].date == NULL)
            status =
                ep_error_set(err, EP_ERR_INVALID, "date", "date: required");
        else
            status = check_date("date", holidays[i].date, err);
        if (status == EP_OK)
            status = check_widths(&name, 1, NULL, err);
        snprintf(prefix, sizeof(prefix), "holidays[%zu]", i);
        if (status != EP_OK)
            ep_error_prefix_field(err, prefix);
    }
    return status;
}

static enum ep_status check_batch(const struct store_sync_batch *b,
                                  struct ep_error *err)
{
    enum ep_status status = EP_OK;

    for (size_t i = 0; status == EP_OK && i < b->item_count; i++)
        status = check_promotion(&b->items[i], i, err);
    if (status == EP_OK && b->replace_holidays)
        status = check_holidays(b->holidays, b->holiday_count, err);
    return status;
}

static enum ep_status check_usage_row(const struct store_usage_row *r,
                                      struct ep_error *err)
{
    const struct width_check checks[] = {
        { "promotion_id", r->promotion_id, 36 },
        { "promotion_code", r->promotion_code, 50 },
        { "transaction_id", r->transaction_id, 64 },
        { "order_number", r->order_number, 50 },
        { "customer_id", r->customer_id, 36 },
        { "customer_phone", r->customer_phone, 20 },
        { "member_tier", r->member_tier, 50 },
        { "brand_id", r->brand_id, 36 },
        { "store_id", r->store_id, 36 },
    };
    enum ep_status status;

    status =
        check_widths(checks, sizeof(checks) / sizeof(checks[0]), NULL, err);
    if (status == EP_OK)
        status = check_date("usage_date", r->usage_date, err);
    return status;
}

static enum ep_status check_transaction(const struct store_transaction *t,
                                        struct ep_error *err)
{
    const struct width_check checks[] = {
        { "transaction_id", t->transaction_id, 64 },
        { "order_number", t->order_number, 50 },
        { "store_id", t->store_id, 36 },
        { "brand_id", t->brand_id, 36 },
    };
    enum ep_status status;

    status =
        check_widths(checks, sizeof(checks) / sizeof(checks[0]), NULL, err);
    if (status == EP_OK)
        status = check_date("usage_date", t->usage_date, err);
    return status;
}

/*
 * Copies text cut to max characters (on a character boundary) into out,
 * which holds 4 * max + 1 bytes; returns out, or text when it fits.
 */
static const char *cut_text(const char *text, size_t max, char *out)
{
    size_t chars = 0;
    size_t i = 0;

    if (text == NULL || utf8_length(text) <= max)
        return text;
    for (; text[i] != '\0'; i++) {
        if (((unsigned char)text[i] & 0xC0) != 0x80 && chars++ == max)
            break;
    }
    memcpy(out, text, i);
    out[i] = '\0';
    return out;
}

int store_schema_latest(void)
{
    size_t sqlite_count;
    size_t postgres_count;

    store_sqlite_migrations(&sqlite_count);
    store_postgres_migrations(&postgres_count);
    assert(sqlite_count == postgres_count);
    return (int)sqlite_count;
}

static bool url_is_postgres(const char *url)
{
    return strncmp(url, "postgresql://", 13) == 0 ||
           strncmp(url, "postgres://", 11) == 0;
}

enum ep_status store_open(const char *url, const struct store_options *options,
                          struct store **out, struct ep_error *err)
{
    static const struct store_options defaults = { 0 };

    assert(url != NULL && out != NULL);
    if (options == NULL)
        options = &defaults;
    if (url_is_postgres(url))
        return store_postgres_open(url, options, out, err);
    if (strncmp(url, "sqlite:", 7) == 0)
        url += 7;
    if (url[0] == '\0')
        return ep_error_set(err, EP_ERR_CONFIG, "db",
                            "db: empty path (expected a file path, "
                            "sqlite:PATH or postgresql://...)");
    return store_sqlite_open(url, options, out, err);
}

void store_close(struct store *store)
{
    if (store == NULL)
        return;
    store->ops->close(store);
}

const char *store_engine_name(const struct store *store)
{
    return store->ops->engine;
}

enum ep_status store_schema_version(struct store *store, int *version_out,
                                    struct ep_error *err)
{
    return store->ops->schema_version(store, version_out, err);
}

/* Applies the migrations after current up to target, in the open
 * transaction; counts them in *applied. */
static enum ep_status run_migrations(struct store *store, int target,
                                     int *applied, struct ep_error *err)
{
    size_t count;
    const struct store_migration *list = store->ops->migrations(&count);
    int current = 0;
    enum ep_status status = store->ops->schema_version(store, &current, err);

    if (status != EP_OK)
        return status;
    if (current > (int)count)
        return ep_error_set(err, EP_ERR_SCHEMA_NEWER, "db",
                            "database schema version %d is newer than this "
                            "program's %zu: upgrade edgepromo",
                            current, count);
    status = store->ops->migration_table_ensure(store, err);
    for (size_t i = 0; status == EP_OK && i < count; i++) {
        if (list[i].version <= current || list[i].version > target)
            continue;
        status = store->ops->migration_apply(store, &list[i], err);
        if (status == EP_OK)
            (*applied)++;
    }
    return status;
}

enum ep_status store_migrate(struct store *store, int target, int *applied_out,
                             struct ep_error *err)
{
    int applied = 0;
    enum ep_status status;

    if (target <= 0)
        target = store_schema_latest();
    status = store->ops->write_begin(store, err);
    if (status != EP_OK)
        return status;
    status = run_migrations(store, target, &applied, err);
    if (status == EP_OK && applied > 0)
        status = store->ops->write_commit(store, err);
    else
        store->ops->write_rollback(store);
    if (status != EP_OK)
        applied = 0;
    if (applied_out != NULL)
        *applied_out = applied;
    return status;
}

enum ep_status store_promotions_load(struct store *store,
                                     struct ep_arena *arena,
                                     struct promo_record **out,
                                     size_t *count_out, struct ep_error *err)
{
    return store->ops->promotions_load(store, arena, out, count_out, err);
}

enum ep_status store_holidays_load(struct store *store, struct ep_arena *arena,
                                   struct holiday_record **out,
                                   size_t *count_out, struct ep_error *err)
{
    return store->ops->holidays_load(store, arena, out, count_out, err);
}

enum ep_status store_holidays_replace(struct store *store, const char *source,
                                      const struct holiday_record *holidays,
                                      size_t count, struct ep_error *err)
{
    assert(source != NULL);
    if (check_holidays(holidays, count, err) != EP_OK)
        return EP_ERR_INVALID;
    return store->ops->holidays_replace(store, source, holidays, count, err);
}

enum ep_status store_sync_apply(struct store *store,
                                const struct store_sync_batch *batch,
                                struct store_sync_counts *counts_out,
                                struct ep_error *err)
{
    assert(batch != NULL && batch->company_id != NULL &&
           batch->store_id != NULL && batch->synced_at != NULL);
    if (check_batch(batch, err) != EP_OK)
        return EP_ERR_INVALID;
    return store->ops->sync_apply(store, batch, counts_out, err);
}

enum ep_status store_sync_log_insert(struct store *store,
                                     const struct store_sync_log *entry,
                                     struct ep_error *err)
{
    struct store_sync_log copy;
    char cms_version[4 * 20 + 1];
    char edge_version[4 * 20 + 1];

    assert(entry != NULL && entry->sync_type != NULL &&
           entry->sync_status != NULL && entry->started_at != NULL);
    copy = *entry;
    copy.cms_version = cut_text(entry->cms_version, 20, cms_version);
    copy.edge_version = cut_text(entry->edge_version, 20, edge_version);
    return store->ops->sync_log_insert(store, &copy, err);
}

enum ep_status store_sync_log_recent(struct store *store, const char *store_id,
                                     size_t limit, struct ep_arena *arena,
                                     struct store_sync_log **out,
                                     size_t *count_out, struct ep_error *err)
{
    return store->ops->sync_log_recent(store, store_id, limit, arena, out,
                                       count_out, err);
}

enum ep_status store_sync_stats_get(struct store *store, const char *store_id,
                                    int days, struct store_sync_stats *out,
                                    struct ep_error *err)
{
    return store->ops->sync_stats_get(store, store_id, days, out, err);
}

enum ep_status store_sync_state_get(struct store *store, const char *company_id,
                                    const char *store_id,
                                    struct ep_arena *arena,
                                    struct store_sync_state *out,
                                    struct ep_error *err)
{
    return store->ops->sync_state_get(store, company_id, store_id, arena, out,
                                      err);
}

enum ep_status store_data_version(struct store *store, int64_t *out,
                                  struct ep_error *err)
{
    return store->ops->data_version(store, out, err);
}

enum ep_status store_write_begin(struct store *store, struct ep_error *err)
{
    return store->ops->write_begin(store, err);
}

enum ep_status store_write_commit(struct store *store, struct ep_error *err)
{
    return store->ops->write_commit(store, err);
}

void store_write_rollback(struct store *store)
{
    store->ops->write_rollback(store);
}

enum ep_status store_read_begin(struct store *store, struct ep_error *err)
{
    return store->ops->read_begin(store, err);
}

void store_read_end(struct store *store)
{
    store->ops->read_end(store);
}

enum ep_status
store_usage_counts_get(struct store *store, const char *promotion_id,
                       const char *usage_date, const char *customer_id,
                       struct store_usage_counts *out, struct ep_error *err)
{
    assert(promotion_id != NULL);
    return store->ops->usage_counts_get(store, promotion_id, usage_date,
                                        customer_id, out, err);
}

enum ep_status store_usage_insert(struct store *store,
                                  const struct store_usage_row *row,
                                  struct ep_error *err)
{
    assert(row != NULL && row->promotion_id != NULL &&
           row->transaction_id != NULL && row->usage_date != NULL);
    if (check_usage_row(row, err) != EP_OK)
        return EP_ERR_INVALID;
    return store->ops->usage_insert(store, row, err);
}

enum ep_status store_transaction_get(struct store *store,
                                     const char *transaction_id,
                                     struct ep_arena *arena,
                                     struct store_transaction *out, bool *found,
                                     struct ep_error *err)
{
    return store->ops->transaction_get(store, transaction_id, arena, out, found,
                                       err);
}

enum ep_status store_transaction_insert(struct store *store,
                                        const struct store_transaction *txn,
                                        struct ep_error *err)
{
    assert(txn != NULL && txn->transaction_id != NULL &&
           txn->response_json != NULL);
    if (check_transaction(txn, err) != EP_OK)
        return EP_ERR_INVALID;
    return store->ops->transaction_insert(store, txn, err);
}

enum ep_status
store_transaction_void(struct store *store, const char *transaction_id,
                       const char *voided_at, const char *void_response_json,
                       int64_t *voided_rows_out, struct ep_error *err)
{
    return store->ops->transaction_void(store, transaction_id, voided_at,
                                        void_response_json, voided_rows_out,
                                        err);
}

enum ep_status
store_usage_summary_get(struct store *store, const char *promotion_id,
                        const char *usage_date, const char *customer_id,
                        struct store_usage_summary *out, struct ep_error *err)
{
    return store->ops->usage_summary_get(store, promotion_id, usage_date,
                                         customer_id, out, err);
}

enum ep_status store_integrity_check(struct store *store, struct ep_error *err)
{
    return store->ops->integrity_check(store, err);
}
