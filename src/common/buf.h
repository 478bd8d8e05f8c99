/*
 * buf.h - a growable byte buffer with a hard maximum, and the few writers
 * edgepromo needs on it: text, printf, JSON strings and money.
 *
 * JSON output is written here rather than through jansson because amounts
 * are int64 hundredths and must print exactly ("12.5", "25000", "0.05");
 * a double in between would not. A buffer that would pass its maximum, or
 * fails to grow, goes into a failed state: later appends do nothing and
 * ep_buf_status reports the first failure. So writers can append freely and
 * check once at the end. Not thread-safe: one buffer, one owner.
 */
#ifndef EP_BUF_H
#define EP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

struct ep_buf {
    char *data;            /* owned; NUL-terminated while not failed */
    size_t len;            /* bytes used, not counting the NUL */
    size_t cap;            /* bytes allocated */
    size_t max;            /* most bytes len may reach */
    enum ep_status status; /* EP_OK, or the first failure */
};

/* Initializes an empty buffer that may grow to max bytes. */
void ep_buf_init(struct ep_buf *buf, size_t max);

/* Frees the buffer's memory; NULL is a no-op. */
void ep_buf_deinit(struct ep_buf *buf);

/* Empties the buffer, keeping its memory and clearing a failure. */
void ep_buf_reset(struct ep_buf *buf);

/* EP_OK, EP_ERR_NOMEM or EP_ERR_TOO_LARGE (the first failure). */
enum ep_status ep_buf_status(const struct ep_buf *buf);

/*
 * Hands the data to the caller (who frees it with ep_free) and empties the
 * buffer. Returns NULL if the buffer failed or is empty and unallocated.
 */
char *ep_buf_take(struct ep_buf *buf, size_t *len_out);

void ep_buf_append(struct ep_buf *buf, const void *data, size_t len);
void ep_buf_puts(struct ep_buf *buf, const char *s);
void ep_buf_putc(struct ep_buf *buf, char c);
void ep_buf_printf(struct ep_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Writes s as a quoted, escaped JSON string; NULL writes null. Bytes that
 * are not UTF-8 are written as U+FFFD, so the output is always JSON.
 */
void ep_buf_json_string(struct ep_buf *buf, const char *s);

/* Writes hundredths as a JSON number in currency units: 1250 -> 12.5. */
void ep_buf_json_money(struct ep_buf *buf, int64_t hundredths);

/* Writes an integer. */
void ep_buf_json_int(struct ep_buf *buf, int64_t value);

/* Writes true or false. */
void ep_buf_json_bool(struct ep_buf *buf, bool value);

#endif
