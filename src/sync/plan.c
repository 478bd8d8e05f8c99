/*
 * plan.c - when the scheduler syncs next, as pure functions of a plan, a
 * policy and a time, so that days of schedule can be tested against a
 * simulated clock.
 *
 * The rules. A full sync is due at start and every full_interval; an
 * incremental every incremental_interval after the last good run. A run
 * that fails in a way a retry may cure (network, timeout, 5xx, 408, 429, a
 * bad body, the database) is tried again, the same kind, after
 *
 *     d = min(cap, base * 2^(failures - 1)),  drawn uniformly in [d/2, d]
 *
 * ("equal jitter": the delay still grows, but a fleet of stores coming
 * back after an outage does not knock on the CMS in step). With base 10 s
 * and cap 15 min: 10, 20, 40, 80, 160, 320, 640, 900, 900 ... seconds, each
 * between half and all of that; offline for a day, that is at most about
 * 190 attempts. A failure a retry will not cure (401, 403, 404, another
 * 4xx) waits the normal incremental interval: no tight loop, and no
 * growth either, so a fixed token is picked up at the next interval.
 * A good run resets the backoff; the next run after an outage catches up
 * by itself, since the cursor only moves on success.
 */
#include <assert.h>

#include "sync/internal.h"

#define BACKOFF_BASE_MS ((int64_t)10 * 1000)
#define BACKOFF_CAP_MS  ((int64_t)15 * 60 * 1000)

void sync_policy_from_config(const struct ep_config *config,
                             struct sync_policy *out)
{
    out->incremental_interval_ms = (int64_t)config->sync_interval * 1000;
    out->full_interval_ms = (int64_t)config->full_sync_interval * 1000;
    out->backoff_base_ms = BACKOFF_BASE_MS;
    out->backoff_cap_ms = BACKOFF_CAP_MS;
}

void sync_plan_init(struct sync_plan *plan, int64_t now_ms, uint64_t seed)
{
    plan->full_due_ms = now_ms;
    plan->incremental_due_ms = now_ms;
    plan->retry_at_ms = now_ms;
    plan->retrying = false;
    plan->retry_kind = SYNC_FULL;
    plan->failures = 0;
    plan->rng = seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
}

/* xorshift64*: small, fast, good enough for jitter. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

int64_t sync_backoff_ms(const struct sync_policy *policy, int failures,
                        uint64_t *rng)
{
    int64_t d = policy->backoff_base_ms;
    int64_t half;

    assert(failures >= 1 && policy->backoff_base_ms > 0);
    for (int i = 1; i < failures && d < policy->backoff_cap_ms; i++)
        d *= 2;
    if (d > policy->backoff_cap_ms)
        d = policy->backoff_cap_ms;
    half = d / 2;
    return d - half + (int64_t)(next_random(rng) % (uint64_t)(half + 1));
}

void sync_plan_next(const struct sync_plan *plan, enum sync_kind *kind_out,
                    int64_t *at_ms_out)
{
    if (plan->retrying) {
        *kind_out = plan->retry_kind;
        *at_ms_out = plan->retry_at_ms;
        return;
    }
    if (plan->full_due_ms <= plan->incremental_due_ms) {
        *kind_out = SYNC_FULL;
        *at_ms_out = plan->full_due_ms;
        return;
    }
    *kind_out = SYNC_INCREMENTAL;
    *at_ms_out = plan->incremental_due_ms;
}

/* A good run of kind ran at now_ms. */
static void record_good(struct sync_plan *plan,
                        const struct sync_policy *policy, enum sync_kind ran,
                        int64_t now_ms)
{
    plan->retrying = false;
    plan->failures = 0;
    if (ran != SYNC_INCREMENTAL)
        plan->full_due_ms = now_ms + policy->full_interval_ms;
    plan->incremental_due_ms = now_ms + policy->incremental_interval_ms;
}

void sync_plan_record(struct sync_plan *plan, const struct sync_policy *policy,
                      enum sync_kind attempted,
                      const struct sync_report *report, int64_t now_ms)
{
    switch (report->retry) {
    case SYNC_RETRY_NONE:
        record_good(plan, policy, report->kind, now_ms);
        return;
    case SYNC_RETRY_BACKOFF:
        plan->failures++;
        plan->retrying = true;
        plan->retry_kind = attempted;
        plan->retry_at_ms =
            now_ms + sync_backoff_ms(policy, plan->failures, &plan->rng);
        return;
    default:
        plan->failures = 0;
        plan->retrying = true;
        plan->retry_kind = attempted;
        plan->retry_at_ms = now_ms + policy->incremental_interval_ms;
        return;
    }
}
