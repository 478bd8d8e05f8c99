/*
 * store.c - chooses the backend from the db URL and dispatches the store
 * API through its table. Arguments are checked here once for both engines.
 */
#include <assert.h>
#include <string.h>

#include "store/internal.h"

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

enum ep_status store_migrate(struct store *store, int target,
                             int *applied_out, struct ep_error *err)
{
    return store->ops->migrate(store, target, applied_out, err);
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
    return store->ops->holidays_replace(store, source, holidays, count, err);
}

enum ep_status store_sync_apply(struct store *store,
                                const struct store_sync_batch *batch,
                                struct store_sync_counts *counts_out,
                                struct ep_error *err)
{
    assert(batch != NULL && batch->company_id != NULL &&
           batch->store_id != NULL && batch->synced_at != NULL);
    return store->ops->sync_apply(store, batch, counts_out, err);
}

enum ep_status store_sync_log_insert(struct store *store,
                                     const struct store_sync_log *entry,
                                     struct ep_error *err)
{
    assert(entry != NULL && entry->sync_type != NULL &&
           entry->sync_status != NULL && entry->started_at != NULL);
    return store->ops->sync_log_insert(store, entry, err);
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

enum ep_status store_sync_state_get(struct store *store,
                                    const char *company_id,
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

enum ep_status store_usage_counts_get(struct store *store,
                                      const char *promotion_id,
                                      const char *usage_date,
                                      const char *customer_id,
                                      struct store_usage_counts *out,
                                      struct ep_error *err)
{
    assert(promotion_id != NULL && usage_date != NULL);
    return store->ops->usage_counts_get(store, promotion_id, usage_date,
                                        customer_id, out, err);
}

enum ep_status store_usage_insert(struct store *store,
                                  const struct store_usage_row *row,
                                  struct ep_error *err)
{
    assert(row != NULL && row->promotion_id != NULL &&
           row->transaction_id != NULL && row->usage_date != NULL);
    return store->ops->usage_insert(store, row, err);
}

enum ep_status store_transaction_get(struct store *store,
                                     const char *transaction_id,
                                     struct ep_arena *arena,
                                     struct store_transaction *out,
                                     bool *found, struct ep_error *err)
{
    return store->ops->transaction_get(store, transaction_id, arena, out,
                                       found, err);
}

enum ep_status store_transaction_insert(struct store *store,
                                        const struct store_transaction *txn,
                                        struct ep_error *err)
{
    assert(txn != NULL && txn->transaction_id != NULL &&
           txn->response_json != NULL);
    return store->ops->transaction_insert(store, txn, err);
}

enum ep_status store_transaction_void(struct store *store,
                                      const char *transaction_id,
                                      const char *voided_at,
                                      const char *void_response_json,
                                      int64_t *voided_rows_out,
                                      struct ep_error *err)
{
    return store->ops->transaction_void(store, transaction_id, voided_at,
                                        void_response_json, voided_rows_out,
                                        err);
}

enum ep_status store_usage_summary_get(struct store *store,
                                       const char *promotion_id,
                                       const char *usage_date,
                                       const char *customer_id,
                                       struct store_usage_summary *out,
                                       struct ep_error *err)
{
    return store->ops->usage_summary_get(store, promotion_id, usage_date,
                                         customer_id, out, err);
}

enum ep_status store_integrity_check(struct store *store, struct ep_error *err)
{
    return store->ops->integrity_check(store, err);
}
