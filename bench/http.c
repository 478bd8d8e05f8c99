/*
 * bench/http.c - the POS API under load, client and server on one machine:
 * evaluate req/s with p50 and p99, and commit req/s.
 *
 *   build/bench/bench-http [--seconds N] [--connections N] [--threads N]
 *                          [--client-threads N] [--log-level LEVEL]
 *                          [--gen PATH]
 *
 * It generates the common workload (gen-workload --promotions 1000
 * --lines 10, seed 1), builds a SQLite database from its full sync, starts
 * the server in-process on 127.0.0.1 (an ephemeral port, `threads`
 * workers, logs to a file in the work folder, as in production), and runs
 * wrk twice: POST /v1/cart/evaluate over the 1,000 carts in turn
 * (bench/http_evaluate.lua), then POST /v1/transactions with a new
 * transaction id per request (bench/http_commit.lua). Defaults: 30 s per
 * run, 4 connections, 2 server threads, 1 wrk thread, log level info.
 * Prints wrk's report and a summary row.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/api.h"
#include "common/arena.h"
#include "common/localtime.h"
#include "common/log.h"
#include "common/mem.h"
#include "store/store.h"
#include "sync/sync.h"

#define STORE_ID   "ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c"
#define COMPANY_ID "812e76b6-f235-4bb2-948a-cae58ee62b97"
#define TOKEN      "bench-terminal-token-0001"

struct bench_options {
    int seconds;         /* per wrk run */
    int connections;     /* wrk -c */
    int client_threads;  /* wrk -t */
    const char *threads; /* server workers */
    const char *level;   /* server log level */
    const char *gen;     /* gen-workload */
};

/* What wrk reported. */
struct wrk_figures {
    double requests_per_s; /* "Requests/sec:" */
    double requests;       /* "N requests in" */
    double server_cpu_us;  /* this process's CPU per request */
    double client_cpu_us;  /* wrk's CPU per request */
    char p50[32];          /* latency at 50 %, as wrk prints it */
    char p99[32];          /* latency at 99 % */
};

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long size;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        data = ep_malloc((size_t)size + 1);
        if (data != NULL && fread(data, 1, (size_t)size, f) != (size_t)size) {
            ep_free(data);
            data = NULL;
        }
        if (data != NULL) {
            data[size] = '\0';
            *len = (size_t)size;
        }
    }
    fclose(f);
    return data;
}

/* One full sync's batch from a parsed payload. */
static void batch_of(const struct sync_payload *payload,
                     struct store_sync_batch *batch)
{
    memset(batch, 0, sizeof(*batch));
    batch->full = true;
    batch->company_id = COMPANY_ID;
    batch->store_id = STORE_ID;
    batch->items = payload->promotions;
    batch->item_count = payload->promotion_count;
    batch->replace_holidays = payload->has_holidays;
    batch->holidays = payload->holidays;
    batch->holiday_count = payload->holiday_count;
    batch->cursor = payload->sync_token;
    batch->synced_at = "2026-01-30 00:00:00";
}

/* Builds dir/edge.db from dir/full_sync.json through the store API. */
static int build_database(const char *dir, char *db, size_t db_size)
{
    char path[1024];
    size_t len = 0;
    char *text;
    struct store *store = NULL;
    struct sync_payload payload;
    struct store_sync_batch batch;
    struct ep_arena arena;
    struct ep_error err;
    enum ep_status status = EP_ERR_IO;

    ep_error_clear(&err);
    snprintf(path, sizeof(path), "%s/full_sync.json", dir);
    snprintf(db, db_size, "%s/edge.db", dir);
    text = read_all(path, &len);
    ep_arena_init(&arena, 1 << 20, (size_t)4 << 30);
    if (text != NULL)
        status = store_open(db, NULL, &store, &err);
    if (status == EP_OK)
        status = store_migrate(store, 0, NULL, &err);
    if (status == EP_OK)
        status = sync_payload_parse_full(text, len, STORE_ID, &arena, &payload,
                                         &err);
    if (status == EP_OK && payload.rejection_count > 0)
        status = ep_error_set(&err, EP_ERR_INVALID, NULL,
                              "%zu promotions of the workload are rejected",
                              payload.rejection_count);
    if (status == EP_OK) {
        batch_of(&payload, &batch);
        status = store_sync_apply(store, &batch, NULL, &err);
    }
    if (status != EP_OK)
        fprintf(stderr, "bench-http: database: %s\n", err.message);
    store_close(store);
    ep_arena_deinit(&arena);
    ep_free(text);
    return status == EP_OK ? 0 : 1;
}

static void config_set(struct ep_config *config, const char *key,
                       const char *value)
{
    struct ep_error err;

    ep_error_clear(&err);
    if (ep_config_set(config, key, value, EP_CONFIG_FROM_FLAG, &err)) {
        fprintf(stderr, "bench-http: %s\n", err.message);
        exit(2);
    }
}

/* Reads "Requests/sec:" and the 50% and 99% latency lines. */
static void parse_wrk(const char *report, struct wrk_figures *out)
{
    const char *p = strstr(report, "Requests/sec:");

    memset(out, 0, sizeof(*out));
    if (p != NULL)
        out->requests_per_s = strtod(p + strlen("Requests/sec:"), NULL);
    p = strstr(report, " requests in ");
    while (p != NULL && p > report && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (p != NULL)
        out->requests = strtod(p, NULL);
    p = strstr(report, " 50% ");
    if (p != NULL)
        sscanf(p + 5, "%31s", out->p50);
    p = strstr(report, " 99% ");
    if (p != NULL)
        sscanf(p + 5, "%31s", out->p99);
}

static double cpu_us(int who)
{
    struct rusage usage;

    getrusage(who, &usage);
    return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 +
           (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

/* Runs wrk with a script against path; prints and parses its report. */
static int run_wrk(const struct bench_options *o, unsigned port,
                   const char *script, const char *path, const char *carts,
                   int seconds, struct wrk_figures *out)
{
    char command[4096];
    char report[16384];
    size_t len = 0;
    FILE *pipe;

    snprintf(command, sizeof(command),
             "wrk -t%d -c%d -d%ds --latency -s '%s/bench/%s' "
             "http://127.0.0.1:%u%s -- '%s' %s 2>&1",
             o->client_threads, o->connections, seconds, EP_SOURCE_DIR, script,
             port, path, carts, TOKEN);
    double self = cpu_us(RUSAGE_SELF);
    double children = cpu_us(RUSAGE_CHILDREN);

    pipe = popen(command, "r");
    if (pipe == NULL)
        return 1;
    len = fread(report, 1, sizeof(report) - 1, pipe);
    report[len] = '\0';
    if (pclose(pipe) != 0) {
        fprintf(stderr, "bench-http: wrk failed:\n%s", report);
        return 1;
    }
    printf("$ %s\n%s\n", command, report);
    parse_wrk(report, out);
    if (out->requests > 0) {
        out->server_cpu_us = (cpu_us(RUSAGE_SELF) - self) / out->requests;
        out->client_cpu_us =
            (cpu_us(RUSAGE_CHILDREN) - children) / out->requests;
    }
    return 0;
}

/* A whole number from 1 to 100000, or exit 2. */
static int positive(const char *text)
{
    char *end = NULL;
    long value = strtol(text, &end, 10);

    if (end == text || *end != '\0' || value < 1 || value > 100000) {
        fprintf(stderr, "bench-http: '%s' is not a whole number from 1\n",
                text);
        exit(2);
    }
    return (int)value;
}

static void parse_options(int argc, char **argv, struct bench_options *o)
{
    static const struct option options[] = {
        { "seconds", required_argument, NULL, 's' },
        { "connections", required_argument, NULL, 'c' },
        { "threads", required_argument, NULL, 't' },
        { "client-threads", required_argument, NULL, 'T' },
        { "log-level", required_argument, NULL, 'l' },
        { "gen", required_argument, NULL, 'g' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    *o = (struct bench_options){ 30,
                                 4,
                                 1,
                                 "2",
                                 "info",
                                 EP_SOURCE_DIR "/../shared/bench/"
                                               "gen-workload" };
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 's')
            o->seconds = positive(optarg);
        else if (opt == 'c')
            o->connections = positive(optarg);
        else if (opt == 't')
            o->threads = optarg;
        else if (opt == 'T')
            o->client_threads = positive(optarg);
        else if (opt == 'l')
            o->level = optarg;
        else if (opt == 'g')
            o->gen = optarg;
        else
            exit(2);
    }
}

/* Sends the server's log lines to a file, as a deployment would. */
static int redirect_log(const char *dir)
{
    char path[1024];
    FILE *log;
    int saved = dup(2);

    snprintf(path, sizeof(path), "%s/serve.log", dir);
    log = fopen(path, "w");
    if (log == NULL)
        return saved;
    dup2(fileno(log), 2);
    fclose(log);
    return saved;
}

static void configure(const struct bench_options *o, const char *db,
                      struct ep_config *config)
{
    enum ep_log_level level = EP_LOG_INFO;

    ep_config_init(config);
    config_set(config, "db", db);
    config_set(config, "company_id", COMPANY_ID);
    config_set(config, "store_id", STORE_ID);
    config_set(config, "api_tokens", TOKEN);
    config_set(config, "threads", o->threads);
    config_set(config, "usage_synchronous", "FULL");
    ep_log_level_parse(o->level, &level);
    ep_log_set_level(level);
}

static void print_summary(const struct bench_options *o,
                          const struct wrk_figures *eval,
                          const struct wrk_figures *commit)
{
    printf("| evaluate req/s | p50 | p99 | server CPU/req | wrk CPU/req "
           "| commit req/s | server CPU/commit | connections | threads | log "
           "|\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
           "| %.0f | %s | %s | %.0f us | %.0f us | %.0f | %.0f us | %d | %s "
           "| %s |\n",
           eval->requests_per_s, eval->p50, eval->p99, eval->server_cpu_us,
           eval->client_cpu_us, commit->requests_per_s, commit->server_cpu_us,
           o->connections, o->threads, o->level);
}

static int bench(const struct bench_options *o, const char *dir)
{
    struct ep_config config;
    struct api_options api = { .listen = "127.0.0.1:0" };
    struct api_server *server = NULL;
    struct wrk_figures figures[3];
    struct ep_error err;
    char db[1024];
    char carts[1024];
    int rc;

    if (build_database(dir, db, sizeof(db)) != 0)
        return 1;
    snprintf(carts, sizeof(carts), "%s/carts.jsonl", dir);
    configure(o, db, &config);
    ep_error_clear(&err);
    if (api_server_start(&config, &api, &server, &err) != EP_OK) {
        fprintf(stderr, "bench-http: %s\n", err.message);
        return 1;
    }
    rc = run_wrk(o, api_server_port(server), "http_evaluate.lua",
                 "/v1/cart/evaluate", carts, 3, &figures[0]);
    if (rc == 0)
        rc = run_wrk(o, api_server_port(server), "http_evaluate.lua",
                     "/v1/cart/evaluate", carts, o->seconds, &figures[1]);
    if (rc == 0)
        rc = run_wrk(o, api_server_port(server), "http_commit.lua",
                     "/v1/transactions", carts, o->seconds, &figures[2]);
    api_server_stop(server);
    ep_config_deinit(&config);
    if (rc == 0)
        print_summary(o, &figures[1], &figures[2]);
    return rc;
}

int main(int argc, char **argv)
{
    struct bench_options o;
    char dir[] = "/tmp/edgepromo-bench-http-XXXXXX";
    char command[2048];
    int saved_stderr;
    int rc;

    parse_options(argc, argv, &o);
    ep_mem_install_json_allocator();
    ep_tz_apply("Asia/Jakarta", NULL);
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(command, sizeof(command),
             "python3 '%s' --out '%s' --promotions 1000 --lines 10 "
             "--carts 1000 --seed 1 >/dev/null",
             o.gen, dir);
    if (system(command) != 0) {
        fprintf(stderr, "bench-http: cannot run %s\n", o.gen);
        return 1;
    }
    saved_stderr = redirect_log(dir);
    rc = bench(&o, dir);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    return system(command) == 0 ? rc : 1;
}
