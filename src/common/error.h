/*
 * error.h - an error a person must read: a status, a message and the place.
 *
 * Functions that can fail for a reason worth explaining take a
 * struct ep_error *err as their last parameter. err may be NULL. The first
 * error set is kept: later calls on an already-set error change nothing, so
 * the innermost, most precise cause survives the unwinding. The field is a
 * path into the input ("lines[3].quantity", "rules.tiers[2].min_purchase").
 * Not thread-safe per object; each caller owns its own struct ep_error.
 */
#ifndef EP_ERROR_H
#define EP_ERROR_H

#include <stdbool.h>

#include "common/status.h"

#define EP_ERROR_MESSAGE_MAX 512
#define EP_ERROR_FIELD_MAX   160

struct ep_error {
    enum ep_status status;              /* EP_OK while nothing is set */
    char message[EP_ERROR_MESSAGE_MAX]; /* for people; NUL-terminated */
    char field[EP_ERROR_FIELD_MAX];     /* input path, "" when none */
};

/* Clears err (a no-op on NULL). */
void ep_error_clear(struct ep_error *err);

/*
 * Sets err, unless it is NULL or already set, and returns status either way,
 * so callers can write "return ep_error_set(err, EP_ERR_INVALID, ...)".
 * field may be NULL. The message is printf-formatted and truncated to fit.
 */
enum ep_status ep_error_set(struct ep_error *err, enum ep_status status,
                            const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Prefixes the field path of a set error with prefix: "lines[2]" + "quantity"
 * gives "lines[2].quantity". A no-op on NULL or unset errors. Returns the
 * error's status (EP_OK when unset) for chaining.
 */
enum ep_status ep_error_prefix_field(struct ep_error *err, const char *prefix);

/*
 * Prefixes the message of a set error with printf-formatted text ("promotion
 * 42: " + "rules.type: unknown"). A no-op on NULL or unset errors.
 */
void ep_error_prefix_message(struct ep_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True when err is non-NULL and holds an error. */
bool ep_error_is_set(const struct ep_error *err);

#endif
