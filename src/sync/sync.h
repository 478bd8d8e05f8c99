/*
 * sync.h - moving promotions from the CMS into the store, and from the
 * store into the engine.
 *
 * Owns: the CMS client (libcurl), the sync payload parser, sync runs (full,
 * incremental, from a file) with their log rows, the scheduler of `serve`,
 * and loading the engine's snapshot from the store. Does not own the
 * schema (store) or the meaning of a promotion (engine).
 */
#ifndef EP_SYNC_H
#define EP_SYNC_H

#include "common/config.h"
#include "common/error.h"
#include "engine/engine.h"
#include "store/store.h"

/*
 * Builds a snapshot of every promotion and holiday in the store for the
 * configured store. Rows that no longer compile are skipped and logged.
 * *out gets a reference for the caller.
 */
enum ep_status sync_snapshot_load(struct store *store,
                                  const struct ep_config *config,
                                  struct promo_set **out,
                                  struct ep_error *err);

#endif
