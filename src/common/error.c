/* error.c - the first-error-wins error record of error.h. */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ep_error_clear(struct ep_error *err)
{
    if (err == NULL)
        return;
    err->status = EP_OK;
    err->message[0] = '\0';
    err->field[0] = '\0';
}

enum ep_status ep_error_set(struct ep_error *err, enum ep_status status,
                            const char *field, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->status != EP_OK)
        return status;
    err->status = status;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    return status;
}

enum ep_status ep_error_prefix_field(struct ep_error *err, const char *prefix)
{
    char joined[EP_ERROR_FIELD_MAX];
    const char *sep;

    if (err == NULL)
        return EP_OK;
    if (err->status == EP_OK)
        return EP_OK;
    sep = (err->field[0] == '\0' || err->field[0] == '[') ? "" : ".";
    snprintf(joined, sizeof(joined), "%s%s%s", prefix, sep, err->field);
    memcpy(err->field, joined, sizeof(err->field));
    return err->status;
}

void ep_error_prefix_message(struct ep_error *err, const char *fmt, ...)
{
    char prefix[EP_ERROR_MESSAGE_MAX];
    char joined[EP_ERROR_MESSAGE_MAX];
    va_list ap;

    if (err == NULL || err->status == EP_OK)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    snprintf(joined, sizeof(joined), "%s%s", prefix, err->message);
    memcpy(err->message, joined, sizeof(err->message));
}

bool ep_error_is_set(const struct ep_error *err)
{
    return err != NULL && err->status != EP_OK;
}
