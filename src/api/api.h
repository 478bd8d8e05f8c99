/*
 * api.h - the POS API: HTTP/1.1 JSON on libmicrohttpd (SPEC.md section 5).
 */
#ifndef EP_API_H
#define EP_API_H

#include "common/config.h"
#include "common/error.h"

/* Serves the POS API until SIGTERM or SIGINT. */
enum ep_status api_serve(const struct ep_config *config, struct ep_error *err);

#endif
