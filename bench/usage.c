/*
 * bench/usage.c - checkout commits per second and their latency, with one
 * writer and with four, on SQLite (synchronous=FULL and NORMAL) or on
 * PostgreSQL.
 *
 *   build/bench/bench-usage [GEN_WORKLOAD] [COMMITS_PER_WRITER] [ONLY]
 *   EDGEPROMO_BENCH_DB=postgresql://... build/bench/bench-usage ...
 *
 * ONLY, when given, runs the scenarios whose name contains it ("NORMAL").
 * EDGEPROMO_BENCH_DB, when it names a PostgreSQL database, runs the same
 * scenarios there, each in a fresh schema (bench_db.h); synchronous is a
 * SQLite setting, so only the FULL rows run (PostgreSQL's durability is
 * the server's configuration).
 *
 * Each scenario starts from a fresh database loaded with the common
 * workload (1,000 promotions, gen-workload seed 1); each writer is a thread
 * with its own connection, as the server's workers are, sharing one
 * snapshot, committing carts of carts.jsonl under fresh transaction ids
 * (usage_commit: evaluate + limits + usage rows + stored response, in one
 * write transaction: BEGIN IMMEDIATE, or BEGIN and the writers' lock).
 * The "bare" row is the floor on this disk: one usage row written and
 * committed through the store, no evaluation.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_db.h"
#include "common/localtime.h"
#include "common/mem.h"
#include "engine/engine.h"
#include "store/store.h"
#include "sync/sync.h"
#include "usage/usage.h"

#define MAX_CARTS 1000

static const char *const store_id = "ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c";
static const char *const company_id = "812e76b6-f235-4bb2-948a-cae58ee62b97";

static double now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

static void config_for(struct ep_config *config)
{
    memset(config, 0, sizeof(*config));
    config->company_id = (char *)company_id;
    config->store_id = (char *)store_id;
}

static const char *base; /* EDGEPROMO_BENCH_DB, or NULL: SQLite */

/* A fresh database with the workload's promotions; its URL into db. */
static int make_database(const char *dir, char *db, size_t size)
{
    char path[1024];
    struct ep_config config;
    struct store *store = NULL;
    struct sync_report report;
    enum ep_status status;

    if (bench_db_fresh(base, dir, "bench_usage", db, size) != 0)
        return -1;
    config_for(&config);
    snprintf(path, sizeof(path), "%s/full_sync.json", dir);
    status = store_open(db, NULL, &store, NULL);
    if (status == EP_OK)
        status = store_migrate(store, 0, NULL, NULL);
    if (status == EP_OK)
        status = sync_import_file(store, &config, path, NULL, &report, NULL);
    if (status == EP_OK)
        sync_report_deinit(&report);
    store_close(store);
    return status == EP_OK ? 0 : -1;
}

/* Reads carts.jsonl lines into memory. */
static size_t load_lines(const char *dir, char **lines)
{
    char path[1024];
    char buf[1 << 16];
    size_t n = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/carts.jsonl", dir);
    f = fopen(path, "r");
    while (f != NULL && n < MAX_CARTS && fgets(buf, sizeof(buf), f) != NULL)
        lines[n++] = ep_strdup(buf);
    if (f != NULL)
        fclose(f);
    return n;
}

/* What one writer thread does and reports. */
struct writer_job {
    const char *db;
    bool normal;
    bool bare;
    char **lines;
    size_t nlines;
    const struct promo_set *set;
    int id;
    int count;
    double *samples;
    int failed;
};

/* One writer: commits count carts, writing each latency to samples. */
static int writer(const char *db, bool normal, char **lines, size_t nlines,
                  const struct promo_set *set, int id, int count,
                  double *samples)
{
    struct store_options options = { .synchronous_normal = normal,
                                     .busy_timeout_ms = 60000 };
    struct store *store = NULL;
    struct ep_arena arena;
    struct ep_buf out;
    int failed = 0;

    if (store_open(db, &options, &store, NULL) != EP_OK)
        return 2;
    ep_arena_init(&arena, 1 << 20, (size_t)1 << 30);
    ep_buf_init(&out, 1 << 24);
    for (int k = 0; k < count; k++) {
        struct cart *cart = NULL;
        const char *text = lines[(size_t)(id * 7919 + k) % nlines];
        char txid[64];
        bool replayed = false;
        double t0;
        ep_arena_reset(&arena);
        ep_buf_reset(&out);
        if (cart_parse(text, strlen(text), &arena, &cart, NULL) != EP_OK) {
            failed = 3;
            break;
        }
        snprintf(txid, sizeof(txid), "bench-%d-%d", id, k);
        cart->transaction_id = txid;
        t0 = now_us();
        if (usage_commit(store, set, cart, store_id, ep_now(), &arena, &out,
                         &replayed, NULL) != EP_OK) {
            failed = 4;
            break;
        }
        samples[k] = now_us() - t0;
    }
    ep_buf_deinit(&out);
    ep_arena_deinit(&arena);
    store_close(store);
    return failed;
}

/* The floor: one usage row written and committed, no evaluation. */
static int bare_writer(const char *db, bool normal, int count, double *samples)
{
    struct store_options options = { .synchronous_normal = normal };
    struct store *store = NULL;
    int failed = 0;

    if (store_open(db, &options, &store, NULL) != EP_OK)
        return 2;
    for (int k = 0; k < count; k++) {
        char txid[64];
        struct store_usage_row row = { "p",
                                       "CODE",
                                       txid,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL,
                                       100,
                                       1000,
                                       900,
                                       "b",
                                       store_id,
                                       "2026-01-30 00:00:00",
                                       "2026-01-30" };
        double t0 = now_us();
        snprintf(txid, sizeof(txid), "bare-%d", k);
        if (store_write_begin(store, NULL) != EP_OK ||
            store_usage_insert(store, &row, NULL) != EP_OK ||
            store_write_commit(store, NULL) != EP_OK) {
            failed = 4;
            break;
        }
        samples[k] = now_us() - t0;
    }
    store_close(store);
    return failed;
}

static void *writer_main(void *arg)
{
    struct writer_job *job = arg;

    job->failed =
        job->bare ? bare_writer(job->db, job->normal, job->count, job->samples)
                  : writer(job->db, job->normal, job->lines, job->nlines,
                           job->set, job->id, job->count, job->samples);
    return NULL;
}

static struct promo_set *snapshot_of(const char *db)
{
    struct ep_config config;
    struct store *store = NULL;
    struct promo_set *set = NULL;

    config_for(&config);
    if (store_open(db, NULL, &store, NULL) == EP_OK)
        sync_snapshot_load(store, &config, &set, NULL);
    store_close(store);
    return set;
}

static const char *only; /* run only scenarios whose name has this */

static void report(const char *name, double *samples, size_t n,
                   double elapsed_us)
{
    qsort(samples, n, sizeof(*samples), compare_doubles);
    printf("| %-28s | %7zu | %9.0f | %7.0f | %7.0f |\n", name, n,
           (double)n / (elapsed_us / 1e6), samples[n / 2],
           samples[(n * 99) / 100]);
}

static int run(const char *dir, char **lines, size_t nlines, bool normal,
               int writers, int count, bool bare)
{
    char db[1200];
    size_t n = (size_t)writers * (size_t)count;
    double *samples = ep_calloc(n, sizeof(double));
    struct writer_job jobs[16];
    pthread_t threads[16];
    struct promo_set *set;
    char name[64];
    double start;
    int failed = 0;

    snprintf(name, sizeof(name), "%s, %d writer%s, %s",
             bare ? "bare insert" : "commit", writers, writers > 1 ? "s" : "",
             bench_db_is_postgres(base) ? "PostgreSQL"
             : normal                   ? "NORMAL"
                                        : "FULL");
    if (only != NULL && strstr(name, only) == NULL) {
        ep_free(samples);
        return 0;
    }
    if (samples == NULL || writers > 16 ||
        make_database(dir, db, sizeof(db)) != 0 ||
        (set = snapshot_of(db)) == NULL)
        return -1;
    start = now_us();
    for (int w = 0; w < writers; w++) {
        jobs[w] =
            (struct writer_job){ db,    normal, bare,
                                 lines, nlines, set,
                                 w,     count,  samples + (size_t)w * count,
                                 0 };
        pthread_create(&threads[w], NULL, writer_main, &jobs[w]);
    }
    for (int w = 0; w < writers; w++) {
        pthread_join(threads[w], NULL);
        failed |= jobs[w].failed;
    }
    if (!failed)
        report(name, samples, n, now_us() - start);
    promo_set_release(set);
    ep_free(samples);
    return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *gen = argc > 1 ? argv[1] : "../shared/bench/gen-workload";
    int count = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 2000;
    char dir[] = "/tmp/edgepromo-bench-usage-XXXXXX";
    char command[2048];
    char *lines[MAX_CARTS];
    size_t nlines;
    int failed = 0;

    only = argc > 3 ? argv[3] : NULL;
    base = bench_db_base(NULL);
    ep_tz_apply("Asia/Jakarta", NULL);
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(command, sizeof(command),
             "python3 '%s' --out '%s' --promotions 1000 --carts 1000 "
             "--seed 1 >/dev/null",
             gen, dir);
    if (system(command) != 0)
        return 1;
    nlines = load_lines(dir, lines);
    printf("engine: %s\n\n| scenario                     | commits | "
           "commits/s | p50 µs  | p99 µs  |\n|------------------------------|"
           "--------:|----------:|--------:|--------:|\n",
           bench_db_engine(base));
    fflush(stdout);
    failed |= run(dir, lines, nlines, false, 1, count, true);
    failed |= run(dir, lines, nlines, false, 1, count, false);
    failed |= run(dir, lines, nlines, false, 4, count / 4, false);
    if (!bench_db_is_postgres(base)) {
        failed |= run(dir, lines, nlines, true, 1, count, true);
        failed |= run(dir, lines, nlines, true, 1, count, false);
        failed |= run(dir, lines, nlines, true, 4, count / 4, false);
    }
    bench_db_drop(base, "bench_usage");
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    if (system(command) != 0 || failed)
        return 1;
    for (size_t i = 0; i < nlines; i++)
        ep_free(lines[i]);
    return 0;
}
