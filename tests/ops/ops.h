/*
 * ops.h - what the operations tests share: a store folder with a config
 * (the example store's, with its own database and port), the edgepromo
 * binary run as store IT runs it, `edgepromo serve` as a child process
 * with its log in a file, an HTTP client, one-value SQL queries on the
 * SQLite file, and the folder where tests keep artifacts for people.
 * Test code only.
 */
#ifndef EP_TEST_OPS_H
#define EP_TEST_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The example store's terminal token (examples/edgepromo.conf). */
#define OPS_TOKEN "demo-terminal-token-0001"

struct ops_env {
    char dir[512];    /* temporary folder, removed by ops_env_free */
    char config[600]; /* dir/edgepromo.conf */
    char db[600];     /* dir/edge.db */
    char log[600];    /* dir/serve.log: every serve's stderr, appended */
    unsigned port;    /* the POS API's port */
    pid_t server;     /* running `serve`, or 0 */
};

/*
 * Makes a folder with a config: examples/edgepromo.conf, then db, listen on
 * a free port, and the lines of extra (may be NULL) last, so they win.
 */
void ops_env_init(struct ops_env *env, const char *extra);

/* Stops a running server (it must exit 0) and removes the folder. */
void ops_env_free(struct ops_env *env);

/*
 * Runs `edgepromo --config CONFIG args` from the source folder with an
 * empty environment; stdout and stderr into malloc'd strings (may be
 * NULL). Returns the exit status.
 */
int ops_cli(const struct ops_env *env, const char *args, char **out,
            char **err);

/* Starts `edgepromo serve` and waits until GET /readyz answers 200. */
void ops_serve_start(struct ops_env *env);

/* Sends SIGTERM and waits; returns the exit status (-1: killed). */
int ops_serve_stop(struct ops_env *env);

/*
 * One HTTP request to the server. auth: NULL, "Bearer TOKEN" (a header)
 * or "user:password" (HTTP Basic). body: NULL or JSON. The reply body is
 * malloc'd into *reply (may be NULL). Returns the HTTP status, 0 on a
 * transport failure.
 */
long ops_http(const struct ops_env *env, const char *method, const char *path,
              const char *auth, const char *body, char **reply);

/* Runs a query on a SQLite file; the first column of the first row. */
long long ops_sql_int(const char *db, const char *sql);

/* Runs SQL statements on a SQLite file; aborts on failure. */
void ops_sql_exec(const char *db, const char *sql);

/* All rows of a query, columns joined by '|', rows by '\n'; malloc'd. */
char *ops_sql_text(const char *db, const char *sql);

/*
 * The artifact path for name: <source>/tests/artifacts/<build>-<name>,
 * where <build> is the build folder's name (build, build-asan), so that
 * the two builds of scripts/test.sh keep theirs apart.
 */
void ops_artifact_path(const char *name, char *out, size_t size);

/* Appends text to a file; false on failure. */
bool ops_append_file(const char *path, const char *text);

/* Monotonic microseconds (one clock for every process). */
long long ops_now_us(void);

#endif
