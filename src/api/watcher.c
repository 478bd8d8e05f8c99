/*
 * watcher.c - keeps the served promotion snapshot in step with the
 * database.
 *
 * Every sync bumps the store's data version (store_data_version). The
 * watcher thread, with its own database connection, reads that version
 * every reload_interval_ms; when it changed, it builds a new snapshot
 * (sync_snapshot_load) and swaps it into the engine slot, where requests
 * pick it up on their next acquire while those on the old one finish. So a
 * sync run by another process (`edgepromo sync`, a cron job, another edge
 * node on PostgreSQL) is served within about a second. The version is read
 * before the load: a sync landing during the load is caught on the next
 * tick. A failed load keeps the old snapshot and is retried next tick.
 * The sync scheduler of `serve` pokes the watcher after each run, so a
 * sync made by this process is checked for at once.
 */
#include <time.h>

#include "api/internal.h"
#include "common/localtime.h"
#include "common/log.h"
#include "sync/sync.h"

/* Loads a snapshot for data version version and makes it current. */
static enum ep_status reload(struct api_server *server, int64_t version,
                             struct ep_error *err)
{
    struct promo_set *set = NULL;
    enum ep_status status;

    status =
        sync_snapshot_load(server->watcher.store, server->config, &set, err);
    if (status != EP_OK) {
        api_metrics_add(&server->metrics.reload_failures);
        return status;
    }
    ep_log(EP_LOG_INFO, "snapshot.load", "promotions=%zu data_version=%lld",
           promo_set_count(set), (long long)version);
    engine_slot_adopt(server->slot, set);
    server->watcher.data_version = version;
    atomic_store(&server->snapshot_at, ep_now());
    api_metrics_add(&server->metrics.reloads);
    return EP_OK;
}

/* One tick: reload when the data version moved. */
static void check_version(struct api_server *server)
{
    struct ep_error err;
    int64_t version = 0;
    enum ep_status status;

    ep_error_clear(&err);
    status = store_data_version(server->watcher.store, &version, &err);
    if (status == EP_OK && version != server->watcher.data_version)
        status = reload(server, version, &err);
    if (status != EP_OK)
        ep_log(EP_LOG_WARN, "snapshot.check_failed", "status=%s field=%s",
               ep_status_name(status), err.field[0] ? err.field : "-");
}

static void deadline_after_ms(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *watcher_main(void *arg)
{
    struct api_server *server = arg;
    struct api_watcher *w = &server->watcher;
    struct timespec deadline;
    bool stop;

    for (;;) {
        deadline_after_ms(&deadline, server->options.reload_interval_ms);
        pthread_mutex_lock(&w->lock);
        while (!w->stop && !w->poked &&
               pthread_cond_timedwait(&w->wake, &w->lock, &deadline) == 0)
            continue;
        stop = w->stop;
        w->poked = false;
        pthread_mutex_unlock(&w->lock);
        if (stop)
            return NULL;
        check_version(server);
    }
}

static enum ep_status init_sync_objects(struct api_watcher *w,
                                        struct ep_error *err)
{
    pthread_condattr_t attr;
    int rc;

    if (pthread_condattr_init(&attr) != 0)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "watcher: no memory");
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    rc = pthread_cond_init(&w->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "watcher: no memory");
    pthread_mutex_init(&w->lock, NULL);
    return EP_OK;
}

enum ep_status api_watcher_start(struct api_server *server,
                                 struct ep_error *err)
{
    struct api_watcher *w = &server->watcher;
    struct store_options options = { .read_only = false };
    int64_t version = 0;
    enum ep_status status;

    status = store_open(server->config->db, &options, &w->store, err);
    if (status == EP_OK)
        status = store_data_version(w->store, &version, err);
    if (status == EP_OK)
        status = reload(server, version, err);
    if (status == EP_OK)
        status = init_sync_objects(w, err);
    if (status != EP_OK)
        return status;
    if (pthread_create(&w->thread, NULL, watcher_main, server) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        return ep_error_set(err, EP_ERR_NOMEM, NULL,
                            "watcher: cannot start its thread");
    }
    w->started = true;
    return EP_OK;
}

void api_watcher_poke(struct api_server *server)
{
    struct api_watcher *w = &server->watcher;

    if (!w->started)
        return;
    pthread_mutex_lock(&w->lock);
    w->poked = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void api_watcher_stop(struct api_server *server)
{
    struct api_watcher *w = &server->watcher;

    if (w->started) {
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        w->started = false;
    }
    store_close(w->store);
    w->store = NULL;
}
