/*
 * promo_set.c - the immutable snapshot of a store's promotions, its
 * indexes, its reference count, and the slot that holds the current one.
 *
 * Building: every record is copied into the snapshot's arena and compiled;
 * promotions are sorted in evaluation order (stage, priority, code, id).
 * Promotions that share a code are resolved once (SPEC.md 4.2 item 3): the
 * preferred one stays, the others are marked shadowed and never become
 * candidates. Sorted indexes map a product, a category or a brand to the
 * promotions whose scope (or get_scope) names it, so that a cart looks
 * only at the promotions that can touch it, and learns in the same lookup
 * which of its lines each one names.
 *
 * The slot: one mutex guards the pointer swap and the reference taken by
 * acquire; evaluation itself runs on the immutable snapshot without locks.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "engine/internal.h"

#define SET_ARENA_BLOCK (256 * 1024)
#define SET_ARENA_MAX   ((size_t)4 << 30)

/* ---- copying records -------------------------------------------------- */

static bool copy_text(struct ep_arena *arena, const char **field)
{
    if (*field == NULL)
        return true;
    *field = ep_arena_strdup(arena, *field);
    return *field != NULL;
}

static struct promo_record *record_copy(struct ep_arena *arena,
                                        const struct promo_record *src)
{
    struct promo_record *r = ep_arena_alloc(arena, sizeof(*r));
    const char **texts[] = {
        &r->id,
        &r->code,
        &r->name,
        &r->description,
        &r->terms_conditions,
        &r->company_id,
        &r->brand_id,
        &r->store_id,
        &r->promo_type,
        &r->apply_to,
        &r->execution_stage,
        &r->start_date,
        &r->end_date,
        &r->time_start,
        &r->time_end,
        &r->valid_days_json,
        &r->rules_json,
        &r->scope_json,
        &r->targeting_json,
        &r->compiled_at,
        &r->synced_at,
        &r->last_used_at,
    };

    if (r == NULL)
        return NULL;
    *r = *src;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        if (!copy_text(arena, texts[i]))
            return NULL;
    }
    return r;
}

/* ---- ordering --------------------------------------------------------- */

static int compare_promotions(const void *a, const void *b)
{
    const struct promotion *x = a;
    const struct promotion *y = b;
    int c;

    if (x->stage != y->stage)
        return x->stage < y->stage ? -1 : 1;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    c = strcmp(x->record->code, y->record->code);
    if (c != 0)
        return c;
    return strcmp(x->record->id, y->record->id);
}

/* ---- code representatives (SPEC.md 4.2 item 3) ------------------------ */

/* True when p's store targeting includes store_id. */
static bool targets_store(const struct promotion *p, const char *store_id)
{
    if (store_id == NULL)
        return true;
    if (!p->targeting.stores.all)
        return id_list_contains(&p->targeting.stores.list, store_id);
    return strcmp(p->record->store_id, store_id) == 0;
}

/* Returns true when a is preferred over b for their shared code. */
static bool code_preferred(const struct promotion *a, const struct promotion *b,
                           const char *store_id)
{
    bool a_targets = targets_store(a, store_id);
    bool b_targets = targets_store(b, store_id);
    bool a_own = store_id != NULL && strcmp(a->record->store_id, store_id) == 0;
    bool b_own = store_id != NULL && strcmp(b->record->store_id, store_id) == 0;

    if (a_targets != b_targets)
        return a_targets;
    if (a_own != b_own)
        return a_own;
    if (a->priority != b->priority)
        return a->priority < b->priority;
    return strcmp(a->record->id, b->record->id) < 0;
}

/* A promotion's code key and index, for sorting by code. */
struct code_entry {
    const char *key;
    uint32_t index;
};

static int compare_code_entries(const void *a, const void *b)
{
    const struct code_entry *x = a;
    const struct code_entry *y = b;
    int c = strcmp(x->key, y->key);

    if (c != 0)
        return c;
    return (x->index > y->index) - (x->index < y->index);
}

/* Keeps one promotion per code in set->by_code; shadows the others. */
static enum ep_status resolve_codes(struct promo_set *set)
{
    struct code_entry *entries = ep_calloc(set->count + 1, sizeof(*entries));
    uint32_t *kept =
        ep_arena_calloc(&set->arena, set->count + 1, sizeof(*kept));
    size_t n = 0;

    if (entries == NULL || kept == NULL) {
        ep_free(entries);
        return EP_ERR_NOMEM;
    }
    for (size_t i = 0; i < set->count; i++) {
        entries[i].key = set->promotions[i].code_key;
        entries[i].index = (uint32_t)i;
    }
    qsort(entries, set->count, sizeof(*entries), compare_code_entries);
    for (size_t i = 0; i < set->count; i++) {
        struct promotion *p = &set->promotions[entries[i].index];
        struct promotion *best = n > 0 ? &set->promotions[kept[n - 1]] : NULL;
        if (best == NULL || strcmp(best->code_key, p->code_key) != 0) {
            kept[n++] = entries[i].index;
        } else if (code_preferred(p, best, set->store_id)) {
            best->shadowed = true;
            kept[n - 1] = entries[i].index;
        } else {
            p->shadowed = true;
        }
    }
    ep_free(entries);
    set->by_code = kept;
    set->by_code_count = n;
    return EP_OK;
}

/* ---- indexes ---------------------------------------------------------- */

struct index_pair {
    const char *key;
    uint32_t promotion;
};

struct index_builder {
    struct index_pair *pairs;
    size_t count;
    size_t capacity;
};

static enum ep_status builder_add(struct index_builder *b, const char *key,
                                  uint32_t promotion)
{
    if (b->count == b->capacity) {
        size_t capacity = b->capacity == 0 ? 256 : b->capacity * 2;
        struct index_pair *grown =
            ep_reallocarray(b->pairs, capacity, sizeof(*grown));
        if (grown == NULL)
            return EP_ERR_NOMEM;
        b->pairs = grown;
        b->capacity = capacity;
    }
    b->pairs[b->count].key = key;
    b->pairs[b->count].promotion = promotion;
    b->count++;
    return EP_OK;
}

static enum ep_status builder_add_list(struct index_builder *b,
                                       const struct id_list *list,
                                       uint32_t promotion)
{
    enum ep_status status = EP_OK;

    for (size_t i = 0; status == EP_OK && i < list->count; i++)
        status = builder_add(b, list->items[i], promotion);
    return status;
}

static int compare_pairs(const void *a, const void *b)
{
    const struct index_pair *x = a;
    const struct index_pair *y = b;
    int c = strcmp(x->key, y->key);

    if (c != 0)
        return c;
    return (x->promotion > y->promotion) - (x->promotion < y->promotion);
}

/* Groups sorted pairs into index entries in the set's arena. */
static enum ep_status builder_finish(struct index_builder *b,
                                     struct ep_arena *arena, struct index *out)
{
    size_t entries = 0;
    uint32_t *promotions;

    out->entries = NULL;
    out->count = 0;
    if (b->count == 0)
        return EP_OK;
    qsort(b->pairs, b->count, sizeof(*b->pairs), compare_pairs);
    out->entries = ep_arena_calloc(arena, b->count, sizeof(*out->entries));
    promotions = ep_arena_calloc(arena, b->count, sizeof(*promotions));
    if (out->entries == NULL || promotions == NULL)
        return EP_ERR_NOMEM;
    for (size_t i = 0; i < b->count; i++) {
        struct index_entry *last = entries ? &out->entries[entries - 1] : NULL;
        if (last != NULL && strcmp(last->key, b->pairs[i].key) == 0) {
            if (last->promotions[last->count - 1] != b->pairs[i].promotion)
                last->promotions[last->count++] = b->pairs[i].promotion;
            continue;
        }
        out->entries[entries].key = b->pairs[i].key;
        out->entries[entries].promotions = &promotions[i];
        out->entries[entries].promotions[0] = b->pairs[i].promotion;
        out->entries[entries].count = 1;
        entries++;
    }
    out->count = entries;
    return EP_OK;
}

/* The builders of the indexes. */
struct index_builders {
    struct index_builder product;
    struct index_builder category;
    struct index_builder brand;
};

/*
 * Adds the keys through which scope s of promotion i names a line: its
 * product or category lists, or, for "all", the brands it sells for.
 */
static enum ep_status index_scope(struct index_builders *b,
                                  const struct promotion *p,
                                  const struct scope *s, bool get, uint32_t i)
{
    uint32_t tagged = get ? i | INDEX_GET_SCOPE : i;

    switch (s->apply_to) {
    case APPLY_PRODUCT:
        return builder_add_list(&b->product, &s->products, tagged);
    case APPLY_CATEGORY:
        return builder_add_list(&b->category, &s->categories, tagged);
    case APPLY_ALL:
        if (!p->targeting.brands.all)
            return builder_add_list(&b->brand, &p->targeting.brands.list, i);
        return builder_add(&b->brand, p->record->brand_id, i);
    }
    return EP_OK;
}

/*
 * Indexes every promotion that can be evaluated: active and not shadowed.
 * Auto-applied ones become candidates through the index; typed ones use it
 * for the lines their lists name.
 */
static enum ep_status index_promotion(struct index_builders *b,
                                      const struct promotion *p, uint32_t i)
{
    enum ep_status status;

    if (!p->record->is_active || p->shadowed)
        return EP_OK;
    status = index_scope(b, p, &p->scope, false, i);
    if (status == EP_OK && p->rules.has_get_scope)
        status = index_scope(b, p, &p->rules.get_scope, true, i);
    return status;
}

static void builders_free(struct index_builders *b)
{
    ep_free(b->product.pairs);
    ep_free(b->category.pairs);
    ep_free(b->brand.pairs);
}

static enum ep_status build_indexes(struct promo_set *set)
{
    struct index_builders b;
    struct ep_arena *arena = &set->arena;
    enum ep_status status = EP_OK;

    memset(&b, 0, sizeof(b));
    for (size_t i = 0; status == EP_OK && i < set->count; i++)
        status = index_promotion(&b, &set->promotions[i], (uint32_t)i);
    if (status == EP_OK)
        status = builder_finish(&b.product, arena, &set->by_product);
    if (status == EP_OK)
        status = builder_finish(&b.category, arena, &set->by_category);
    if (status == EP_OK)
        status = builder_finish(&b.brand, arena, &set->by_brand);
    builders_free(&b);
    return status;
}

/* ---- building --------------------------------------------------------- */

static int compare_dates(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a;
    int32_t y = *(const int32_t *)b;

    return (x > y) - (x < y);
}

static enum ep_status copy_holidays(struct promo_set *set,
                                    const struct holiday_record *holidays,
                                    size_t count)
{
    set->holidays =
        ep_arena_calloc(&set->arena, count + 1, sizeof(*set->holidays));
    if (set->holidays == NULL)
        return EP_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        int32_t day;
        if (ep_date_parse(holidays[i].date, &day) == EP_OK)
            set->holidays[set->holiday_count++] = day;
    }
    qsort(set->holidays, set->holiday_count, sizeof(*set->holidays),
          compare_dates);
    return EP_OK;
}

/* Compiles each record; skipped ones go to on_skip. */
static enum ep_status compile_all(struct promo_set *set,
                                  const struct promo_record *records,
                                  size_t count, engine_skip_fn on_skip,
                                  void *skip_ctx)
{
    set->promotions =
        ep_arena_calloc(&set->arena, count + 1, sizeof(*set->promotions));
    if (set->promotions == NULL)
        return EP_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        struct ep_error why;
        struct promo_record *copy = record_copy(&set->arena, &records[i]);
        enum ep_status status;
        if (copy == NULL)
            return EP_ERR_NOMEM;
        ep_error_clear(&why);
        status = promotion_compile(copy, &set->arena,
                                   &set->promotions[set->count], &why);
        if (status == EP_ERR_NOMEM)
            return status;
        if (status != EP_OK) {
            if (on_skip != NULL)
                on_skip(skip_ctx, &records[i], &why);
            continue;
        }
        if (promotion_details_build(&set->arena,
                                    &set->promotions[set->count]) != EP_OK ||
            promotion_json_build(&set->arena, &set->promotions[set->count]) !=
                EP_OK)
            return EP_ERR_NOMEM;
        set->count++;
    }
    qsort(set->promotions, set->count, sizeof(*set->promotions),
          compare_promotions);
    return EP_OK;
}

static enum ep_status
build_steps(struct promo_set *set, const struct promo_record *records,
            size_t count, const struct holiday_record *holidays,
            size_t holiday_count, const struct engine_settings *settings,
            engine_skip_fn on_skip, void *skip_ctx)
{
    enum ep_status status = EP_OK;

    if (settings != NULL && settings->store_id != NULL)
        set->store_id = ep_arena_strdup(&set->arena, settings->store_id);
    if (settings != NULL && settings->company_id != NULL)
        set->company_id = ep_arena_strdup(&set->arena, settings->company_id);
    if (settings != NULL && ((settings->store_id && !set->store_id) ||
                             (settings->company_id && !set->company_id)))
        return EP_ERR_NOMEM;
    status = compile_all(set, records, count, on_skip, skip_ctx);
    if (status == EP_OK)
        status = copy_holidays(set, holidays, holiday_count);
    if (status == EP_OK)
        status = resolve_codes(set);
    if (status == EP_OK)
        status = build_indexes(set);
    return status;
}

enum ep_status promo_set_build(const struct promo_record *records, size_t count,
                               const struct holiday_record *holidays,
                               size_t holiday_count,
                               const struct engine_settings *settings,
                               engine_skip_fn on_skip, void *skip_ctx,
                               struct promo_set **out, struct ep_error *err)
{
    struct promo_set *set = ep_calloc(1, sizeof(*set));
    enum ep_status status;

    if (set == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, NULL,
                            "out of memory building the promotion snapshot");
    atomic_init(&set->refs, 1);
    ep_arena_init(&set->arena, SET_ARENA_BLOCK, SET_ARENA_MAX);
    status = build_steps(set, records, count, holidays, holiday_count, settings,
                         on_skip, skip_ctx);
    if (status != EP_OK) {
        promo_set_release(set);
        return ep_error_set(err, status, NULL,
                            "out of memory building the promotion snapshot");
    }
    *out = set;
    return EP_OK;
}

void promo_set_retain(struct promo_set *set)
{
    atomic_fetch_add(&set->refs, 1);
}

void promo_set_release(struct promo_set *set)
{
    if (set == NULL || atomic_fetch_sub(&set->refs, 1) != 1)
        return;
    ep_arena_deinit(&set->arena);
    ep_free(set);
}

size_t promo_set_count(const struct promo_set *set)
{
    return set->count;
}

const struct promo_record *promo_set_record(const struct promo_set *set,
                                            size_t index)
{
    return index < set->count ? set->promotions[index].record : NULL;
}

size_t promo_set_find_id(const struct promo_set *set, const char *id)
{
    for (size_t i = 0; i < set->count; i++) {
        if (strcmp(set->promotions[i].record->id, id) == 0)
            return i;
    }
    return SIZE_MAX;
}

size_t promo_set_find_code(const struct promo_set *set, const char *code)
{
    char key[CODE_KEY_MAX];
    size_t lo = 0;
    size_t hi = set->by_code_count;

    if (!code_key_format(code, key, sizeof(key)))
        return SIZE_MAX;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(set->promotions[set->by_code[mid]].code_key, key);
        if (c == 0)
            return set->by_code[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* ---- the slot --------------------------------------------------------- */

struct engine_slot {
    pthread_mutex_t lock;      /* guards current and its reference */
    struct promo_set *current; /* holds one reference; may be NULL */
};

struct engine_slot *engine_slot_new(void)
{
    struct engine_slot *slot = ep_calloc(1, sizeof(*slot));

    if (slot == NULL)
        return NULL;
    pthread_mutex_init(&slot->lock, NULL);
    return slot;
}

void engine_slot_free(struct engine_slot *slot)
{
    if (slot == NULL)
        return;
    promo_set_release(slot->current);
    pthread_mutex_destroy(&slot->lock);
    ep_free(slot);
}

void engine_slot_adopt(struct engine_slot *slot, struct promo_set *set)
{
    struct promo_set *old;

    pthread_mutex_lock(&slot->lock);
    old = slot->current;
    slot->current = set;
    pthread_mutex_unlock(&slot->lock);
    promo_set_release(old);
}

struct promo_set *engine_slot_acquire(struct engine_slot *slot)
{
    struct promo_set *set;

    pthread_mutex_lock(&slot->lock);
    set = slot->current;
    if (set != NULL)
        promo_set_retain(set);
    pthread_mutex_unlock(&slot->lock);
    return set;
}
