/*
 * localtime.h - dates, wall-clock times and the store's time zone.
 *
 * The store's zone is an IANA name (Asia/Jakarta) applied once per process
 * with ep_tz_apply: the C library's tz database then does every conversion,
 * daylight saving included. Dates are kept as day numbers (days since
 * 1970-01-01), times of day as seconds since local midnight. Instants are
 * int64 seconds since the epoch (UTC).
 * Thread-safe after ep_tz_apply; ep_tz_apply itself must run before any
 * other thread starts.
 */
#ifndef EP_LOCALTIME_H
#define EP_LOCALTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define EP_DATE_TEXT_MAX      11 /* "YYYY-MM-DD" and NUL */
#define EP_CLOCK_TEXT_MAX     9  /* "HH:MM:SS" and NUL */
#define EP_TIMESTAMP_TEXT_MAX 32 /* "YYYY-MM-DD HH:MM:SS" and NUL */
#define EP_SECONDS_PER_DAY    86400

/* A moment as the store's wall clock shows it. */
struct ep_local_time {
    int32_t date;    /* local date, days since 1970-01-01 */
    int32_t seconds; /* since local midnight, 0..86399 */
    int weekday;     /* 0 = Monday .. 6 = Sunday */
};

/*
 * Makes zone (an IANA name such as "Asia/Jakarta") the process's local
 * zone. NULL or "" keeps the system's zone. EP_ERR_CONFIG when the name is
 * not in the tz database.
 */
enum ep_status ep_tz_apply(const char *zone, struct ep_error *err);

/* True when zone names a zone in the system's tz database. */
bool ep_tz_is_known(const char *zone);

/* Seconds since the epoch now. */
int64_t ep_now(void);

/*
 * Parses RFC 3339 with an offset or Z ("2026-01-30T12:00:00+07:00",
 * fractional seconds allowed and dropped) into seconds since the epoch.
 */
enum ep_status ep_time_parse_rfc3339(const char *text, int64_t *out);

/* Converts an instant to the local wall clock of the applied zone. */
void ep_local_time_of(int64_t instant, struct ep_local_time *out);

/* Parses "YYYY-MM-DD" into a day number; checks the calendar. */
enum ep_status ep_date_parse(const char *text, int32_t *out);

/* Formats a day number as "YYYY-MM-DD". */
void ep_date_format(int32_t date, char out[EP_DATE_TEXT_MAX]);

/* Weekday of a day number: 0 = Monday .. 6 = Sunday. */
int ep_date_weekday(int32_t date);

/* Parses "HH:MM:SS" or "HH:MM" into seconds since midnight. */
enum ep_status ep_clock_parse(const char *text, int32_t *out);

/* Formats seconds since midnight as "HH:MM:SS". */
void ep_clock_format(int32_t seconds, char out[EP_CLOCK_TEXT_MAX]);

/* Formats an instant as UTC "YYYY-MM-DD HH:MM:SS" (SQLite's own form). */
void ep_timestamp_format_utc(int64_t instant, char out[EP_TIMESTAMP_TEXT_MAX]);

/* Formats an instant as RFC 3339 in the local zone, with its offset. */
void ep_timestamp_format_rfc3339(int64_t instant,
                                 char out[EP_TIMESTAMP_TEXT_MAX]);

#endif
