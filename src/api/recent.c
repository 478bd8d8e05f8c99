/*
 * recent.c - the last few errors of a server, for the status page: requests
 * answered 5xx (http.c) and failed sync runs of the scheduler (server.c).
 *
 * A fixed ring of API_RECENT_MAX events in struct api_server, overwritten
 * oldest first. Errors are rare, so one lock for every server in the
 * process is plenty. Only messages that are already written to the log go
 * in (never a request body, a token or a customer's phone).
 */
#include <stdio.h>

#include "api/internal.h"
#include "common/localtime.h"

static pthread_mutex_t recent_lock = PTHREAD_MUTEX_INITIALIZER;

void api_recent_note(struct api_server *server, const char *what,
                     unsigned http_status, const char *message)
{
    struct api_recent *ring = &server->recent;
    struct api_recent_event *event;

    pthread_mutex_lock(&recent_lock);
    event = &ring->events[ring->added % API_RECENT_MAX];
    event->at = ep_now();
    event->http_status = http_status;
    snprintf(event->what, sizeof(event->what), "%s", what ? what : "-");
    snprintf(event->message, sizeof(event->message), "%s",
             message ? message : "");
    ring->added++;
    pthread_mutex_unlock(&recent_lock);
}

size_t api_recent_copy(struct api_server *server, struct api_recent_event *out,
                       size_t max)
{
    struct api_recent *ring = &server->recent;
    size_t count = 0;

    pthread_mutex_lock(&recent_lock);
    while (count < max && count < API_RECENT_MAX && count < ring->added) {
        out[count] = ring->events[(ring->added - 1 - count) % API_RECENT_MAX];
        count++;
    }
    pthread_mutex_unlock(&recent_lock);
    return count;
}
