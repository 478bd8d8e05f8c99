/*
 * cmd_checkout.c - `edgepromo evaluate FILE|-`, `edgepromo commit FILE|-`
 * and `edgepromo void TXID`: the POS API's cart calls from the command line.
 *
 * A file holding one JSON object is one cart and gives one response; a
 * file of JSON Lines (one cart a line) gives one response a line, for
 * batch re-pricing and replay. The snapshot is loaded once. A line that is
 * not a valid cart gets an error object on its output line and the command
 * exits 2 at the end; the other lines are still answered.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/localtime.h"
#include "common/mem.h"
#include "engine/engine.h"
#include "store/store.h"
#include "sync/sync.h"
#include "usage/usage.h"

#define INPUT_MAX    ((size_t)256 << 20)
#define RESPONSE_MAX ((size_t)64 << 20)

enum cart_action { CART_EVALUATE, CART_COMMIT };

/* What a cart command works with. */
struct cart_run {
    struct cli_context *ctx;
    enum cart_action action;
    struct store *store;
    struct promo_set *set;
    struct ep_arena arena; /* per cart, reset between carts */
    struct ep_buf out;     /* one response */
    bool any_bad;          /* a cart was rejected */
};

/* Reads a whole file, or stdin for "-", into a buffer. */
static enum ep_status read_input(const char *path, struct ep_buf *in,
                                 struct ep_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (f == NULL)
        return ep_error_set(err, EP_ERR_INVALID, "FILE", "%s: %s", path,
                            strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ep_buf_append(in, chunk, n);
    if (ferror(f))
        ep_error_set(err, EP_ERR_IO, "FILE", "%s: read error", path);
    if (f != stdin)
        fclose(f);
    if (ep_buf_status(in) != EP_OK)
        return ep_error_set(err, ep_buf_status(in), "FILE",
                            "%s: larger than %zu bytes", path, INPUT_MAX);
    return ep_error_is_set(err) ? err->status : EP_OK;
}

static void write_error_line(struct cart_run *run, size_t line,
                             const struct ep_error *why)
{
    ep_buf_printf(&run->out, "{\"line\":%zu,\"error\":{\"code\":", line);
    ep_buf_json_string(&run->out, ep_status_name(why->status));
    ep_buf_puts(&run->out, ",\"message\":");
    ep_buf_json_string(&run->out, why->message);
    ep_buf_puts(&run->out, ",\"field\":");
    ep_buf_json_string(&run->out, why->field[0] ? why->field : NULL);
    ep_buf_puts(&run->out, "}}");
}

/* Evaluates or commits one cart into run->out. */
static enum ep_status price_cart(struct cart_run *run, const struct cart *cart,
                                 struct ep_error *why)
{
    struct eval_result *result = NULL;
    bool replayed = false;
    enum ep_status status;

    if (run->action == CART_COMMIT)
        return usage_commit(run->store, run->set, cart,
                            run->ctx->config.store_id, ep_now(), &run->arena,
                            &run->out, &replayed, why);
    status = usage_evaluate(run->store, run->set, cart, ep_now(), &run->arena,
                            &result, why);
    if (status == EP_OK)
        eval_result_write_json(result, cart, &run->out);
    return status;
}

/* Handles one cart text; a bad cart is reported on its line. */
static enum ep_status handle_cart(struct cart_run *run, const char *text,
                                  size_t length, size_t line)
{
    struct cart *cart = NULL;
    struct ep_error why;
    enum ep_status status;

    ep_error_clear(&why);
    ep_arena_reset(&run->arena);
    ep_buf_reset(&run->out);
    status = cart_parse(text, length, &run->arena, &cart, &why);
    if (status == EP_OK)
        status = price_cart(run, cart, &why);
    if (status == EP_ERR_INVALID || status == EP_ERR_TOO_LARGE) {
        ep_buf_reset(&run->out);
        write_error_line(run, line, &why);
        run->any_bad = true;
        status = EP_OK;
    } else if (status != EP_OK) {
        return ep_error_set(&run->ctx->err, status, why.field, "%s",
                            why.message);
    }
    ep_buf_putc(&run->out, '\n');
    return cli_print(&run->out, &run->ctx->err);
}

/* True when text is one JSON document (not JSON Lines). */
static bool is_single_document(const char *text, size_t length)
{
    json_t *root = json_loadb(text, length, 0, NULL);
    bool single = root != NULL;

    json_decref(root);
    return single;
}

static enum ep_status handle_input(struct cart_run *run, const char *text,
                                   size_t length)
{
    enum ep_status status = EP_OK;
    const char *p = text;
    const char *end = text + length;
    size_t line = 0;

    if (is_single_document(text, length))
        return handle_cart(run, text, length, 1);
    while (status == EP_OK && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        line++;
        if (stop > p && !(stop - p == 1 && *p == '\r'))
            status = handle_cart(run, p, (size_t)(stop - p), line);
        p = stop + 1;
    }
    return status;
}

static enum ep_status run_carts(struct cli_context *ctx,
                                enum cart_action action)
{
    struct cart_run run = { .ctx = ctx, .action = action };
    struct ep_buf input;
    enum ep_status status;

    if (ctx->argc != 2)
        return cli_usage_error(ctx, "expected one FILE (or - for stdin)");
    ep_buf_init(&input, INPUT_MAX);
    ep_buf_init(&run.out, RESPONSE_MAX);
    ep_arena_init(&run.arena, 256 * 1024, (size_t)1 << 30);
    status = read_input(ctx->argv[1], &input, &ctx->err);
    if (status == EP_OK && action == CART_COMMIT)
        status = ep_config_require(&ctx->config, "store_id", &ctx->err);
    if (status == EP_OK)
        status = cli_store_open(ctx, &run.store);
    if (status == EP_OK)
        status =
            sync_snapshot_load(run.store, &ctx->config, &run.set, &ctx->err);
    if (status == EP_OK)
        status = handle_input(&run, input.data ? input.data : "", input.len);
    if (status == EP_OK && run.any_bad)
        status = ep_error_set(&ctx->err, EP_ERR_INVALID, NULL,
                              "some carts were not valid (see the error "
                              "lines of the output)");
    promo_set_release(run.set);
    store_close(run.store);
    ep_arena_deinit(&run.arena);
    ep_buf_deinit(&run.out);
    ep_buf_deinit(&input);
    return status;
}

enum ep_status cli_cmd_evaluate(struct cli_context *ctx)
{
    return run_carts(ctx, CART_EVALUATE);
}

enum ep_status cli_cmd_commit(struct cli_context *ctx)
{
    return run_carts(ctx, CART_COMMIT);
}

enum ep_status cli_cmd_void(struct cli_context *ctx)
{
    struct store *store = NULL;
    struct ep_buf out;
    enum ep_status status;

    if (ctx->argc != 2 || ctx->argv[1][0] == '\0')
        return cli_usage_error(ctx, "expected one transaction id");
    ep_buf_init(&out, 1 << 20);
    status = cli_store_open(ctx, &store);
    if (status == EP_OK)
        status = usage_void(store, ctx->argv[1], ep_now(), &out, &ctx->err);
    if (status == EP_OK) {
        ep_buf_putc(&out, '\n');
        status = cli_print(&out, &ctx->err);
    }
    store_close(store);
    ep_buf_deinit(&out);
    return status;
}
