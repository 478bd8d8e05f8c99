/* server.c - the POS API server (not built yet). */
#include "api/api.h"

enum ep_status api_serve(const struct ep_config *config, struct ep_error *err)
{
    (void)config;
    return ep_error_set(err, EP_ERR_UNAVAILABLE, NULL,
                        "serve: the POS API is not built yet");
}
