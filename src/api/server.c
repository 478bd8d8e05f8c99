/*
 * server.c - the POS API server's life: start (snapshot, watcher, sync
 * scheduler, daemon), graceful stop, and api_serve, which runs until
 * SIGTERM or SIGINT.
 *
 * Start order: the engine slot and the first snapshot (so that the first
 * request already has promotions), the sync scheduler when a CMS is
 * configured (cms_url), then the daemon. Stop order is the reverse: the
 * daemon drains and stops (so no request runs any more), the scheduler
 * stops (a transfer is aborted, a database write finishes), then the
 * watcher, then the workers' database connections are closed, then the
 * snapshot is released.
 */
#include <signal.h>
#include <string.h>

#include "api/internal.h"
#include "common/log.h"
#include "common/mem.h"
#include "sync/sync.h"

#define DEFAULT_RELOAD_INTERVAL_MS 1000
#define DEFAULT_DRAIN_TIMEOUT_MS   10000

static void fill_options(const struct ep_config *config,
                         const struct api_options *given,
                         struct api_options *out)
{
    if (given != NULL)
        *out = *given;
    else
        memset(out, 0, sizeof(*out));
    if (out->listen == NULL)
        out->listen = config->listen;
    if (out->idle_timeout_s == 0)
        out->idle_timeout_s = (unsigned)config->idle_timeout;
    if (out->connection_limit == 0)
        out->connection_limit = (unsigned)config->max_connections;
    if (out->reload_interval_ms == 0)
        out->reload_interval_ms = DEFAULT_RELOAD_INTERVAL_MS;
    if (out->drain_timeout_ms == 0)
        out->drain_timeout_ms = DEFAULT_DRAIN_TIMEOUT_MS;
}

static struct api_server *server_new(const struct ep_config *config,
                                     const struct api_options *options)
{
    struct api_server *server = ep_calloc(1, sizeof(*server));

    if (server == NULL)
        return NULL;
    server->slot = engine_slot_new();
    if (server->slot == NULL) {
        ep_free(server);
        return NULL;
    }
    server->config = config;
    fill_options(config, options, &server->options);
    server->cart_body_max = (size_t)config->max_body_bytes;
    pthread_mutex_init(&server->workers_lock, NULL);
    atomic_init(&server->stopping, false);
    atomic_init(&server->in_flight, 0);
    atomic_init(&server->snapshot_at, 0);
    return server;
}

/* After every scheduled sync run: check the data version at once. */
static void on_sync_done(void *ctx, const struct sync_report *report)
{
    if (report->outcome == SYNC_FAILED)
        api_recent_note(ctx, sync_kind_name(report->kind), 0, report->message);
    api_watcher_poke(ctx);
}

/* Starts the CMS sync scheduler when the config names a CMS. */
static enum ep_status scheduler_start(struct api_server *server,
                                      struct ep_error *err)
{
    enum ep_status status;

    if (server->config->cms_url == NULL) {
        ep_log(EP_LOG_INFO, "sync.scheduler_off",
               "detail=\"no cms_url: the store serves what it has\"");
        return EP_OK;
    }
    status = sync_scheduler_new(server->config, server->slot, on_sync_done,
                                server, &server->scheduler, err);
    if (status == EP_OK)
        status = sync_scheduler_start(server->scheduler, err);
    return status;
}

enum ep_status api_server_start(const struct ep_config *config,
                                const struct api_options *options,
                                struct api_server **out, struct ep_error *err)
{
    struct api_server *server = NULL;
    enum ep_status status;

    status = ep_config_require(config, "company_id", err);
    if (status == EP_OK)
        status = ep_config_require(config, "store_id", err);
    if (status != EP_OK)
        return status;
    server = server_new(config, options);
    if (server == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "serve: out of memory");
    status = api_watcher_start(server, err);
    if (status == EP_OK)
        status = scheduler_start(server, err);
    if (status == EP_OK)
        status = api_http_start(server, err);
    if (status != EP_OK) {
        api_server_stop(server);
        return status;
    }
    ep_log(EP_LOG_INFO, "http.listen",
           "listen=%s port=%u threads=%ld "
           "tokens=%zu",
           server->options.listen, (unsigned)server->port, config->threads,
           config->token_count);
    if (config->token_count == 0)
        ep_log(EP_LOG_WARN, "http.no_tokens",
               "detail=\"api_tokens is empty: every request but /healthz "
               "and /metrics is 401\"");
    *out = server;
    return EP_OK;
}

uint16_t api_server_port(const struct api_server *server)
{
    return server->port;
}

void api_server_stop(struct api_server *server)
{
    if (server == NULL)
        return;
    api_http_stop(server);
    sync_scheduler_free(server->scheduler);
    api_watcher_stop(server);
    api_workers_free(server);
    engine_slot_free(server->slot);
    pthread_mutex_destroy(&server->workers_lock);
    ep_log(EP_LOG_INFO, "http.stopped", "port=%u", (unsigned)server->port);
    ep_free(server);
}

enum ep_status api_serve(const struct ep_config *config,
                         const struct api_options *options,
                         struct ep_error *err)
{
    struct api_server *server = NULL;
    sigset_t stop_signals;
    sigset_t blocked;
    sigset_t previous;
    enum ep_status status;
    int signal_number = 0;

    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    blocked = stop_signals;
    sigaddset(&blocked, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &blocked, &previous);
    status = api_server_start(config, options, &server, err);
    if (status == EP_OK) {
        while (sigwait(&stop_signals, &signal_number) != 0)
            ;
        ep_log(EP_LOG_INFO, "http.stopping", "signal=%s",
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
        api_server_stop(server);
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    return status;
}
