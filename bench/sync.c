/*
 * bench/sync.c - the figures of issue 4: a full sync of the shared
 * workload (gen-workload --promotions 10000) from the fake CMS over
 * loopback HTTP, end to end, and an incremental of --changes changes: wall
 * time, peak RSS, database bytes per promotion.
 *
 *   bench-sync [--workload DIR] [--gen PATH] [--promotions N] [--changes N]
 *              [--db postgresql://...]
 *
 * Without --workload, PATH (default /work/shared/bench/gen-workload, or
 * $EP_GEN_WORKLOAD) writes one into a temporary folder. The fake CMS runs
 * in a child process, and each measured sync in another, so the peak RSS
 * printed is that of the syncing process alone. --db (or
 * EDGEPROMO_BENCH_DB) naming a PostgreSQL database runs the same syncs
 * there, in a fresh schema (bench_db.h); the size printed is then that of
 * the schema's tables and indexes.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_db.h"
#include "common/log.h"
#include "common/mem.h"
#include "fake_cms.h"
#include "store/store.h"
#include "sync/sync.h"

#define STORE_ID   "ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c"
#define COMPANY_ID "812e76b6-f235-4bb2-948a-cae58ee62b97"

/* What a measured child reports through its pipe. */
struct figures {
    int status;            /* the sync's enum ep_status */
    double sync_ms;        /* sync_run, wall */
    long rss_before_kib;   /* peak RSS after opening the store */
    long rss_peak_kib;     /* peak RSS after the sync */
    long long received;    /* promotions received */
    long long changed;     /* added + updated + deleted */
    long long phase_ms[4]; /* fetch, parse, validate, apply */
};

static double now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static long peak_rss_kib(void)
{
    struct rusage usage;

    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

/* In a child: one sync of kind, figures written to fd. */
static void measure_child(const char *db, const char *url, enum sync_kind kind,
                          int fd)
{
    struct ep_config config;
    struct store *store = NULL;
    struct sync_report report;
    struct ep_error err = { 0 };
    struct figures fig = { 0 };
    double start;

    ep_mem_install_json_allocator();
    ep_log_set_level(EP_LOG_WARN);
    ep_config_init(&config);
    ep_config_set(&config, "company_id", COMPANY_ID, EP_CONFIG_FROM_FLAG, &err);
    ep_config_set(&config, "store_id", STORE_ID, EP_CONFIG_FROM_FLAG, &err);
    ep_config_set(&config, "cms_url", url, EP_CONFIG_FROM_FLAG, &err);
    ep_config_set(&config, "log_level", "warn", EP_CONFIG_FROM_FLAG, &err);
    if (store_open(db, NULL, &store, &err) != EP_OK ||
        store_migrate(store, 0, NULL, &err) != EP_OK) {
        fprintf(stderr, "bench-sync: %s\n", err.message);
        _exit(1);
    }
    fig.rss_before_kib = peak_rss_kib();
    start = now_ms();
    fig.status = (int)sync_run(store, &config, kind, NULL, &report, &err);
    fig.sync_ms = now_ms() - start;
    fig.rss_peak_kib = peak_rss_kib();
    fig.received = (long long)report.received;
    fig.changed = (long long)(report.added + report.updated + report.deleted);
    fig.phase_ms[0] = (long long)report.fetch_ms;
    fig.phase_ms[1] = (long long)report.parse_ms;
    fig.phase_ms[2] = (long long)report.prepare_ms;
    fig.phase_ms[3] = (long long)report.apply_ms;
    if (fig.status != EP_OK)
        fprintf(stderr, "bench-sync: %s\n", err.message);
    sync_report_deinit(&report);
    store_close(store);
    ep_config_deinit(&config);
    if (write(fd, &fig, sizeof(fig)) != (ssize_t)sizeof(fig))
        _exit(1);
    _exit(0);
}

static struct figures measure(const char *db, const char *url,
                              enum sync_kind kind)
{
    struct figures fig = { -1, 0, 0, 0, 0, 0, { 0, 0, 0, 0 } };
    int fds[2];
    pid_t pid;

    if (pipe(fds) != 0)
        exit(1);
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        measure_child(db, url, kind, fds[1]);
    }
    close(fds[1]);
    if (read(fds[0], &fig, sizeof(fig)) != (ssize_t)sizeof(fig))
        fig.status = -1;
    close(fds[0]);
    waitpid(pid, NULL, 0);
    return fig;
}

/* Forks the fake CMS; its port comes back through a pipe. */
static pid_t start_cms(const char *dir, unsigned *port)
{
    char full[600];
    char incremental[600];
    int fds[2];
    pid_t pid;

    snprintf(full, sizeof(full), "%s/full_sync.json", dir);
    snprintf(incremental, sizeof(incremental), "%s/incremental.json", dir);
    if (pipe(fds) != 0)
        exit(1);
    pid = fork();
    if (pid == 0) {
        struct fake_cms *cms = fake_cms_start();
        unsigned p = 0;
        if (cms != NULL && fake_cms_load_files(cms, full, incremental))
            p = fake_cms_port(cms);
        if (write(fds[1], &p, sizeof(p)) != (ssize_t)sizeof(p) || p == 0)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    if (read(fds[0], port, sizeof(*port)) != (ssize_t)sizeof(*port) ||
        *port == 0) {
        fprintf(stderr, "bench-sync: the fake CMS did not start\n");
        exit(1);
    }
    close(fds[0]);
    return pid;
}

static void print(const char *what, const struct figures *f)
{
    printf("%-34s %8.1f ms  peak RSS %5.1f MiB (%.1f before)  received "
           "%lld  changed %lld  %s\n",
           what, f->sync_ms, (double)f->rss_peak_kib / 1024.0,
           (double)f->rss_before_kib / 1024.0, f->received, f->changed,
           f->status == 0 ? "ok" : "FAILED");
    printf("%-34s fetch %lld ms, parse %lld ms, validate %lld ms, "
           "store %lld ms\n",
           "", f->phase_ms[0], f->phase_ms[1], f->phase_ms[2], f->phase_ms[3]);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        { "workload", required_argument, NULL, 'w' },
        { "gen", required_argument, NULL, 'g' },
        { "promotions", required_argument, NULL, 'p' },
        { "changes", required_argument, NULL, 'c' },
        { "db", required_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 },
    };
    const char *gen = getenv("EP_GEN_WORKLOAD");
    const char *workload = NULL;
    const char *base = NULL;
    long long size;
    long promotions = 10000;
    long changes = 100;
    char dir[256] = "/tmp/bench-sync-XXXXXX";
    char db[1200];
    char url[64];
    char command[1200];
    unsigned port = 0;
    pid_t cms;
    struct figures full, again, incremental;
    int opt;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'w')
            workload = optarg;
        else if (opt == 'g')
            gen = optarg;
        else if (opt == 'p')
            promotions = strtol(optarg, NULL, 10);
        else if (opt == 'c')
            changes = strtol(optarg, NULL, 10);
        else if (opt == 'd')
            base = optarg;
        else
            return 2;
    }
    if (mkdtemp(dir) == NULL)
        return 1;
    if (workload == NULL) {
        snprintf(command, sizeof(command),
                 "python3 '%s' --promotions %ld --changes %ld --out '%s' "
                 ">/dev/null",
                 gen != NULL ? gen : "/work/shared/bench/gen-workload",
                 promotions, changes, dir);
        if (system(command) != 0) {
            fprintf(stderr, "bench-sync: gen-workload failed\n");
            return 1;
        }
        workload = dir;
    }
    base = bench_db_base(base);
    if (bench_db_fresh(base, dir, "bench_sync", db, sizeof(db)) != 0)
        return 1;
    printf("engine: %s\n", bench_db_engine(base));
    cms = start_cms(workload, &port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
    full = measure(db, url, SYNC_FULL);
    size = bench_db_size(base, dir, "bench_sync");
    print("full sync into an empty database", &full);
    printf("%-34s %8.0f bytes per promotion (%lld bytes)\n", "database",
           full.received > 0 ? (double)size / (double)full.received : 0.0,
           size);
    again = measure(db, url, SYNC_FULL);
    print("full sync of the same set again", &again);
    incremental = measure(db, url, SYNC_INCREMENTAL);
    print("incremental sync", &incremental);
    kill(cms, SIGKILL);
    waitpid(cms, NULL, 0);
    bench_db_drop(base, "bench_sync");
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    if (system(command) != 0)
        return 1;
    return full.status == 0 && again.status == 0 && incremental.status == 0 ? 0
                                                                            : 1;
}
