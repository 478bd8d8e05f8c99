/* status.c - names and messages of the statuses in status.h. */
#include "common/status.h"

static const char *const status_names[] = {
#define EP_STATUS_NAME(name, short_name, message) short_name,
    EP_STATUS_TABLE(EP_STATUS_NAME)
#undef EP_STATUS_NAME
};

static const char *const status_messages[] = {
#define EP_STATUS_MESSAGE(name, short_name, message) message,
    EP_STATUS_TABLE(EP_STATUS_MESSAGE)
#undef EP_STATUS_MESSAGE
};

const char *ep_status_name(enum ep_status status)
{
    if ((unsigned)status >= EP_STATUS_COUNT)
        return "unknown";
    return status_names[status];
}

const char *ep_status_message(enum ep_status status)
{
    if ((unsigned)status >= EP_STATUS_COUNT)
        return "unknown status";
    return status_messages[status];
}
