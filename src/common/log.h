/*
 * log.h - one line per event on stderr, in key=value form, for journald.
 *
 *   ts=2026-01-30T05:00:01.123Z level=info event=sync.done type=full ...
 *
 * Callers format the fields after the event with printf; a value that may
 * hold blanks or quotes is passed through ep_log_quote first. Control
 * characters in a line are escaped, so one event is always one line. Tokens
 * and customer phone numbers are never passed here. Each line is written
 * with one write(2), so lines from threads do not interleave.
 * Thread-safe; set the level before starting threads.
 */
#ifndef EP_LOG_H
#define EP_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum ep_log_level {
    EP_LOG_DEBUG,
    EP_LOG_INFO,
    EP_LOG_WARN,
    EP_LOG_ERROR,
    EP_LOG_OFF
};

/* Sets the lowest level written (default EP_LOG_INFO). */
void ep_log_set_level(enum ep_log_level level);

/* Parses "debug", "info", "warn", "error", "off"; false if unknown. */
bool ep_log_level_parse(const char *text, enum ep_log_level *out);

/* True when a line at level would be written. */
bool ep_log_enabled(enum ep_log_level level);

/* Writes one event line: fields is a printf format of key=value pairs. */
void ep_log(enum ep_log_level level, const char *event, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Writes text into out as a double-quoted value with inner quotes and
 * backslashes escaped, truncated to fit; returns out.
 */
const char *ep_log_quote(const char *text, char *out, size_t out_size);

#endif
