/*
 * promo_record.h - one promotion as the seed note's columns hold it.
 *
 * This plain record is the common language of three parts: sync builds it
 * from the CMS's JSON, the store reads and writes it as a row, and the
 * engine compiles it. Text columns keep the database's forms (dates
 * "YYYY-MM-DD", times "HH:MM:SS", JSON as text) so that the record is the
 * row, exactly. Strings are borrowed from whoever filled the record (an
 * arena, usually); the record owns nothing. NULL columns are NULL pointers,
 * or has_* false for numbers.
 */
#ifndef EP_PROMO_RECORD_H
#define EP_PROMO_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"

struct promo_record {
    const char *id;                 /* UUID from the CMS; primary key */
    const char *code;               /* unique per (store_id, code) */
    const char *name;               /* shown to cashiers */
    const char *description;        /* may be NULL */
    const char *terms_conditions;   /* may be NULL */
    const char *company_id;         /* owner company */
    const char *brand_id;           /* owner brand */
    const char *store_id;           /* owner store */
    const char *promo_type;         /* percent_discount, buy_x_get_y, ... */
    const char *apply_to;           /* all, category, product */
    const char *execution_stage;    /* item_level, cart_level, payment_level */
    int64_t execution_priority;     /* lower runs first; default 500 */
    bool is_active;                 /* inactive ones apply only if typed */
    bool is_auto_apply;             /* a candidate without a typed code */
    bool require_voucher;           /* auto-applied only with its code */
    bool member_only;               /* members only */
    bool is_stackable;              /* combines with others */
    const char *start_date;         /* "YYYY-MM-DD", inclusive, local */
    const char *end_date;           /* "YYYY-MM-DD", inclusive, local */
    const char *time_start;         /* "HH:MM:SS" or NULL */
    const char *time_end;           /* "HH:MM:SS" or NULL */
    const char *valid_days_json;    /* JSON array text, or NULL */
    bool exclude_holidays;          /* not on holiday dates */
    const char *rules_json;         /* rules object as JSON text */
    const char *scope_json;         /* scope object as JSON text, or NULL */
    const char *targeting_json;     /* targeting object as text, or NULL */
    bool has_max_uses;              /* max_uses is set */
    int64_t max_uses;               /* total uses allowed */
    bool has_max_uses_per_customer; /* max_uses_per_customer is set */
    int64_t max_uses_per_customer;  /* uses allowed per customer id */
    bool has_max_uses_per_day;      /* max_uses_per_day is set */
    int64_t max_uses_per_day;       /* uses allowed per store-local day */
    int64_t current_uses;           /* uses known (CMS's count + local) */
    const char *compiled_at;        /* CMS's compile time, text */
    const char *synced_at;          /* when this edge stored it; may be NULL */
    const char *last_used_at;       /* last local use; may be NULL */
};

/* One day of the holiday calendar. */
struct holiday_record {
    const char *date; /* "YYYY-MM-DD" */
    const char *name; /* "Hari Raya Natal"; may be NULL */
};

/*
 * Writes a promotion as the CMS sends it: the columns as keys, rules, scope
 * and targeting as JSON objects and valid_days as an array. The JSON text
 * columns are written as they are, so they must be valid JSON (records from
 * a compiled snapshot are).
 */
void promo_record_write_json(const struct promo_record *record,
                             struct ep_buf *out);

#endif
