/*
 * usage.h - checkout: record each applied promotion's use atomically,
 * exactly once per transaction id, with limits that hold under
 * concurrency; and voids that give the uses back.
 */
#ifndef EP_USAGE_H
#define EP_USAGE_H

#include "engine/engine.h"
#include "store/store.h"

/* An engine_limits that reads counts from store (read-only). */
void usage_limits_from_store(struct store *store, struct engine_limits *out);

#endif
