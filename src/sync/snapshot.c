/*
 * snapshot.c - builds the engine's snapshot from what the store holds.
 * Promotion rows are validated at sync; one that fails to compile now (a
 * row written by other software, say) is skipped and logged, not fatal.
 */
#include "common/log.h"
#include "sync/sync.h"

static void log_skipped(void *ctx, const struct promo_record *record,
                        const struct ep_error *why)
{
    char message[EP_ERROR_MESSAGE_MAX + 8];

    (void)ctx;
    ep_log(EP_LOG_WARN, "snapshot.skip", "promotion_id=%s field=%s reason=%s",
           record->id ? record->id : "-", why->field[0] ? why->field : "-",
           ep_log_quote(why->message, message, sizeof(message)));
}

enum ep_status sync_snapshot_load(struct store *store,
                                  const struct ep_config *config,
                                  struct promo_set **out, struct ep_error *err)
{
    struct ep_arena arena;
    struct promo_record *records = NULL;
    struct holiday_record *holidays = NULL;
    size_t count = 0;
    size_t holiday_count = 0;
    struct engine_settings settings = { config->company_id, config->store_id };
    enum ep_status status;

    ep_arena_init(&arena, 256 * 1024, (size_t)4 << 30);
    status = store_promotions_load(store, &arena, &records, &count, err);
    if (status == EP_OK)
        status =
            store_holidays_load(store, &arena, &holidays, &holiday_count, err);
    if (status == EP_OK)
        status = promo_set_build(records, count, holidays, holiday_count,
                                 &settings, log_skipped, NULL, out, err);
    ep_arena_deinit(&arena);
    return status;
}
