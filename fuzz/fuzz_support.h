/*
 * fuzz_support.h - what the libFuzzer targets share: the one-time set-up
 * (jansson through ep_malloc, the store's zone, quiet logs), invariant
 * checks that abort with a message (libFuzzer reports an abort as a crash
 * and saves the input), the example data, and the checks every
 * evaluation result must pass.
 *
 * Fuzz code only; never linked into edgepromo. Single-threaded.
 */
#ifndef EP_FUZZ_SUPPORT_H
#define EP_FUZZ_SUPPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "engine/engine.h"

/* The example store's ids (examples/edgepromo.conf). */
#define FUZZ_STORE_ID   "ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c"
#define FUZZ_COMPANY_ID "812e76b6-f235-4bb2-948a-cae58ee62b97"
#define FUZZ_ZONE       "Asia/Jakarta"

/* 2026-03-06T12:00:00+07:00, a Friday: "now" of every evaluation. */
#define FUZZ_NOW ((int64_t)1772773200)

/* Once per process: allocator, zone, log level. */
void fuzz_init(void);

/* Aborts with a message when cond is false. */
#define FUZZ_CHECK(cond, ...)                                  \
    do {                                                       \
        if (!(cond))                                           \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
    } while (0)

_Noreturn void fuzz_fail(const char *file, int line, const char *cond,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reads a file of the source tree (relative path); aborts if missing. */
char *fuzz_read_source_file(const char *relative, size_t *length_out);

/*
 * The snapshot of a full-sync body in the source tree, built once and
 * kept for the process: "examples/full_sync.json" (the example store) or
 * "fuzz/data/workload_full_sync.json" (gen-workload, 40 promotions).
 */
const struct promo_set *fuzz_snapshot(const char *relative);

/*
 * Usage counts for evaluations, made up from the promotion and the
 * customer so that every limit check is reached by some input.
 */
extern const struct engine_limits fuzz_limits;

/*
 * Checks everything a result must hold (SPEC.md 4.1): the lines add up,
 * every applied amount is the sum of its line amounts, no total is
 * negative, the reasons are reasons; and that its JSON (the response of
 * /v1/cart/evaluate) parses and says the same totals.
 */
void fuzz_check_result(const struct eval_result *result,
                       const struct cart *cart);

/*
 * Checks a parse or compile failure: a known status with err set to it
 * and a message; EP_ERR_NOMEM only after an allocation really failed.
 */
void fuzz_check_failure(enum ep_status status, const struct ep_error *err);

/* Whether text (NUL-terminated) is valid UTF-8 by jansson's judgment. */
bool fuzz_is_utf8(const char *text);

#endif
