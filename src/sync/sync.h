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

#include <jansson.h>

#include "common/arena.h"
#include "common/config.h"
#include "common/error.h"
#include "engine/engine.h"
#include "store/store.h"

/* ---- payloads ----------------------------------------------------------- */

/*
 * Reads one promotion P of the CMS API (the seed's columns as keys, rules,
 * scope and targeting as objects, valid_days as an array) into a record
 * whose strings live in arena. Only the shape is checked here (types,
 * required columns); the meaning is checked by engine_promotion_validate.
 * Errors are EP_ERR_INVALID naming the key.
 */
enum ep_status sync_promotion_from_json(const json_t *object,
                                        struct ep_arena *arena,
                                        struct promo_record *out,
                                        struct ep_error *err);

/* A full or incremental sync body, parsed. Everything lives in an arena. */
struct sync_payload {
    const json_t *const *promotions; /* P objects: full "promotions" or
                                        incremental "updated"; borrowed
                                        from root */
    size_t promotion_count;
    const char **deleted_ids;        /* incremental "deleted" */
    size_t deleted_count;
    struct holiday_record *holidays; /* full only */
    size_t holiday_count;
    bool has_holidays;               /* "holidays" was present */
    const char *sync_token;          /* may be NULL */
    const char *server_time;         /* may be NULL */
    json_t *root;                    /* owned: the parsed document */
};

/*
 * Parses a full-sync body {"<store_id>": {"promotions": [...], ...}} for
 * store_id. EP_ERR_INVALID (not JSON, wrong shape, store missing) with the
 * field named. On success the caller frees with sync_payload_deinit.
 */
enum ep_status sync_payload_parse_full(const char *text, size_t length,
                                       const char *store_id,
                                       struct ep_arena *arena,
                                       struct sync_payload *out,
                                       struct ep_error *err);

/* Parses an incremental body {"updated": [...], "deleted": [...], ...}. */
enum ep_status sync_payload_parse_incremental(const char *text, size_t length,
                                              struct ep_arena *arena,
                                              struct sync_payload *out,
                                              struct ep_error *err);

/* Releases the parsed document; NULL is a no-op. */
void sync_payload_deinit(struct sync_payload *payload);

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
