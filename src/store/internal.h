/*
 * internal.h - what the files of the store part share: the backend table
 * that store.c dispatches through, and the migration lists.
 *
 * A backend embeds struct store as its first member and fills a
 * struct store_ops with its functions; store.c checks arguments and calls
 * through the table. Nothing outside src/store includes this file.
 */
#ifndef EP_STORE_INTERNAL_H
#define EP_STORE_INTERNAL_H

#include "store/store.h"

/* One forward-only schema step. */
struct store_migration {
    int version;             /* 1, 2, ...: applied in order */
    const char *description; /* for people */
    const char *sql;         /* statements, separated by ';' */
};

/* The migration lists of the two engines. */
const struct store_migration *store_sqlite_migrations(size_t *count_out);
const struct store_migration *store_postgres_migrations(size_t *count_out);

struct store_ops {
    const char *engine;
    void (*close)(struct store *store);
    enum ep_status (*schema_version)(struct store *store, int *version_out,
                                     struct ep_error *err);
    const struct store_migration *(*migrations)(size_t *count_out);
    enum ep_status (*migration_table_ensure)(struct store *store,
                                             struct ep_error *err);
    enum ep_status (*migration_apply)(struct store *store,
                                      const struct store_migration *m,
                                      struct ep_error *err);
    enum ep_status (*promotions_load)(struct store *store,
                                      struct ep_arena *arena,
                                      struct promo_record **out,
                                      size_t *count_out, struct ep_error *err);
    enum ep_status (*holidays_load)(struct store *store, struct ep_arena *arena,
                                    struct holiday_record **out,
                                    size_t *count_out, struct ep_error *err);
    enum ep_status (*holidays_replace)(struct store *store, const char *source,
                                       const struct holiday_record *holidays,
                                       size_t count, struct ep_error *err);
    enum ep_status (*sync_apply)(struct store *store,
                                 const struct store_sync_batch *batch,
                                 struct store_sync_counts *counts_out,
                                 struct ep_error *err);
    enum ep_status (*sync_log_insert)(struct store *store,
                                      const struct store_sync_log *entry,
                                      struct ep_error *err);
    enum ep_status (*sync_log_recent)(struct store *store, const char *store_id,
                                      size_t limit, struct ep_arena *arena,
                                      struct store_sync_log **out,
                                      size_t *count_out, struct ep_error *err);
    enum ep_status (*sync_stats_get)(struct store *store, const char *store_id,
                                     int days, struct store_sync_stats *out,
                                     struct ep_error *err);
    enum ep_status (*sync_state_get)(struct store *store,
                                     const char *company_id,
                                     const char *store_id,
                                     struct ep_arena *arena,
                                     struct store_sync_state *out,
                                     struct ep_error *err);
    enum ep_status (*data_version)(struct store *store, int64_t *out,
                                   struct ep_error *err);
    enum ep_status (*write_begin)(struct store *store, struct ep_error *err);
    enum ep_status (*write_commit)(struct store *store, struct ep_error *err);
    void (*write_rollback)(struct store *store);
    enum ep_status (*read_begin)(struct store *store, struct ep_error *err);
    void (*read_end)(struct store *store);
    enum ep_status (*usage_counts_get)(struct store *store,
                                       const char *promotion_id,
                                       const char *usage_date,
                                       const char *customer_id,
                                       struct store_usage_counts *out,
                                       struct ep_error *err);
    enum ep_status (*usage_insert)(struct store *store,
                                   const struct store_usage_row *row,
                                   struct ep_error *err);
    enum ep_status (*transaction_get)(struct store *store,
                                      const char *transaction_id,
                                      struct ep_arena *arena,
                                      struct store_transaction *out,
                                      bool *found, struct ep_error *err);
    enum ep_status (*transaction_insert)(struct store *store,
                                         const struct store_transaction *txn,
                                         struct ep_error *err);
    enum ep_status (*transaction_void)(struct store *store,
                                       const char *transaction_id,
                                       const char *voided_at,
                                       const char *void_response_json,
                                       int64_t *voided_rows_out,
                                       struct ep_error *err);
    enum ep_status (*usage_summary_get)(struct store *store,
                                        const char *promotion_id,
                                        const char *usage_date,
                                        const char *customer_id,
                                        struct store_usage_summary *out,
                                        struct ep_error *err);
    enum ep_status (*integrity_check)(struct store *store,
                                      struct ep_error *err);
    enum ep_status (*backup_to)(struct store *store, const char *path,
                                struct store_backup_report *report_out,
                                struct ep_error *err);
    enum ep_status (*restore_from)(struct store *store, const char *path,
                                   struct ep_error *err);
};

struct store {
    const struct store_ops *ops; /* the backend; never NULL */
};

/* Opens the SQLite backend on a file path. */
enum ep_status store_sqlite_open(const char *path,
                                 const struct store_options *options,
                                 struct store **out, struct ep_error *err);

/* Opens the PostgreSQL backend on a libpq connection URI. */
enum ep_status store_postgres_open(const char *conninfo,
                                   const struct store_options *options,
                                   struct store **out, struct ep_error *err);

#endif
