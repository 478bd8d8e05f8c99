/* usage.c - usage limits from the store, checkout commits and voids. */
#include "usage/usage.h"

static enum ep_status counts_from_store(void *ctx,
                                        const struct promo_record *record,
                                        const char *usage_date,
                                        const char *customer_id,
                                        struct engine_usage_counts *out)
{
    struct store_usage_counts counts;
    enum ep_status status = store_usage_counts_get(
        ctx, record->id, usage_date, customer_id, &counts, NULL);

    if (status != EP_OK)
        return status;
    out->total = counts.total;
    out->day = counts.day;
    out->customer = counts.customer;
    return EP_OK;
}

void usage_limits_from_store(struct store *store, struct engine_limits *out)
{
    out->counts = counts_from_store;
    out->ctx = store;
}
