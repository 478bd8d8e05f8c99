/* ops.c - the helpers of ops.h. */
#include "ops.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#define READY_WAIT_MS 20000

long long ops_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool ops_append_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "a");
    bool ok;

    if (f == NULL)
        return false;
    ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* A TCP port nobody listens on now (the kernel's pick). */
static unsigned free_port(void)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    unsigned port = 0;

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs(addr.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

void ops_env_init(struct ops_env *env, const char *extra)
{
    char example[1024];
    char *base;
    char *text;
    size_t size;

    memset(env, 0, sizeof(*env));
    test_tmpdir(env->dir, sizeof(env->dir));
    snprintf(env->config, sizeof(env->config), "%s/edgepromo.conf", env->dir);
    snprintf(env->db, sizeof(env->db), "%s/edge.db", env->dir);
    snprintf(env->log, sizeof(env->log), "%s/serve.log", env->dir);
    env->port = free_port();
    test_source_path("examples/edgepromo.conf", example, sizeof(example));
    base = test_read_file(example, NULL);
    if (base == NULL)
        abort();
    size = strlen(base) + 2048 + (extra ? strlen(extra) : 0);
    text = malloc(size);
    snprintf(text, size, "%s\ndb = %s\nlisten = 127.0.0.1:%u\n%s\n", base,
             env->db, env->port, extra ? extra : "");
    if (!test_write_file(env->config, text))
        abort();
    free(text);
    free(base);
}

void ops_env_free(struct ops_env *env)
{
    char *log;

    if (env->server > 0)
        ops_serve_stop(env);
    log = env->dir[0] != '\0' ? test_read_file(env->log, NULL) : NULL;
    if (log != NULL)
        fputs(log, stderr); /* into ctest's log: test-ops-log-audit */
    free(log);
    if (env->dir[0] != '\0')
        test_rmdir(env->dir);
    env->dir[0] = '\0';
}

/* "NAME=value " for sanitizer options the test run has, else "". */
static void pass_env(const char *name, char *out, size_t size)
{
    const char *value = getenv(name);

    out[0] = '\0';
    if (value != NULL)
        snprintf(out, size, "%s='%s' ", name, value);
}

int ops_cli(const struct ops_env *env, const char *args, char **out, char **err)
{
    char asan[256];
    char ubsan[256];
    size_t size = strlen(args) + 4096;
    char *command = malloc(size);
    int rc;

    pass_env("ASAN_OPTIONS", asan, sizeof(asan));
    pass_env("UBSAN_OPTIONS", ubsan, sizeof(ubsan));
    snprintf(command, size,
             "cd '%s' && env -i PATH=/usr/bin:/bin %s%s'%s' --config '%s' %s",
             test_source_dir(), asan, ubsan, test_binary(), env->config, args);
    rc = test_run(command, out, err);
    free(command);
    return rc;
}

/* The child side of ops_serve_start: stderr and stdout to the log. */
static void exec_serve(const struct ops_env *env)
{
    char asan[300] = "ASAN_OPTIONS=";
    char ubsan[300] = "UBSAN_OPTIONS=";
    char *envp[] = { "PATH=/usr/bin:/bin", asan, ubsan, NULL };
    int fd = open(env->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

    if (getenv("ASAN_OPTIONS") != NULL)
        snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s", getenv("ASAN_OPTIONS"));
    if (getenv("UBSAN_OPTIONS") != NULL)
        snprintf(ubsan, sizeof(ubsan), "UBSAN_OPTIONS=%s",
                 getenv("UBSAN_OPTIONS"));
    if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
        _exit(127);
    close(fd);
    execle(test_binary(), "edgepromo", "--config", env->config, "serve",
           (char *)NULL, envp);
    _exit(127);
}

void ops_serve_start(struct ops_env *env)
{
    long long deadline = ops_now_us() + READY_WAIT_MS * 1000LL;
    int status;

    env->server = fork();
    if (env->server < 0)
        abort();
    if (env->server == 0)
        exec_serve(env);
    while (ops_now_us() < deadline) {
        if (ops_http(env, "GET", "/readyz", NULL, NULL, NULL) == 200)
            return;
        if (waitpid(env->server, &status, WNOHANG) == env->server) {
            env->server = 0;
            fprintf(stderr, "ops: serve exited early; see %s\n", env->log);
            abort();
        }
        usleep(50 * 1000);
    }
    fprintf(stderr, "ops: serve not ready in %d ms\n", READY_WAIT_MS);
    abort();
}

int ops_serve_stop(struct ops_env *env)
{
    int status = 0;

    if (env->server <= 0)
        return -1;
    kill(env->server, SIGTERM);
    while (waitpid(env->server, &status, 0) < 0 && errno == EINTR)
        continue;
    env->server = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* libcurl's write callback: appends to a malloc'd string. */
struct grow {
    char *data;
    size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *ctx)
{
    struct grow *g = ctx;
    char *bigger = realloc(g->data, g->len + size * n + 1);

    if (bigger == NULL)
        return 0;
    g->data = bigger;
    memcpy(g->data + g->len, ptr, size * n);
    g->len += size * n;
    g->data[g->len] = '\0';
    return size * n;
}

/* Sets the request's auth: a Bearer header or Basic user:password. */
static struct curl_slist *set_auth(CURL *curl, const char *auth,
                                   struct curl_slist *headers)
{
    char line[512];

    if (auth == NULL)
        return headers;
    if (strncmp(auth, "Bearer ", 7) == 0) {
        snprintf(line, sizeof(line), "Authorization: %s", auth);
        return curl_slist_append(headers, line);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERPWD, auth);
    return headers;
}

long ops_http(const struct ops_env *env, const char *method, const char *path,
              const char *auth, const char *body, char **reply)
{
    static bool curl_ready;
    struct grow got = { NULL, 0 };
    struct curl_slist *headers = NULL;
    char url[1024];
    long code = 0;
    CURL *curl;

    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = true;
    }
    curl = curl_easy_init();
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", env->port, path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &got);
    headers = set_auth(curl, auth, headers);
    if (body != NULL) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (reply != NULL)
        *reply = got.data != NULL ? got.data : calloc(1, 1);
    else
        free(got.data);
    return code;
}

static sqlite3 *open_db(const char *db)
{
    sqlite3 *conn = NULL;

    if (sqlite3_open_v2(db, &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK)
        abort();
    sqlite3_busy_timeout(conn, 10000);
    return conn;
}

long long ops_sql_int(const char *db, const char *sql)
{
    sqlite3 *conn = open_db(db);
    sqlite3_stmt *stmt = NULL;
    long long value = -1;

    if (sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        value = sqlite3_column_int64(stmt, 0);
    else
        fprintf(stderr, "ops: %s: %s\n", sql, sqlite3_errmsg(conn));
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    return value;
}

void ops_sql_exec(const char *db, const char *sql)
{
    sqlite3 *conn = open_db(db);
    char *message = NULL;

    if (sqlite3_exec(conn, sql, NULL, NULL, &message) != SQLITE_OK) {
        fprintf(stderr, "ops: %s: %s\n", sql, message);
        abort();
    }
    sqlite3_close(conn);
}

static void append(struct grow *g, const char *text)
{
    on_data((char *)text, 1, strlen(text), g);
}

char *ops_sql_text(const char *db, const char *sql)
{
    sqlite3 *conn = open_db(db);
    sqlite3_stmt *stmt = NULL;
    struct grow out = { calloc(1, 1), 0 };

    if (sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL) != SQLITE_OK)
        fprintf(stderr, "ops: %s: %s\n", sql, sqlite3_errmsg(conn));
    while (stmt != NULL && sqlite3_step(stmt) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(stmt); i++) {
            const unsigned char *v = sqlite3_column_text(stmt, i);
            append(&out, i > 0 ? "|" : "");
            append(&out, v != NULL ? (const char *)v : "NULL");
        }
        append(&out, "\n");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    return out.data;
}

void ops_artifact_path(const char *name, char *out, size_t size)
{
    const char *build = getenv("EP_BUILD_DIR");
    const char *base = build != NULL ? strrchr(build, '/') : NULL;
    char folder[1024];

    base = base != NULL ? base + 1 : (build != NULL ? build : "build");
    test_source_path("tests/artifacts", folder, sizeof(folder));
    mkdir(folder, 0755);
    snprintf(out, size, "%s/%s-%s", folder, base, name);
}
