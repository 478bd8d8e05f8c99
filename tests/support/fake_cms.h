/*
 * fake_cms.h - a fake of the CMS's sync API (SPEC.md section 3) for tests,
 * the demo and bench/sync: a real HTTP server (libmicrohttpd) on
 * 127.0.0.1 at an ephemeral port.
 *
 * It answers POST /api/v1/sync/promotions/ with the full body and
 * POST /api/v1/sync/promotions/incremental/ with the incremental body it
 * was given, with the headers X-CMS-Version and Date, and can be switched
 * to each failure a CMS shows in the field: an HTTP status (500, 401, 408,
 * 429, 410, ...), a hang past the client's timeout, a connection closed in
 * the middle of the body, a body that is not JSON, 410 on incremental
 * only. It records every request (path, body, Authorization) so tests can
 * assert on what the edge sent. POST /_fake/mode with a mode name as body
 * switches the mode at run time (for the demo).
 *
 * Test code only. Thread-safe: the server runs a thread per connection and
 * every setter takes the fake's lock.
 */
#ifndef EP_FAKE_CMS_H
#define EP_FAKE_CMS_H

#include <stdbool.h>
#include <stddef.h>

enum fake_cms_mode {
    FAKE_CMS_OK,        /* serve the bodies */
    FAKE_CMS_STATUS,    /* answer the status set with fake_cms_set_mode */
    FAKE_CMS_HANG,      /* say nothing until stopped (or 60 s) */
    FAKE_CMS_CLOSE,     /* send half the body, then close the connection */
    FAKE_CMS_MALFORMED, /* 200 with a body that is not JSON */
    FAKE_CMS_GONE_INCREMENTAL /* 410 for incremental, full served */
};

/* One request as the fake received it; strings owned by the fake. */
struct fake_cms_request {
    const char *path;          /* "/api/v1/sync/promotions/" */
    const char *body;          /* the JSON the edge sent */
    const char *authorization; /* the header, or NULL */
};

struct fake_cms;

/* Starts the server on 127.0.0.1 at a free port; NULL on failure. */
struct fake_cms *fake_cms_start(void);

/* Starts the server on a given port (0: a free one). */
struct fake_cms *fake_cms_start_port(unsigned port);

/* Stops the server and frees everything; NULL is a no-op. */
void fake_cms_stop(struct fake_cms *cms);

/* The port, and the base URL "http://127.0.0.1:PORT" (cms_url). */
unsigned fake_cms_port(const struct fake_cms *cms);
const char *fake_cms_url(const struct fake_cms *cms);

/* Sets the bodies served (copied). */
void fake_cms_set_full(struct fake_cms *cms, const char *body, size_t length);
void fake_cms_set_incremental(struct fake_cms *cms, const char *body,
                              size_t length);

/* Reads the bodies from files; false if one cannot be read. */
bool fake_cms_load_files(struct fake_cms *cms, const char *full_path,
                         const char *incremental_path);

/* Switches the mode; status is the HTTP status of FAKE_CMS_STATUS. */
void fake_cms_set_mode(struct fake_cms *cms, enum fake_cms_mode mode,
                       int status);

/* Parses "ok", "hang", "close", "malformed", "gone" or a status ("500"). */
bool fake_cms_mode_parse(const char *text, enum fake_cms_mode *mode,
                         int *status);

/* Sets the X-CMS-Version header sent ("fake-1.0" by default). */
void fake_cms_set_version(struct fake_cms *cms, const char *version);

/* Requests received so far (sync paths only). */
size_t fake_cms_request_count(struct fake_cms *cms);

/* Copies request i into *out; its strings live until fake_cms_stop. */
bool fake_cms_request_get(struct fake_cms *cms, size_t i,
                          struct fake_cms_request *out);

/* Forgets the recorded requests. */
void fake_cms_requests_clear(struct fake_cms *cms);

/*
 * Writes a deterministic full-sync body of count promotions for store and
 * company into a malloc'd string (the caller frees it): percent discounts
 * of realistic size (about 1.3 KB each), ids "<prefix>-<n>", codes
 * "<prefix>C<n>", names "<prefix> promotion <n>". first is the number of
 * the first promotion, so two sets can overlap.
 */
char *fake_cms_make_full_body(const char *store_id, const char *company_id,
                              const char *prefix, size_t first, size_t count,
                              size_t *length_out);

#endif
