/*
 * run.c - one sync run: ask the CMS (or read a file), parse, validate,
 * apply in one transaction, and write the run's promotion_sync_log row.
 *
 * The order is what makes a failure change nothing: the body is received
 * whole, parsed and validated before the store is touched, and the store
 * applies the batch in ONE transaction (store_sync_apply). Whatever
 * happens before the commit, the promotions, holidays, cursor and usage
 * are as they were; only the log row records that the run happened.
 *
 * Fallback: an incremental run with no saved cursor, or one the CMS
 * answers 410, runs as a full sync; the report and the log row say why.
 * Conflicts with stored rows the payload could not show (an updated
 * promotion taking a code another stored promotion still has) come back
 * from the store as EP_ERR_CONFLICT naming the item; that promotion is
 * skipped and the transaction tried again, a bounded number of times.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/log.h"
#include "common/mem.h"
#include "sync/internal.h"

#define RUN_ARENA_BLOCK      ((size_t)1 << 20)
#define RUN_ARENA_MAX        ((size_t)2 << 30)
#define CONFLICT_RETRIES_MAX 32
#define DETAILS_ENTRIES_MAX  1000
#define LOG_VERSION_MAX      20 /* cms_version and edge_version are VARCHAR(20) */

/* One run's state. */
struct run {
    struct store *store;                   /* borrowed */
    const struct ep_config *config;        /* borrowed */
    const struct sync_options *options;    /* borrowed; may be NULL */
    struct sync_report *report;            /* the caller's */
    struct ep_arena arena;                 /* everything of the run */
    struct ep_error error;                 /* the run's first failure */
    int64_t start_ms;                      /* monotonic clock */
    char date_cursor[CMS_HEADER_TEXT_MAX]; /* HTTP Date, RFC 3339, or "" */
};

static int64_t monotonic_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* UTC now as "YYYY-MM-DD HH:MM:SS.mmm": sortable, and SQLite reads it. */
static void utc_now_ms(char out[EP_TIMESTAMP_TEXT_MAX])
{
    struct timespec now;
    char seconds[EP_TIMESTAMP_TEXT_MAX];

    clock_gettime(CLOCK_REALTIME, &now);
    ep_timestamp_format_utc((int64_t)now.tv_sec, seconds);
    snprintf(out, EP_TIMESTAMP_TEXT_MAX, "%s.%03ld", seconds,
             now.tv_nsec / 1000000);
}

static void run_begin(struct run *run, struct store *store,
                      const struct ep_config *config,
                      const struct sync_options *options, enum sync_kind kind,
                      struct sync_report *report)
{
    memset(run, 0, sizeof(*run));
    memset(report, 0, sizeof(*report));
    run->store = store;
    run->config = config;
    run->options = options;
    run->report = report;
    run->start_ms = monotonic_ms();
    report->requested = kind;
    report->kind = kind;
    report->outcome = SYNC_FAILED;
    utc_now_ms(report->started_at);
    ep_arena_init(&run->arena, RUN_ARENA_BLOCK, RUN_ARENA_MAX);
}

/* Which failures a retry may cure soon (SPEC.md section 6, item 8). */
static enum sync_retry retry_of(enum ep_status status, long http_status)
{
    switch (status) {
    case EP_OK:
        return SYNC_RETRY_NONE;
    case EP_ERR_CONFIG:
    case EP_ERR_SCHEMA_NEWER:
        return SYNC_RETRY_LATER;
    case EP_ERR_CMS:
        return http_status >= 500 || http_status == 408 || http_status == 429
                   ? SYNC_RETRY_BACKOFF
                   : SYNC_RETRY_LATER;
    default:
        return SYNC_RETRY_BACKOFF;
    }
}

/* Notes that an incremental run goes full, and why. */
static void fall_back(struct run *run, const char *why)
{
    run->report->kind = SYNC_FULL;
    snprintf(run->report->fallback, sizeof(run->report->fallback), "%s", why);
    ep_log(EP_LOG_INFO, "sync.fallback",
           "requested=incremental ran=full "
           "reason=\"%s\"",
           why);
}

static enum ep_status check_config(const struct ep_config *config, bool network,
                                   struct ep_error *err)
{
    enum ep_status status = ep_config_require(config, "company_id", err);

    if (status == EP_OK)
        status = ep_config_require(config, "store_id", err);
    if (status == EP_OK && network)
        status = ep_config_require(config, "cms_url", err);
    return status;
}

/* ---- the log row -------------------------------------------------------- */

/* The row's error_message: the failure, or notes on a good run. */
static void log_message(const struct sync_report *r, char *out, size_t size)
{
    out[0] = '\0';
    if (r->outcome == SYNC_FAILED) {
        snprintf(out, size, "%s", r->message);
        return;
    }
    if (r->outcome == SYNC_PARTIAL)
        snprintf(out, size, "%s", r->message);
    if (r->fallback[0] != '\0')
        snprintf(out + strlen(out), size - strlen(out),
                 "%sincremental sync ran as full: %s",
                 out[0] != '\0' ? "; " : "", r->fallback);
}

static void write_log_row(struct run *run)
{
    const struct sync_report *r = run->report;
    char message[EP_ERROR_MESSAGE_MAX + SYNC_NOTE_MAX + 64];
    char completed[EP_TIMESTAMP_TEXT_MAX];
    char version[LOG_VERSION_MAX + 1];
    struct store_sync_log row;
    struct ep_error err = { 0 };

    memset(&row, 0, sizeof(row));
    log_message(r, message, sizeof(message));
    utc_now_ms(completed);
    snprintf(version, sizeof(version), "%s", r->cms_version);
    row.sync_type =
        sync_kind_name(r->requested == SYNC_MANUAL ? SYNC_MANUAL : r->kind);
    row.sync_status = sync_outcome_name(r->outcome);
    row.received = r->received;
    row.added = r->added;
    row.updated = r->updated;
    row.deleted = r->deleted;
    row.skipped = r->skipped;
    row.company_id = run->config->company_id;
    row.store_id = run->config->store_id;
    row.error_message = message[0] != '\0' ? message : NULL;
    row.error_details = r->error_details;
    row.started_at = r->started_at;
    row.completed_at = completed;
    row.duration_seconds = (r->duration_ms + 500) / 1000;
    row.duration_ms = r->duration_ms;
    row.cms_version = version[0] != '\0' ? version : NULL;
    row.edge_version = EP_VERSION;
    if (store_sync_log_insert(run->store, &row, &err) != EP_OK)
        ep_log(EP_LOG_ERROR, "sync.log_failed", "reason=\"%s\"", err.message);
}

static void log_event(const struct sync_report *r)
{
    char quoted[EP_ERROR_MESSAGE_MAX + 8];

    ep_log(r->outcome == SYNC_FAILED ? EP_LOG_WARN : EP_LOG_INFO, "sync.done",
           "type=%s status=%s received=%lld added=%lld updated=%lld "
           "deleted=%lld skipped=%lld duration_ms=%lld http_status=%ld "
           "error=%s",
           sync_kind_name(r->kind), sync_outcome_name(r->outcome),
           (long long)r->received, (long long)r->added, (long long)r->updated,
           (long long)r->deleted, (long long)r->skipped,
           (long long)r->duration_ms, r->http_status,
           ep_log_quote(r->message, quoted, sizeof(quoted)));
}

/*
 * Ends a run: a failure fills the report (counts of nothing applied are
 * zeroed), the log row is written when the store is known, and the run's
 * error is passed to err.
 */
static enum ep_status run_finish(struct run *run, enum ep_status status,
                                 bool write_log, struct ep_error *err)
{
    struct sync_report *r = run->report;

    r->status = status;
    r->retry = retry_of(status, r->http_status);
    if (status != EP_OK) {
        r->outcome = SYNC_FAILED;
        r->added = r->updated = r->deleted = r->skipped = 0;
        snprintf(r->message, sizeof(r->message), "%s",
                 run->error.status != EP_OK ? run->error.message
                                            : ep_status_message(status));
        sync_report_deinit(r);
    }
    r->duration_ms = monotonic_ms() - run->start_ms;
    if (write_log)
        write_log_row(run);
    log_event(r);
    ep_arena_deinit(&run->arena);
    if (status != EP_OK && err != NULL && err->status == EP_OK)
        *err = run->error;
    return status;
}

/* ---- applying a body ---------------------------------------------------- */

/* This edge serves one company: a promotion of another is not stored. */
static enum ep_status reject_foreign(struct run *run,
                                     struct sync_payload *payload)
{
    const char *company = run->config->company_id;
    char reason[EP_ERROR_MESSAGE_MAX];

    for (size_t i = 0; i < payload->promotion_count; i++) {
        const struct promo_record *p = &payload->promotions[i];
        if (p->company_id == NULL || strcmp(p->company_id, company) == 0)
            continue;
        snprintf(reason, sizeof(reason),
                 "company_id: %s is not this edge's company %s", p->company_id,
                 company);
        if (sync_payload_reject(payload, &run->arena, i, p->id, "company_id",
                                reason) != EP_OK)
            return ep_error_set(&run->error, EP_ERR_NOMEM, NULL,
                                "out of memory");
    }
    return EP_OK;
}

static void fill_batch(struct run *run, const struct sync_payload *payload,
                       const struct sync_prepared *prepared,
                       struct store_sync_batch *batch, char *synced_at)
{
    const char *date = run->date_cursor[0] != '\0' ? run->date_cursor : NULL;
    bool full = run->report->kind != SYNC_INCREMENTAL;

    memset(batch, 0, sizeof(*batch));
    ep_timestamp_format_utc(ep_now(), synced_at);
    batch->full = full;
    batch->company_id = run->config->company_id;
    batch->store_id = run->config->store_id;
    batch->items = prepared->items;
    batch->item_count = prepared->item_count;
    batch->deleted_ids = full ? NULL : prepared->deleted_ids;
    batch->deleted_count = full ? 0 : prepared->deleted_count;
    batch->replace_holidays = full && payload->has_holidays;
    batch->holidays = payload->holidays;
    batch->holiday_count = payload->holiday_count;
    batch->cursor = payload->sync_token != NULL    ? payload->sync_token
                    : payload->server_time != NULL ? payload->server_time
                                                   : date;
    batch->server_time =
        payload->server_time != NULL ? payload->server_time : date;
    batch->synced_at = synced_at;
}

/* Index in the payload of the promotion with this id. */
static size_t payload_index(const struct sync_payload *payload, const char *id)
{
    for (size_t i = 0; i < payload->promotion_count; i++)
        if (payload->promotions[i].id != NULL &&
            strcmp(payload->promotions[i].id, id) == 0)
            return i;
    return 0;
}

/* Adds id to the deletes of an incremental batch (arena copy). */
static bool add_delete(struct run *run, struct sync_prepared *prepared,
                       const char *id)
{
    size_t n = prepared->deleted_count;
    const char **ids = ep_arena_calloc(&run->arena, n + 2, sizeof(*ids));

    if (ids == NULL)
        return false;
    if (n > 0)
        memcpy(ids, prepared->deleted_ids, n * sizeof(*ids));
    ids[n] = id;
    prepared->deleted_ids = ids;
    prepared->deleted_count = n + 1;
    return true;
}

/*
 * The store refused item "promotions[i]" with a UNIQUE conflict against a
 * stored row: skip it. False when the error names no item.
 */
static bool drop_conflict(struct run *run, struct sync_payload *payload,
                          struct sync_prepared *prepared,
                          const struct ep_error *why)
{
    size_t i = 0;
    char reason[EP_ERROR_MESSAGE_MAX];
    struct promo_record item;

    if (sscanf(why->field, "promotions[%zu]", &i) != 1 ||
        i >= prepared->item_count)
        return false;
    item = prepared->items[i];
    snprintf(reason, sizeof(reason),
             "code: %s is already used by another stored promotion of "
             "store %s",
             item.code, item.store_id);
    memmove(&prepared->items[i], &prepared->items[i + 1],
            (prepared->item_count - i - 1) * sizeof(item));
    prepared->item_count--;
    if (run->report->kind == SYNC_INCREMENTAL &&
        !add_delete(run, prepared, item.id))
        return false;
    return sync_payload_reject(payload, &run->arena,
                               payload_index(payload, item.id), item.id, "code",
                               reason) == EP_OK;
}

static enum ep_status store_apply(struct run *run, struct sync_payload *payload,
                                  struct sync_prepared *prepared)
{
    struct store_sync_batch batch;
    struct store_sync_counts counts = { 0 };
    char synced_at[EP_TIMESTAMP_TEXT_MAX];
    struct ep_error why;
    enum ep_status status;

    for (int attempt = 0;; attempt++) {
        ep_error_clear(&why);
        fill_batch(run, payload, prepared, &batch, synced_at);
        status = store_sync_apply(run->store, &batch, &counts, &why);
        if (status != EP_ERR_CONFLICT || attempt >= CONFLICT_RETRIES_MAX ||
            !drop_conflict(run, payload, prepared, &why))
            break;
    }
    if (status != EP_OK)
        return ep_error_set(&run->error, status, why.field, "%s", why.message);
    run->report->added = counts.added;
    run->report->updated = counts.updated;
    run->report->deleted = counts.deleted;
    return EP_OK;
}

/*
 * Counts what was left out and says so in the report. It runs after the
 * store committed the batch, so it cannot fail the run: when memory runs
 * out for the list of skipped items, the report says the list was lost.
 */
static void note_rejections(struct run *run, const struct sync_payload *payload)
{
    struct sync_report *r = run->report;
    size_t holidays = 0;

    r->outcome = payload->rejection_count > 0 ? SYNC_PARTIAL : SYNC_SUCCESS;
    for (size_t i = 0; i < payload->rejection_count; i++)
        holidays += payload->rejections[i].index == SIZE_MAX ? 1 : 0;
    r->skipped = (int64_t)(payload->rejection_count - holidays);
    if (r->outcome == SYNC_PARTIAL)
        snprintf(r->message, sizeof(r->message),
                 "%lld promotions and %zu holidays skipped (see "
                 "error_details)",
                 (long long)r->skipped, holidays);
    if (sync_details_json(payload, DETAILS_ENTRIES_MAX, &r->error_details) !=
        EP_OK)
        snprintf(r->message + strlen(r->message),
                 sizeof(r->message) - strlen(r->message),
                 "%sthe list of skipped items was lost (out of memory)",
                 r->message[0] != '\0' ? "; " : "");
}

/* Parses, validates and applies text (changed in place). */
static enum ep_status apply_text(struct run *run, char *text, size_t length)
{
    struct sync_payload payload;
    struct sync_prepared prepared;
    bool full = run->report->kind != SYNC_INCREMENTAL;
    enum ep_status status;

    int64_t t0 = monotonic_ms();

    status = full ? sync_payload_parse_full(text, length, run->config->store_id,
                                            &run->arena, &payload, &run->error)
                  : sync_payload_parse_incremental(text, length, &run->arena,
                                                   &payload, &run->error);
    run->report->parse_ms = monotonic_ms() - t0;
    if (status != EP_OK)
        return status;
    run->report->received = (int64_t)payload.promotion_count;
    status = reject_foreign(run, &payload);
    t0 = monotonic_ms();
    if (status == EP_OK)
        status = sync_prepare(&payload, full, run->options, &run->arena,
                              &prepared, &run->error);
    run->report->prepare_ms = monotonic_ms() - t0;
    t0 = monotonic_ms();
    if (status == EP_OK)
        status = store_apply(run, &payload, &prepared);
    run->report->apply_ms = monotonic_ms() - t0;
    if (status == EP_OK)
        note_rejections(run, &payload);
    return status;
}

void sync_global_init(void)
{
    cms_global_init();
}

/* ---- from the CMS ------------------------------------------------------- */

/* The request body: {"company_id", "store_id", "last_sync"?}. */
static char *request_body(const struct ep_config *config, const char *cursor)
{
    struct ep_buf buf;

    ep_buf_init(&buf, 64 * 1024);
    ep_buf_puts(&buf, "{\"company_id\": ");
    ep_buf_json_string(&buf, config->company_id);
    ep_buf_puts(&buf, ", \"store_id\": ");
    ep_buf_json_string(&buf, config->store_id);
    if (cursor != NULL) {
        ep_buf_puts(&buf, ", \"last_sync\": ");
        ep_buf_json_string(&buf, cursor);
    }
    ep_buf_putc(&buf, '}');
    return ep_buf_take(&buf, NULL);
}

static enum ep_status fetch(struct run *run, enum sync_kind kind,
                            const char *cursor, struct cms_response *response)
{
    const struct ep_config *c = run->config;
    size_t base = strlen(c->cms_url);
    char url[2048];
    struct cms_request req;
    int64_t start;
    enum ep_status status;

    while (base > 0 && c->cms_url[base - 1] == '/')
        base--;
    snprintf(url, sizeof(url), "%.*s/api/v1/sync/promotions/%s", (int)base,
             c->cms_url, kind == SYNC_INCREMENTAL ? "incremental/" : "");
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.body = request_body(c, cursor);
    req.token = c->cms_token;
    req.ca_file = c->cms_ca_file;
    req.connect_timeout_s = c->connect_timeout;
    req.timeout_s = c->request_timeout;
    req.cancel = run->options != NULL ? run->options->cancel : NULL;
    start = monotonic_ms();
    status = req.body != NULL ? cms_post(&req, response, &run->error)
                              : ep_error_set(&run->error, EP_ERR_NOMEM, NULL,
                                             "out of memory");
    run->report->fetch_ms += monotonic_ms() - start;
    ep_free((char *)req.body);
    run->report->http_status = response->http_status;
    snprintf(run->report->cms_version, sizeof(run->report->cms_version), "%s",
             response->version);
    if (!cms_date_to_rfc3339(response->date, run->date_cursor))
        run->date_cursor[0] = '\0';
    return status;
}

/* The saved cursor (arena copy), or NULL when the store never synced. */
static enum ep_status load_cursor(struct run *run, const char **cursor)
{
    struct store_sync_state state;
    enum ep_status status;

    status = store_sync_state_get(run->store, run->config->company_id,
                                  run->config->store_id, &run->arena, &state,
                                  &run->error);
    *cursor = status == EP_OK ? state.cursor : NULL;
    return status;
}

enum ep_status sync_run(struct store *store, const struct ep_config *config,
                        enum sync_kind kind, const struct sync_options *options,
                        struct sync_report *report, struct ep_error *err)
{
    struct run run;
    struct cms_response response = { 0 };
    const char *cursor = NULL;
    enum ep_status status;

    assert(store != NULL && config != NULL && kind != SYNC_MANUAL);
    run_begin(&run, store, config, options, kind, report);
    status = check_config(config, true, &run.error);
    if (status != EP_OK)
        return run_finish(&run, status, false, err);
    if (kind == SYNC_INCREMENTAL)
        status = load_cursor(&run, &cursor);
    if (status == EP_OK && kind == SYNC_INCREMENTAL && cursor == NULL)
        fall_back(&run, "no sync cursor saved yet");
    if (status == EP_OK)
        status = fetch(&run, report->kind, cursor, &response);
    if (status == EP_ERR_CMS_GONE && report->kind == SYNC_INCREMENTAL) {
        fall_back(&run, "the CMS answered HTTP 410 (cursor unknown)");
        ep_error_clear(&run.error);
        cms_response_deinit(&response);
        status = fetch(&run, SYNC_FULL, NULL, &response);
    }
    if (status == EP_OK)
        status = apply_text(&run, response.body, response.length);
    cms_response_deinit(&response);
    return run_finish(&run, status, true, err);
}

enum ep_status sync_apply_body(struct store *store,
                               const struct ep_config *config,
                               enum sync_kind kind, char *text, size_t length,
                               const struct sync_options *options,
                               struct sync_report *report, struct ep_error *err)
{
    struct run run;
    enum ep_status status;

    assert(store != NULL && config != NULL && text != NULL);
    run_begin(&run, store, config, options, kind, report);
    status = check_config(config, false, &run.error);
    if (status != EP_OK)
        return run_finish(&run, status, false, err);
    status = apply_text(&run, text, length);
    return run_finish(&run, status, true, err);
}

/* ---- from a file -------------------------------------------------------- */

/* Reads a whole file into a NUL-terminated heap buffer. */
static enum ep_status read_file(const char *path, char **out, size_t *length,
                                struct ep_error *err)
{
    FILE *f = fopen(path, "rb");
    struct stat info;
    char *data = NULL;
    enum ep_status status = EP_OK;

    if (f == NULL || fstat(fileno(f), &info) != 0 || !S_ISREG(info.st_mode))
        status = ep_error_set(
            err, EP_ERR_INVALID, "file", "cannot read %s: %s", path,
            f == NULL || errno != 0 ? strerror(errno) : "not a file");
    else if ((size_t)info.st_size > CMS_BODY_MAX)
        status = ep_error_set(err, EP_ERR_INVALID, "file",
                              "%s: larger than %zu bytes", path, CMS_BODY_MAX);
    else if ((data = ep_malloc((size_t)info.st_size + 1)) == NULL)
        status = ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    else if (fread(data, 1, (size_t)info.st_size, f) != (size_t)info.st_size)
        status = ep_error_set(err, EP_ERR_INVALID, "file",
                              "cannot read %s: short read", path);
    if (f != NULL)
        fclose(f);
    if (status != EP_OK) {
        ep_free(data);
        return status;
    }
    data[info.st_size] = '\0';
    *out = data;
    *length = (size_t)info.st_size;
    return EP_OK;
}

enum ep_status
sync_import_file(struct store *store, const struct ep_config *config,
                 const char *path, const struct sync_options *options,
                 struct sync_report *report, struct ep_error *err)
{
    struct run run;
    char *text = NULL;
    size_t length = 0;
    enum ep_status status;

    assert(store != NULL && config != NULL && path != NULL);
    run_begin(&run, store, config, options, SYNC_MANUAL, report);
    status = check_config(config, false, &run.error);
    if (status != EP_OK)
        return run_finish(&run, status, false, err);
    errno = 0;
    status = read_file(path, &text, &length, &run.error);
    if (status == EP_OK)
        status = apply_text(&run, text, length);
    ep_free(text);
    return run_finish(&run, status, true, err);
}
