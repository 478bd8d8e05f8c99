/*
 * scheduler.c - the sync loop of `serve`: its own thread, its own store
 * connection, the timing of plan.c, and a fresh engine snapshot after
 * each good run.
 *
 * The thread sleeps on a condition variable (monotonic clock) until the
 * plan's next attempt, a trigger (POST /v1/sync) or a stop. Stopping sets
 * the cancel flag the CMS transfer polls, so a hanging CMS does not hold
 * up shutdown. Snapshots are built on this thread and handed to the slot,
 * which swaps one pointer: evaluations never wait for a sync.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "sync/internal.h"

struct sync_scheduler {
    const struct ep_config *config;    /* borrowed */
    struct engine_slot *slot;          /* borrowed; may be NULL */
    sync_done_fn on_done;              /* may be NULL */
    void *ctx;                         /* for on_done */
    struct sync_policy policy;         /* timing */
    pthread_t thread;                  /* valid while started */
    bool started;                      /* the thread runs */
    pthread_mutex_t lock;              /* guards what follows */
    pthread_cond_t wake;               /* signalled on trigger and stop */
    bool stopping;                     /* the thread must end */
    bool triggered;                    /* a run was asked for */
    enum sync_kind trigger_kind;       /* which */
    struct sync_plan plan;             /* when to run next */
    struct sync_scheduler_stats stats; /* counters */
    atomic_bool cancel;                /* aborts a transfer in flight */
};

static int64_t monotonic_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

enum ep_status sync_scheduler_new(const struct ep_config *config,
                                  struct engine_slot *slot,
                                  sync_done_fn on_done, void *ctx,
                                  struct sync_scheduler **out,
                                  struct ep_error *err)
{
    struct sync_scheduler *s;
    pthread_condattr_t attr;

    if (ep_config_require(config, "cms_url", err) != EP_OK ||
        ep_config_require(config, "company_id", err) != EP_OK ||
        ep_config_require(config, "store_id", err) != EP_OK)
        return EP_ERR_CONFIG;
    s = ep_calloc(1, sizeof(*s));
    if (s == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    cms_global_init();
    s->config = config;
    s->slot = slot;
    s->on_done = on_done;
    s->ctx = ctx;
    sync_policy_from_config(config, &s->policy);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    atomic_init(&s->cancel, false);
    *out = s;
    return EP_OK;
}

void sync_scheduler_set_policy(struct sync_scheduler *s,
                               const struct sync_policy *policy)
{
    pthread_mutex_lock(&s->lock);
    s->policy = *policy;
    pthread_mutex_unlock(&s->lock);
}

/* Sleeps until deadline_ms (monotonic) or a signal. */
static void wait_until(struct sync_scheduler *s, int64_t deadline_ms)
{
    struct timespec until;

    until.tv_sec = (time_t)(deadline_ms / 1000);
    until.tv_nsec = (long)(deadline_ms % 1000) * 1000000;
    pthread_cond_timedwait(&s->wake, &s->lock, &until);
}

/* Waits for the next run; false when stopping. */
static bool wait_for_turn(struct sync_scheduler *s, enum sync_kind *kind)
{
    int64_t at = 0;
    bool go = false;

    pthread_mutex_lock(&s->lock);
    while (!s->stopping && !go) {
        if (s->triggered) {
            s->triggered = false;
            *kind = s->trigger_kind;
            go = true;
            break;
        }
        sync_plan_next(&s->plan, kind, &at);
        s->stats.next_in_ms = at - monotonic_ms();
        if (s->stats.next_in_ms <= 0)
            go = true;
        else
            wait_until(s, at);
    }
    go = go && !s->stopping;
    if (go)
        s->stats.attempts++;
    pthread_mutex_unlock(&s->lock);
    return go;
}

/* Builds a snapshot of the store and puts it in the slot. */
static void replace_snapshot(struct sync_scheduler *s, struct store *store)
{
    struct promo_set *set = NULL;
    struct ep_error err = { 0 };

    if (s->slot == NULL)
        return;
    if (sync_snapshot_load(store, s->config, &set, &err) != EP_OK) {
        ep_log(EP_LOG_ERROR, "sync.snapshot_failed", "reason=\"%s\"",
               err.message);
        return;
    }
    engine_slot_adopt(s->slot, set);
    pthread_mutex_lock(&s->lock);
    s->stats.snapshots++;
    pthread_mutex_unlock(&s->lock);
}

/* Opens the scheduler's own connection; an empty slot gets a snapshot. */
static enum ep_status open_store(struct sync_scheduler *s, struct store **store,
                                 struct ep_error *err)
{
    struct promo_set *current;
    enum ep_status status;

    if (*store != NULL)
        return EP_OK;
    status = store_open(s->config->db, NULL, store, err);
    if (status != EP_OK)
        return status;
    current = s->slot != NULL ? engine_slot_acquire(s->slot) : NULL;
    if (s->slot != NULL && current == NULL)
        replace_snapshot(s, *store);
    promo_set_release(current);
    return EP_OK;
}

static void record(struct sync_scheduler *s, enum sync_kind attempted,
                   const struct sync_report *report)
{
    pthread_mutex_lock(&s->lock);
    sync_plan_record(&s->plan, &s->policy, attempted, report, monotonic_ms());
    if (report->retry == SYNC_RETRY_NONE)
        s->stats.good++;
    else
        s->stats.failed++;
    s->stats.failures_in_row = s->plan.failures;
    pthread_mutex_unlock(&s->lock);
}

static void run_once(struct sync_scheduler *s, struct store **store,
                     enum sync_kind kind)
{
    struct sync_options options = { &s->cancel, 0 };
    struct sync_report report;
    struct ep_error err = { 0 };

    if (open_store(s, store, &err) != EP_OK) {
        memset(&report, 0, sizeof(report));
        report.requested = report.kind = kind;
        report.outcome = SYNC_FAILED;
        report.status = err.status;
        report.retry = SYNC_RETRY_BACKOFF;
        snprintf(report.message, sizeof(report.message), "%s", err.message);
        ep_log(EP_LOG_ERROR, "sync.store_failed", "reason=\"%s\"", err.message);
    } else {
        sync_run(*store, s->config, kind, &options, &report, &err);
    }
    record(s, kind, &report);
    if (report.retry == SYNC_RETRY_NONE && !atomic_load(&s->cancel))
        replace_snapshot(s, *store);
    if (s->on_done != NULL)
        s->on_done(s->ctx, &report);
    sync_report_deinit(&report);
}

static void *scheduler_main(void *arg)
{
    struct sync_scheduler *s = arg;
    struct store *store = NULL;
    enum sync_kind kind = SYNC_FULL;

    while (wait_for_turn(s, &kind))
        run_once(s, &store, kind);
    store_close(store);
    return NULL;
}

enum ep_status sync_scheduler_start(struct sync_scheduler *s,
                                    struct ep_error *err)
{
    uint64_t seed = (uint64_t)monotonic_ms() ^ ((uint64_t)getpid() << 32) ^
                    (uint64_t)(uintptr_t)s;

    if (s->started)
        return EP_OK;
    pthread_mutex_lock(&s->lock);
    sync_plan_init(&s->plan, monotonic_ms(), seed);
    s->stopping = false;
    atomic_store(&s->cancel, false);
    pthread_mutex_unlock(&s->lock);
    if (pthread_create(&s->thread, NULL, scheduler_main, s) != 0)
        return ep_error_set(err, EP_ERR_INTERNAL, NULL,
                            "cannot start the sync thread");
    s->started = true;
    return EP_OK;
}

void sync_scheduler_trigger(struct sync_scheduler *s, enum sync_kind kind)
{
    pthread_mutex_lock(&s->lock);
    s->triggered = true;
    s->trigger_kind = kind;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

void sync_scheduler_stats_get(struct sync_scheduler *s,
                              struct sync_scheduler_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

void sync_scheduler_stop(struct sync_scheduler *s)
{
    if (s == NULL || !s->started)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    atomic_store(&s->cancel, true);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->started = false;
}

void sync_scheduler_free(struct sync_scheduler *s)
{
    if (s == NULL)
        return;
    sync_scheduler_stop(s);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    ep_free(s);
}
