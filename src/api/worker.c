/*
 * worker.c - what each worker thread of the HTTP daemon owns: a database
 * connection (a struct store is single-threaded, so one per thread, opened
 * on the thread's first request that needs it), an arena for per-request
 * memory and a response buffer, both reset after every request.
 *
 * A thread finds its worker through a thread-local pointer; the server
 * keeps every worker on a list (under a mutex taken only when a thread
 * makes its worker) so that api_server_stop can close them all once the
 * daemon's threads have been joined. Worker threads belong to one server
 * and end with it, so a thread-local pointer never outlives its server.
 */
#include <string.h>

#include "api/internal.h"
#include "common/mem.h"

#define WORKER_ARENA_BLOCK (64 * 1024)
#define WORKER_ARENA_MAX   ((size_t)256 << 20)
#define WORKER_OUT_MAX     ((size_t)256 << 20)

static _Thread_local struct api_worker *current_worker;

struct api_worker *api_worker_get(struct api_server *server)
{
    struct api_worker *worker = current_worker;

    if (worker != NULL && worker->server == server)
        return worker;
    worker = ep_calloc(1, sizeof(*worker));
    if (worker == NULL)
        return NULL;
    worker->server = server;
    ep_arena_init(&worker->arena, WORKER_ARENA_BLOCK, WORKER_ARENA_MAX);
    ep_buf_init(&worker->out, WORKER_OUT_MAX);
    pthread_mutex_lock(&server->workers_lock);
    worker->next = server->workers;
    server->workers = worker;
    pthread_mutex_unlock(&server->workers_lock);
    current_worker = worker;
    return worker;
}

enum ep_status api_worker_store(struct api_worker *worker, struct store **out,
                                struct ep_error *err)
{
    const struct ep_config *config = worker->server->config;
    struct store_options options;
    enum ep_status status;

    if (worker->store == NULL) {
        memset(&options, 0, sizeof(options));
        options.synchronous_normal =
            strcmp(config->usage_synchronous, "NORMAL") == 0;
        status = store_open(config->db, &options, &worker->store, err);
        if (status != EP_OK)
            return status;
    }
    *out = worker->store;
    return EP_OK;
}

void api_workers_free(struct api_server *server)
{
    struct api_worker *worker = server->workers;

    while (worker != NULL) {
        struct api_worker *next = worker->next;
        store_close(worker->store);
        ep_arena_deinit(&worker->arena);
        ep_buf_deinit(&worker->out);
        ep_free(worker);
        worker = next;
    }
    server->workers = NULL;
}
