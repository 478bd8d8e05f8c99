/*
 * fixture.h - what the api tests share: a database built from a full-sync
 * file, a server started in-process on 127.0.0.1 with an ephemeral port,
 * a libcurl client that keeps its connection, and queries on the SQLite
 * file to prove what was (or was not) written.
 */
#ifndef EP_TEST_API_FIXTURE_H
#define EP_TEST_API_FIXTURE_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "common/config.h"

#define FIXTURE_STORE   "S1"
#define FIXTURE_COMPANY "C1"
#define FIXTURE_TOKEN   "tok-terminal-1-7f3a9c"
#define FIXTURE_TOKEN2  "tok-terminal-2-b81e44"
#define FIXTURE_SYNC    "tests/data/api/full_sync.json"

struct api_fixture {
    char dir[512];             /* temporary folder */
    char db[600];              /* the SQLite file */
    struct ep_config config;   /* the server's config */
    struct api_server *server; /* running server, or NULL */
    char url[64];              /* "http://127.0.0.1:PORT" */
    unsigned port;             /* bound port */
};

/* Creates db (migrated) with the promotions of a full-sync file. */
void fixture_db_build(const char *db, const char *full_sync_path,
                      const char *store_id, const char *company_id);

/* Builds a fresh database from FIXTURE_SYNC and starts a server on it. */
void fixture_start(struct api_fixture *f, const struct api_options *options);

/*
 * Serves an existing database (a SQLite path or a postgresql:// URL, built
 * with fixture_db_build) with the fixture's config plus extra (key, value,
 * ..., NULL; may be NULL). f->dir is empty: nothing to remove.
 */
void fixture_serve(struct api_fixture *f, const struct api_options *options,
                   const char *db, const char *const *extra);

/*
 * Like fixture_start, with more config: extra holds key, value, key,
 * value, ..., NULL.
 */
void fixture_start_with(struct api_fixture *f,
                        const struct api_options *options,
                        const char *const *extra);

/* Stops the server (if running) and removes everything. */
void fixture_stop(struct api_fixture *f);

/* A reply, with the body NUL-terminated and the headers as received. */
struct http_reply {
    long status;        /* HTTP status; 0 when the request failed */
    char *body;         /* malloc'd */
    size_t len;         /* body bytes */
    char headers[8192]; /* response headers as received */
    size_t headers_len; /* bytes in headers */
    long connects;      /* new connections this request made */
    json_t *json;       /* parsed body, or NULL */
};

struct http_client {
    CURL *curl;    /* one easy handle: connections are reused */
    char base[64]; /* "http://127.0.0.1:PORT" */
    bool raw;      /* do not parse replies (fault injection) */
};

void http_client_init(struct http_client *c, const char *base);
void http_client_deinit(struct http_client *c);

/*
 * Sends a request. token NULL: no Authorization; content_type NULL with a
 * body: application/json. body NULL: no body.
 */
void http_send(struct http_client *c, const char *method, const char *path,
               const char *token, const char *content_type, const char *body,
               size_t body_len, struct http_reply *reply);

/* GET with the fixture's token. */
void http_get(struct http_client *c, const char *path,
              struct http_reply *reply);

/* POST of a JSON body with the fixture's token. */
void http_post(struct http_client *c, const char *path, const char *body,
               struct http_reply *reply);

void http_reply_free(struct http_reply *reply);

/* The value of a response header (case-insensitive), copied into out. */
bool http_reply_header(const struct http_reply *reply, const char *name,
                       char *out, size_t size);

/* Asserts status and, for errors, the JSON error shape's code. */
void expect_error(const struct http_reply *reply, long status,
                  const char *code);

/* A string member of the reply's JSON, by dotted path ("error.field"). */
const char *reply_string(const struct http_reply *reply, const char *path);

/* An integer-valued member by dotted path; fails the test when absent. */
long long reply_int(const struct http_reply *reply, const char *path);

/* One integer from an SQL query on db. */
long long db_int(const char *db, const char *sql);

/*
 * A fingerprint of every row a request could change: promotions (and
 * their current_uses), usage rows, checkouts, voids. Equal fingerprints:
 * nothing was written. out holds at least 256 bytes.
 */
void db_fingerprint(const char *db, char *out, size_t size);

/* A cart of the fixture's store: a drink and a nasi goreng at noon. */
void fixture_cart(char *out, size_t size, const char *transaction_id);

#endif
