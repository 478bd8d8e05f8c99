/*
 * sync.h - moving promotions from the CMS into the store, and from the
 * store into the engine.
 *
 * Owns: the CMS client (libcurl), the sync payload parser, sync runs (full,
 * incremental, from a file) with their log rows, the scheduler of `serve`,
 * and loading the engine's snapshot from the store. Does not own the
 * schema (store) or the meaning of a promotion (engine): every promotion
 * is validated by the engine's compiler, and written only through
 * store_sync_apply, in one transaction per run. docs/sync.md has the
 * protocol, the failure handling and the backoff schedule.
 *
 * Thread-safety: a run uses only what it is given (one store connection,
 * one thread at a time, as always); runs on different connections may go
 * in parallel (the store serializes their transactions). The scheduler
 * has its own thread and connection; its functions may be called from any
 * thread. Call sync_global_init (or create the scheduler) before starting
 * other threads that sync.
 */
#ifndef EP_SYNC_H
#define EP_SYNC_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/config.h"
#include "common/error.h"
#include "common/localtime.h"
#include "engine/engine.h"
#include "store/store.h"

/* ---- payloads ----------------------------------------------------------- */

/*
 * Reads one promotion P of the CMS API (the seed's columns as keys, rules,
 * scope and targeting as objects, valid_days as an array) into a record
 * whose strings live in arena. Only the shape is checked here (types,
 * required columns); the meaning is checked by engine_promotion_validate.
 * Errors are EP_ERR_INVALID naming the key. This is the same reader the
 * sync bodies go through, for callers that hold a jansson object.
 */
enum ep_status sync_promotion_from_json(const json_t *object,
                                        struct ep_arena *arena,
                                        struct promo_record *out,
                                        struct ep_error *err);

/* A promotion (or holiday) of a payload that is left out, and why. */
struct sync_rejection {
    size_t index;       /* in payload->promotions; SIZE_MAX for a holiday */
    const char *id;     /* the promotion's id, or NULL when unknown */
    const char *field;  /* "rules.tiers[1].min_purchase", or NULL */
    const char *reason; /* for people: "expected a percent ..." */
};

/*
 * A full or incremental sync body, parsed. Strings point into the text
 * that was parsed (which the parser changes in place) or into the arena;
 * both must outlive the payload. Nothing to free.
 */
struct sync_payload {
    struct promo_record *promotions;   /* full "promotions" or incremental
                                        "updated", in the body's order */
    size_t promotion_count;            /* entries in promotions */
    const char **deleted_ids;          /* incremental "deleted" */
    size_t deleted_count;              /* entries in deleted_ids */
    struct holiday_record *holidays;   /* full only; the valid ones */
    size_t holiday_count;              /* entries in holidays */
    bool has_holidays;                 /* "holidays" was present */
    struct sync_rejection *rejections; /* promotions of the wrong shape and
                                          bad holidays; grows in arena */
    size_t rejection_count;            /* entries used in rejections */
    size_t rejection_capacity;         /* entries allocated */
    const char *sync_token;            /* the CMS's cursor, or NULL */
    const char *server_time;           /* the CMS's clock, or NULL */
};

/*
 * Parses a full-sync body {"<store_id>": {"promotions": [...],
 * "holidays"?, "sync_token"?, "server_time"?}} for store_id, in place: text
 * (length bytes and a NUL after them) is changed and must outlive *out. A
 * promotion of the wrong shape does not fail the parse: it is listed in
 * out->rejections. EP_ERR_INVALID when the body is not JSON ("line 3,
 * column 14") or not that shape (the store's object missing, promotions
 * not an array, ...); EP_ERR_NOMEM.
 */
enum ep_status sync_payload_parse_full(char *text, size_t length,
                                       const char *store_id,
                                       struct ep_arena *arena,
                                       struct sync_payload *out,
                                       struct ep_error *err);

/*
 * Parses an incremental body {"updated": [...], "deleted": ["id"...],
 * "sync_token"?, "server_time"?} in place, like sync_payload_parse_full.
 */
enum ep_status sync_payload_parse_incremental(char *text, size_t length,
                                              struct ep_arena *arena,
                                              struct sync_payload *out,
                                              struct ep_error *err);

/*
 * Appends a rejection to payload (strings copied into arena). field and
 * id may be NULL. EP_ERR_NOMEM.
 */
enum ep_status sync_payload_reject(struct sync_payload *payload,
                                   struct ep_arena *arena, size_t index,
                                   const char *id, const char *field,
                                   const char *reason);

/*
 * Makes libcurl ready. Runs do it on first use; call it from main before
 * starting threads that sync, since libcurl's global set-up is not
 * thread-safe on every platform. Any number of calls is fine.
 */
void sync_global_init(void);

/* ---- runs ---------------------------------------------------------------- */

/* What a run asks the CMS for. */
enum sync_kind {
    SYNC_FULL,        /* everything for the store */
    SYNC_INCREMENTAL, /* changes since the saved cursor */
    SYNC_MANUAL       /* a full-sync body from a file (sync --from) */
};

/* "full", "incremental" or "manual": the sync_type column. */
const char *sync_kind_name(enum sync_kind kind);

/* How a run ended: the sync_status column. */
enum sync_outcome {
    SYNC_SUCCESS, /* everything received was applied */
    SYNC_PARTIAL, /* applied, but some promotions were skipped */
    SYNC_FAILED   /* nothing changed */
};

/* "success", "partial" or "failed". */
const char *sync_outcome_name(enum sync_outcome outcome);

/* When a failed run should be tried again (the scheduler reads it). */
enum sync_retry {
    SYNC_RETRY_NONE,    /* the run did not fail */
    SYNC_RETRY_BACKOFF, /* network, timeout, 5xx, 408, 429, bad body,
                           database: again soon, backing off */
    SYNC_RETRY_LATER    /* other 4xx (401, 403, 404), configuration: only
                           at the normal interval, never in a tight loop */
};

#define SYNC_NOTE_MAX 160

/* What one run did; also what `edgepromo sync` prints. */
struct sync_report {
    enum sync_kind requested;  /* what the caller asked for */
    enum sync_kind kind;       /* what ran: full after a fallback */
    enum sync_outcome outcome; /* success, partial, failed */
    enum ep_status status;     /* EP_OK unless failed */
    enum sync_retry retry;     /* how to retry a failure */
    long http_status;          /* the CMS's answer; 0 for none or a file */
    int64_t received;          /* promotions in the body */
    int64_t added;             /* inserted */
    int64_t updated;           /* replaced */
    int64_t deleted;           /* removed */
    int64_t skipped;           /* left out as invalid or duplicate */
    int64_t duration_ms;       /* the whole run */
    int64_t fetch_ms;          /* of which: receiving the body */
    int64_t parse_ms;          /* scanning it */
    int64_t prepare_ms;        /* validating (engine compiler) */
    int64_t apply_ms;          /* the store's transaction */
    char started_at[EP_TIMESTAMP_TEXT_MAX]; /* UTC, milliseconds */
    char cms_version[SYNC_NOTE_MAX];        /* X-CMS-Version, or "" */
    char fallback[SYNC_NOTE_MAX];       /* why an incremental ran full, or "" */
    char message[EP_ERROR_MESSAGE_MAX]; /* the failure's cause, or "" */
    char *error_details; /* JSON [{id, field, reason}]; owned; NULL
                                  when nothing was skipped */
};

/* Frees what the report owns; NULL is a no-op. */
void sync_report_deinit(struct sync_report *report);

/* Writes the report as one JSON object (the CLI's output). */
void sync_report_write_json(const struct sync_report *report,
                            struct ep_buf *out);

/* Optional knobs of a run. Zero-initialized means the defaults. */
struct sync_options {
    const atomic_bool *cancel; /* set by another thread to abort the
                                  transfer; may be NULL */
    int validate_threads;      /* threads validating; 0: one per CPU, at
                                  most 4 */
};

/*
 * Runs one sync against the configured CMS (cms_url, cms_token,
 * cms_ca_file, connect_timeout, request_timeout) for company_id and
 * store_id, and writes one promotion_sync_log row for it, failed runs
 * included. kind is SYNC_FULL or SYNC_INCREMENTAL; an incremental run
 * without a saved cursor, or answered 410, runs as a full sync and
 * report->fallback says why. Everything the run changes (promotions,
 * holidays, the cursor) is written in ONE transaction after the body was
 * fully received, parsed and validated; usage rows are never touched.
 * Invalid or duplicate promotions are skipped (outcome partial, listed in
 * report->error_details).
 *
 * store is borrowed (one thread at a time, as always); report is filled in
 * every case and must be released with sync_report_deinit. Returns EP_OK
 * for success and partial; otherwise the failure (EP_ERR_CONFIG before any
 * work, EP_ERR_NETWORK, EP_ERR_TIMEOUT, EP_ERR_CMS, EP_ERR_INVALID for a
 * body that is not JSON or not the expected shape, a database status) with
 * err set, and nothing changed but the log row.
 */
enum ep_status sync_run(struct store *store, const struct ep_config *config,
                        enum sync_kind kind, const struct sync_options *options,
                        struct sync_report *report, struct ep_error *err);

/*
 * Imports a full-sync body from the file at path, exactly as a full sync
 * from the CMS would (one transaction, validation, holidays, cursor), and
 * logs it as "manual". A missing or unreadable file is EP_ERR_INVALID (bad
 * input), like a body that does not parse.
 */
enum ep_status
sync_import_file(struct store *store, const struct ep_config *config,
                 const char *path, const struct sync_options *options,
                 struct sync_report *report, struct ep_error *err);

/*
 * Applies an already received body (text, length bytes followed by a NUL;
 * parsed in place, so changed) as a run of kind. The part of sync_run after
 * the network, for tools and tests; http_status, date and cms_version
 * describe the answer (0/NULL when none). Logs the run like sync_run.
 */
enum ep_status sync_apply_body(struct store *store,
                               const struct ep_config *config,
                               enum sync_kind kind, char *text, size_t length,
                               const struct sync_options *options,
                               struct sync_report *report,
                               struct ep_error *err);

/*
 * Builds a snapshot of every promotion and holiday in the store for the
 * configured store. Rows that no longer compile are skipped and logged.
 * *out gets a reference for the caller.
 */
enum ep_status sync_snapshot_load(struct store *store,
                                  const struct ep_config *config,
                                  struct promo_set **out, struct ep_error *err);

/* ---- the scheduler of `serve` ------------------------------------------ */

/*
 * The timing policy, in milliseconds so tests can shrink it. From config:
 * incremental every sync_interval, full every full_sync_interval; after a
 * retryable failure the next try comes after
 *     d = min(cap, base * 2^(failures - 1)),  drawn in [d/2, d]
 * (exponential backoff with "equal jitter"): 10 s, 20 s, 40 s, ... 15 min.
 * After a failure that retrying will not cure (401, 403, 404, other 4xx)
 * the next try waits the normal incremental interval.
 */
struct sync_policy {
    int64_t incremental_interval_ms; /* between incremental syncs */
    int64_t full_interval_ms;        /* between full syncs */
    int64_t backoff_base_ms;         /* first retry delay */
    int64_t backoff_cap_ms;          /* longest retry delay */
};

/* The policy of config (seconds become ms; base 10 s, cap 15 min). */
void sync_policy_from_config(const struct ep_config *config,
                             struct sync_policy *out);

/*
 * What the scheduler knows between runs. Pure data: the functions below
 * are pure functions of it, a policy and the time they are given, so a
 * test can run days of schedule against a simulated clock.
 */
struct sync_plan {
    int64_t full_due_ms;        /* when the next full sync is due */
    int64_t incremental_due_ms; /* when the next incremental is due */
    int64_t retry_at_ms;        /* when to try again after a failure */
    bool retrying;              /* the last attempt failed */
    enum sync_kind retry_kind;  /* what failed, to try again */
    int failures;               /* consecutive retryable failures */
    uint64_t rng;               /* jitter state; never 0 */
};

/* A plan whose first run, a full sync, is due at now_ms. */
void sync_plan_init(struct sync_plan *plan, int64_t now_ms, uint64_t seed);

/* The next attempt: which kind, and when (same clock as now_ms). */
void sync_plan_next(const struct sync_plan *plan, enum sync_kind *kind_out,
                    int64_t *at_ms_out);

/*
 * Records the attempt that ran at now_ms: report->kind (what ran) and
 * report->retry (how it ended) move the due times or start/continue the
 * backoff. attempted is the kind sync_plan_next gave.
 */
void sync_plan_record(struct sync_plan *plan, const struct sync_policy *policy,
                      enum sync_kind attempted,
                      const struct sync_report *report, int64_t now_ms);

/* The delay before retry number failures (1, 2, ...), jitter drawn. */
int64_t sync_backoff_ms(const struct sync_policy *policy, int failures,
                        uint64_t *rng);

struct sync_scheduler;

/* Told after every run, from the scheduler's thread. */
typedef void (*sync_done_fn)(void *ctx, const struct sync_report *report);

/*
 * A scheduler for `serve`: on its own thread and its own store connection
 * (config->db), a full sync at start and every full_sync_interval, an
 * incremental every sync_interval, backoff after failures (struct
 * sync_policy). After each good run (success or partial) it builds a new
 * engine snapshot from the store and puts it in slot (engine_slot_adopt):
 * evaluations keep the old snapshot until they finish and never wait. At
 * start, an empty slot gets the stored promotions first, so the store
 * sells with what it has while the CMS is away. on_done (may be NULL) is
 * told of every run. config and slot are borrowed and must outlive the
 * scheduler. EP_ERR_CONFIG unless cms_url, company_id and store_id are set.
 */
enum ep_status sync_scheduler_new(const struct ep_config *config,
                                  struct engine_slot *slot,
                                  sync_done_fn on_done, void *ctx,
                                  struct sync_scheduler **out,
                                  struct ep_error *err);

/* Replaces the policy (tests shrink it); call before _start. */
void sync_scheduler_set_policy(struct sync_scheduler *scheduler,
                               const struct sync_policy *policy);

/* Starts the thread. EP_ERR_INTERNAL if it cannot be created. */
enum ep_status sync_scheduler_start(struct sync_scheduler *scheduler,
                                    struct ep_error *err);

/* Asks for a run of kind now (POST /v1/sync); returns at once. */
void sync_scheduler_trigger(struct sync_scheduler *scheduler,
                            enum sync_kind kind);

/* Counters of the scheduler, for /metrics and tests. */
struct sync_scheduler_stats {
    int64_t attempts;    /* runs started */
    int64_t good;        /* runs that ended success or partial */
    int64_t failed;      /* runs that failed */
    int64_t snapshots;   /* snapshots put in the slot */
    int failures_in_row; /* consecutive retryable failures now */
    int64_t next_in_ms;  /* until the next planned run */
};

void sync_scheduler_stats_get(struct sync_scheduler *scheduler,
                              struct sync_scheduler_stats *out);

/*
 * Stops the thread: a transfer in flight is aborted, a database write in
 * flight finishes (or rolls back). Safe to call twice or before _start.
 */
void sync_scheduler_stop(struct sync_scheduler *scheduler);

/* Stops if needed and frees; NULL is a no-op. */
void sync_scheduler_free(struct sync_scheduler *scheduler);

#endif
