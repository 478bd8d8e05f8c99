/*
 * bench/engine.c - the engine's speed on the common workload: p50/p99 µs
 * per cart and carts/s on one core, for carts of 1, 10, 50 and 200 lines
 * against 100, 1,000 and 10,000 promotions.
 *
 *   build/bench/bench-engine [GEN_WORKLOAD] [ROUNDS] [PROMOTIONS LINES]
 *
 * GEN_WORKLOAD defaults to ../shared/bench/gen-workload beside the source
 * tree. For each size it generates a workload (seed 1, 300 carts), builds
 * the snapshot once, then evaluates every cart ROUNDS times (default 5),
 * timing engine_evaluate ("eval") and engine_evaluate plus writing the JSON
 * response ("+json"), with no I/O in the timed part. carts/s counts both on
 * one core. Also printed: carts with a discount, candidates reported in
 * not_applied and response bytes, per cart on average.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/localtime.h"
#include "common/mem.h"
#include "engine/engine.h"
#include "sync/sync.h"

#define CARTS       300
#define MAX_SAMPLES 100000

static const char *const store_id = "ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c";

static double now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long size;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = ep_malloc((size_t)size + 1);
    if (data != NULL && fread(data, 1, (size_t)size, f) != (size_t)size) {
        ep_free(data);
        data = NULL;
    }
    if (data != NULL)
        data[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return data;
}

static int generate(const char *gen, const char *dir, int promotions, int lines)
{
    char command[2048];

    snprintf(command, sizeof(command),
             "python3 '%s' --out '%s' --promotions %d --lines %d --carts %d "
             "--seed 1 >/dev/null",
             gen, dir, promotions, lines, CARTS);
    return system(command);
}

static struct promo_set *load_set(const char *dir, struct ep_arena *arena)
{
    char path[1024];
    size_t len = 0;
    char *text;
    struct sync_payload payload;
    struct engine_settings settings = { NULL, store_id };
    struct promo_set *set = NULL;

    snprintf(path, sizeof(path), "%s/full_sync.json", dir);
    text = read_all(path, &len);
    if (text == NULL ||
        sync_payload_parse_full(text, len, store_id, arena, &payload, NULL))
        return NULL;
    promo_set_build(payload.promotions, payload.promotion_count,
                    payload.holidays, payload.holiday_count, &settings, NULL,
                    NULL, &set, NULL);
    ep_free(text);
    return set;
}

static size_t load_carts(const char *dir, struct ep_arena *arena,
                         struct cart **carts)
{
    char path[1024];
    size_t len = 0;
    size_t count = 0;
    char *text;
    char *line;
    char *save = NULL;

    snprintf(path, sizeof(path), "%s/carts.jsonl", dir);
    text = read_all(path, &len);
    if (text == NULL)
        return 0;
    for (line = strtok_r(text, "\n", &save); line != NULL && count < CARTS;
         line = strtok_r(NULL, "\n", &save)) {
        if (cart_parse(line, strlen(line), arena, &carts[count], NULL) == EP_OK)
            count++;
    }
    ep_free(text);
    return count;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

static void measure(const struct promo_set *set, struct cart **carts,
                    size_t count, int rounds, int promotions, int lines)
{
    static double samples[MAX_SAMPLES];
    static double evals[MAX_SAMPLES];
    struct ep_arena arena;
    struct ep_buf out;
    size_t n = 0;
    double start = now_us();
    double elapsed;
    double discounted = 0;
    double reported = 0;
    double bytes = 0;

    ep_arena_init(&arena, 1 << 20, (size_t)1 << 30);
    ep_buf_init(&out, 1 << 26);
    for (int r = 0; r < rounds; r++) {
        for (size_t c = 0; c < count && n < MAX_SAMPLES; c++) {
            struct eval_result *result = NULL;
            double t0 = now_us();
            double t1;
            ep_arena_reset(&arena);
            ep_buf_reset(&out);
            engine_evaluate(set, carts[c], 0, NULL, &arena, &result, NULL);
            t1 = now_us();
            eval_result_write_json(result, carts[c], &out);
            evals[n] = t1 - t0;
            samples[n++] = now_us() - t0;
            discounted += result->discount_total > 0;
            reported += (double)result->not_applied_count;
            bytes += (double)out.len;
        }
    }
    elapsed = now_us() - start;
    qsort(samples, n, sizeof(*samples), compare_doubles);
    qsort(evals, n, sizeof(*evals), compare_doubles);
    printf("| %6d | %5d | %7.1f | %7.1f | %7.1f | %7.1f | %8.0f | %5.0f%% "
           "| %6.0f | %6.0f |\n",
           promotions, lines, evals[n / 2], evals[(n * 99) / 100],
           samples[n / 2], samples[(n * 99) / 100], (double)n / (elapsed / 1e6),
           100.0 * discounted / (double)n, reported / (double)n,
           bytes / (double)n);
    ep_buf_deinit(&out);
    ep_arena_deinit(&arena);
}

int main(int argc, char **argv)
{
    static const int sizes[] = { 100, 1000, 10000 };
    static const int line_counts[] = { 1, 10, 50, 200 };
    const char *gen = argc > 1 ? argv[1] : "../shared/bench/gen-workload";
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
    int only_promotions = argc > 4 ? (int)strtol(argv[3], NULL, 10) : 0;
    int only_lines = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 0;
    char dir[] = "/tmp/edgepromo-bench-XXXXXX";

    ep_mem_install_json_allocator();
    ep_tz_apply("Asia/Jakarta", NULL);
    if (mkdtemp(dir) == NULL)
        return 1;
    printf("| promos | lines | eval p50 | eval p99 | +json p50 | +json p99 "
           "| carts/s | disc. | not_applied | bytes |\n"
           "|-------:|------:|--------:|--------:|--------:|--------:|"
           "---------:|------:|-------:|-------:|\n");
    for (size_t s = 0; s < 3; s++) {
        for (size_t l = 0; l < 4; l++) {
            struct ep_arena arena;
            struct cart **carts = ep_calloc(CARTS, sizeof(*carts));
            struct promo_set *set;
            size_t count;
            if ((only_promotions && only_promotions != sizes[s]) ||
                (only_lines && only_lines != line_counts[l])) {
                ep_free(carts);
                continue;
            }
            ep_arena_init(&arena, 1 << 20, (size_t)4 << 30);
            if (generate(gen, dir, sizes[s], line_counts[l]) != 0) {
                fprintf(stderr, "bench-engine: cannot run %s\n", gen);
                return 1;
            }
            set = load_set(dir, &arena);
            count = load_carts(dir, &arena, carts);
            if (set == NULL || count == 0)
                return 1;
            measure(set, carts, count, rounds, sizes[s], line_counts[l]);
            promo_set_release(set);
            ep_free(carts);
            ep_arena_deinit(&arena);
        }
    }
    return system("rm -rf /tmp/edgepromo-bench-??????") == 0 ? 0 : 1;
}
