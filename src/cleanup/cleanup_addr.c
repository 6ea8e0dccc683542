/*
 * cleanup_addr - address rewriting in cleanup.
 *
 * Envelope addresses are canonicalized by trivial-rewrite in the local
 * context (docs/protocols.md, "trivial-rewrite"), then mapped:
 *
 *   cleanup_rewrite_sender()     sender_canonical_maps, canonical_maps,
 *                                masquerading (each when its *_classes
 *                                list has envelope_sender)
 *   cleanup_rewrite_recipient()  recipient_canonical_maps, canonical_maps,
 *                                masquerading (envelope_recipient); an
 *                                empty recipient is empty_address_recipient
 *   cleanup_rewrite_header_address()  an address in a From:/To:/... header
 *                                in the message's header context
 *                                (state->hdr_context), with the
 *                                header_sender or header_recipient class
 *   cleanup_virtual_expand()     virtual_alias_maps, recursively: each
 *                                result is canonicalized and expanded in
 *                                turn; a result equal to its key is kept
 *                                as it is; an address met again further
 *                                down its own expansion is a loop
 *   cleanup_bcc_lookup()         sender_bcc_maps, recipient_bcc_maps
 *   cleanup_masquerade()         masquerade_domains with
 *                                masquerade_exceptions
 *
 * Tables are searched in canonical(5)/virtual(5) order (addr_find.h); the
 * bare local part is tried only when trivial-rewrite resolves the address
 * to a local domain. A canonical result replaces the address and is looked
 * up again, at most CLEANUP_MAP11_LIMIT times, as Postfix does. An
 * unmatched address extension is carried over to the result when
 * propagate_unmatched_extensions says so.
 *
 * Errors: a table that fails, a service that cannot be reached and the
 * virtual alias limits make the message wait (CLEANUP_STAT_DEFER, logged
 * with the queue ID); the functions then return -1 and leave the address
 * as it was. Table results are not trusted: an address holding a control
 * character is refused (logged) and the message deferred.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr_find.h"
#include "cleanup.h"
#include "mail_addr.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"

#define TEMP_REASON  "4.3.0 Temporary lookup failure"
#define ALIAS_REASON "4.6.0 Alias expansion error"

static int defer(cleanup_state *state, const char *reason)
{
    cleanup_error(state, CLEANUP_STAT_DEFER, "%s", reason);
    return -1;
}

/*
 * trivial-rewrite's canonical form of `address` in context `rule`. Answers
 * are remembered for the message: the envelope's addresses usually come
 * back in From:/To:, and each one would cost a round trip.
 */
static int canonicalize(cleanup_state *state, const char *rule, const char *address,
                        strbuf *result)
{
    strbuf *key;
    const char *known;

    if (state->errs & CLEANUP_STAT_DEFER)
        return -1;                      /* the message waits anyway: no more retries */
    key = strbuf_new(64);
    strbuf_printf(key, "%s\t%s", rule, address);
    if ((known = htable_get(state->canonical, key->data)) != NULL) {
        strbuf_set(result, known);
    } else if (cleanup_svc.rewrite(rule, address, result) < 0) {
        msg_warn("%s: address rewriting failed for %s -- message not accepted, try again later",
                 state->queue_id, address);
        strbuf_free(key);
        return defer(state, TEMP_REASON);
    } else {
        htable_put(state->canonical, key->data, xstrdup(result->data), free);
    }
    strbuf_free(key);
    return 0;
}

/*
 * 1 when the address's domain is one of ours (or it has none), 0 if not,
 * -1 error. The last answer is remembered: the tables of one address ask
 * for the same one several times.
 */
static int domain_is_local(cleanup_state *state, const char *address)
{
    resolve_reply reply;
    int     rc;

    if (strchr(address, '@') == NULL)
        return 1;
    if (state->errs & CLEANUP_STAT_DEFER)
        return -1;
    if (strcmp(state->resolved_address->data, address) == 0)
        return state->resolved_local;
    resolve_reply_init(&reply);
    rc = cleanup_svc.resolve(NULL, address, &reply);
    if (rc == 0 && (reply.flags & RESOLVE_FLAG_FAIL))
        rc = -1;
    if (rc == 0)
        rc = (reply.flags & RESOLVE_CLASS_LOCAL) != 0;
    resolve_reply_free(&reply);
    if (rc >= 0) {
        strbuf_set(state->resolved_address, address);
        state->resolved_local = rc;
    }
    if (rc < 0) {
        msg_warn("%s: address resolving failed for %s -- message not accepted, "
                 "try again later", state->queue_id, address);
        defer(state, TEMP_REASON);
    }
    return rc;
}

/* One table search; the value is copied to `value`. MAP_OK, MAP_NOTFOUND or MAP_ERROR. */
static int lookup_address(cleanup_state *state, maps_t *maps, const char *title,
                          const char *address, strbuf *value, strbuf *extension)
{
    addr_find_opts opts = {.strategy = ADDR_FIND_VIRTUAL };
    const char *found;
    int     local = domain_is_local(state, address);
    int     rc;

    if (local < 0)
        return MAP_ERROR;
    opts.domain_is_local = local;
    rc = addr_find(maps, address, &opts, &found, extension);
    if (rc == MAP_OK)
        strbuf_set(value, found);
    else if (rc == MAP_ERROR) {
        msg_warn("%s: %s map lookup problem for %s -- message not accepted, try again later",
                 state->queue_id, title, address);
        defer(state, TEMP_REASON);
    }
    return rc;
}

/* Inserts the extension ("+ext") before the domain of `address`. */
static void propagate_extension(strbuf *address, const strbuf *extension)
{
    const char *at;
    strbuf *copy;

    if (extension->len == 0)
        return;
    at = strrchr(address->data, '@');
    if (at == NULL) {
        strbuf_append(address, extension->data, extension->len);
        return;
    }
    copy = strbuf_new(address->len + extension->len);
    strbuf_append(copy, address->data, (size_t) (at - address->data));
    strbuf_append(copy, extension->data, extension->len);
    strbuf_append_str(copy, at);
    strbuf_set_mem(address, copy->data, copy->len);
    strbuf_free(copy);
}

/*
 * A table's result address (external form, maybe quoted) in internal form,
 * checked. "@otherdomain" means the key's local part in otherdomain
 * (canonical(5), virtual(5)); it returns 1 so the caller does not add the
 * extension a second time.
 */
static int table_address(cleanup_state *state, const char *title, const char *key,
                         const char *text, size_t len, strbuf *out)
{
    const char *at = strrchr(key, '@');

    strbuf_reset(out);
    if (len > 1 && *text == '@') {
        strbuf_append(out, key, at ? (size_t) (at - key) : strlen(key));
        if (mail_addr_unquote(out, text, len) == 0)
            return 1;
        strbuf_reset(out);
    }
    if (mail_addr_unquote(out, text, len) < 0) {
        msg_warn("%s: %s: bad address in table result: \"%.*s\" -- message not accepted",
                 state->queue_id, title, (int) (len > 100 ? 100 : len), text);
        return defer(state, TEMP_REASON);
    }
    return 0;
}

/* The next address of a list value "a, b c"; 0 at the end. */
static int next_list_item(const char **cursor, const char **item, size_t *len)
{
    const char *cp = *cursor + strspn(*cursor, ARGV_LIST_DELIMITERS);

    if (*cp == 0)
        return 0;
    *item = cp;
    *len = strcspn(cp, ARGV_LIST_DELIMITERS);
    *cursor = cp + *len;
    return 1;
}

/* One canonical table: replace the address with the result, repeatedly. */
static int map11(cleanup_state *state, maps_t *maps, const char *title, strbuf *address)
{
    strbuf *value = strbuf_new(64);
    strbuf *extension = strbuf_new(16);
    strbuf *result = strbuf_new(64);
    int     rc = -1;
    int     round;

    for (round = 0; round < CLEANUP_MAP11_LIMIT; round++) {
        const char *cursor;
        const char *item;
        const char *extra;
        size_t  len;
        size_t  extra_len;
        int     whole_local;
        int     found = lookup_address(state, maps, title, address->data, value, extension);

        if (found != MAP_OK) {
            rc = found == MAP_NOTFOUND ? 0 : -1;
            break;
        }
        cursor = value->data;
        if (!next_list_item(&cursor, &item, &len)) {
            rc = 0;                     /* an empty result changes nothing */
            break;
        }
        if (next_list_item(&cursor, &extra, &extra_len))
            msg_warn("%s: multi-valued %s entry for %s", state->queue_id, title, address->data);
        if ((whole_local = table_address(state, title, address->data, item, len, result)) < 0)
            break;
        if (cleanup_tab.propagate_canonical && !whole_local)
            propagate_extension(result, extension);
        if (canonicalize(state, REWRITE_LOCAL, result->data, value) < 0)
            break;
        if (strcmp(value->data, address->data) == 0) {
            rc = 0;
            break;
        }
        strbuf_set_mem(address, value->data, value->len);
    }
    if (round == CLEANUP_MAP11_LIMIT) {
        msg_warn("%s: unreasonable %s map nesting for %s -- message not accepted",
                 state->queue_id, title, address->data);
        defer(state, ALIAS_REASON);
    }
    strbuf_free(value);
    strbuf_free(extension);
    strbuf_free(result);
    return rc;
}

int     cleanup_masquerade(strbuf *address)
{
    const char *at = strrchr(address->data, '@');
    size_t  domain_len;

    if (at == NULL || cleanup_tab.masq_domains == NULL || cleanup_tab.masq_domains->count == 0)
        return 0;
    if (cleanup_tab.masq_exceptions) {
        char   *local = xstrndup(address->data, (size_t) (at - address->data));
        int     excepted = string_list_match(cleanup_tab.masq_exceptions, local);

        free(local);
        if (excepted != 0)
            return 0;
    }
    domain_len = strlen(at + 1);
    for (size_t i = 0; i < cleanup_tab.masq_domains->count; i++) {
        const char *name = cleanup_tab.masq_domains->items[i];
        int     negated = *name == '!';
        size_t  name_len;
        const char *tail;

        name += negated;
        name_len = strlen(name);
        if (name_len == 0 || name_len > domain_len)
            continue;
        tail = at + 1 + domain_len - name_len;
        if (strcasecmp(tail, name) != 0)
            continue;
        if (name_len == domain_len || negated)
            return 0;
        if (tail[-1] != '.')
            continue;
        strbuf_truncate(address, (size_t) (at + 1 - address->data));
        strbuf_append_str(address, name);
        return 1;
    }
    return 0;
}

/* sender or recipient tables for one class of address. */
static int map_address(cleanup_state *state, int class, maps_t *specific,
                       const char *specific_title, int specific_classes, strbuf *address)
{
    if (!(state->flags & CLEANUP_FLAG_MAP_OK))
        return 0;
    if (specific && (specific_classes & class) && map11(state, specific, specific_title,
                                                        address) < 0)
        return -1;
    if (cleanup_tab.canonical && (cleanup_tab.canonical_classes & class)
        && map11(state, cleanup_tab.canonical, "canonical_maps", address) < 0)
        return -1;
    if (cleanup_tab.masq_classes & class)
        cleanup_masquerade(address);
    return 0;
}

int     cleanup_rewrite_sender(cleanup_state *state, const char *address, strbuf *result)
{
    strbuf_reset(result);
    if (*address == 0)
        return 0;
    if (canonicalize(state, REWRITE_LOCAL, address, result) < 0)
        return -1;
    return map_address(state, CLEANUP_CLASS_ENV_FROM, cleanup_tab.sender_canonical,
                       "sender_canonical_maps", cleanup_tab.sender_canonical_classes, result);
}

int     cleanup_rewrite_recipient(cleanup_state *state, const char *address, strbuf *result)
{
    if (canonicalize(state, REWRITE_LOCAL, *address ? address : var_empty_address_recipient,
                     result) < 0)
        return -1;
    return map_address(state, CLEANUP_CLASS_ENV_RCPT, cleanup_tab.recipient_canonical,
                       "recipient_canonical_maps", cleanup_tab.recipient_canonical_classes,
                       result);
}

void    cleanup_rewrite_header_address(cleanup_state *state, int hdr_flags, strbuf *address)
{
    strbuf *result = strbuf_new(address->len + 32);
    int     rc;

    if (address->len == 0 || state->hdr_context == NULL
        || canonicalize(state, state->hdr_context, address->data, result) < 0) {
        strbuf_free(result);
        return;
    }
    if (hdr_flags & HEADER_F_SENDER)
        rc = map_address(state, CLEANUP_CLASS_HDR_FROM, cleanup_tab.sender_canonical,
                         "sender_canonical_maps", cleanup_tab.sender_canonical_classes, result);
    else
        rc = map_address(state, CLEANUP_CLASS_HDR_RCPT, cleanup_tab.recipient_canonical,
                         "recipient_canonical_maps", cleanup_tab.recipient_canonical_classes,
                         result);
    if (rc == 0)
        strbuf_set_mem(address, result->data, result->len);
    strbuf_free(result);
}

/* Virtual alias expansion: a depth-first walk with an explicit stack. */
typedef struct expansion_node {
    char   *address;
    int     parent;                     /* index, -1 for the root */
    int     depth;
    int     final;                      /* a self reference: kept, not looked up */
} expansion_node;

typedef struct expansion {
    expansion_node *nodes;
    size_t  count;
    size_t  cap;
    int    *stack;
    size_t  depth;
    size_t  stack_cap;
} expansion;

static int expansion_push(expansion *ex, const char *address, int parent, int depth,
                          int final)
{
    if (ex->count == ex->cap) {
        ex->cap = ex->cap ? 2 * ex->cap : 16;
        ex->nodes = xreallocarray(ex->nodes, ex->cap, sizeof(*ex->nodes));
    }
    if (ex->depth == ex->stack_cap) {
        ex->stack_cap = ex->stack_cap ? 2 * ex->stack_cap : 16;
        ex->stack = xreallocarray(ex->stack, ex->stack_cap, sizeof(*ex->stack));
    }
    ex->nodes[ex->count] = (expansion_node) {xstrdup(address), parent, depth, final};
    ex->stack[ex->depth++] = (int) ex->count;
    return (int) ex->count++;
}

static void expansion_free(expansion *ex)
{
    for (size_t i = 0; i < ex->count; i++)
        free(ex->nodes[i].address);
    free(ex->nodes);
    free(ex->stack);
}

/* Is `address` the node `index` or one of its ancestors? */
static int expansion_loops(const expansion *ex, int index, const char *address)
{
    for (int i = index; i >= 0; i = ex->nodes[i].parent)
        if (strcasecmp(ex->nodes[i].address, address) == 0)
            return 1;
    return 0;
}

static int expansion_fail(cleanup_state *state, const char *what, const char *address)
{
    msg_warn("%s: unreasonable virtual_alias_maps map %s for %s -- message not accepted",
             state->queue_id, what, address);
    return defer(state, ALIAS_REASON);
}

/* Pushes the results of one lookup, last first, so they come out in order. */
static int expand_value(cleanup_state *state, expansion *ex, int index, const strbuf *value,
                        const strbuf *extension, argv_t *result)
{
    argv_t *items = argv_new(4);
    strbuf *address = strbuf_new(64);
    strbuf *canonical = strbuf_new(64);
    const char *cursor = value->data;
    const char *item;
    size_t  len;
    int     rc = 0;

    while (rc == 0 && next_list_item(&cursor, &item, &len)) {
        int     whole_local = table_address(state, "virtual_alias_maps",
                                            ex->nodes[index].address, item, len, address);

        rc = whole_local < 0 ? -1 : 0;
        if (rc == 0 && cleanup_tab.propagate_virtual && !whole_local)
            propagate_extension(address, extension);
        if (rc == 0)
            rc = canonicalize(state, REWRITE_LOCAL, address->data, canonical);
        if (rc == 0)
            argv_add(items, canonical->data);
    }
    for (size_t i = items->count; rc == 0 && i-- > 0;) {
        const expansion_node *node = &ex->nodes[index];

        if (strcasecmp(items->items[i], node->address) == 0)
            expansion_push(ex, items->items[i], index, node->depth + 1, 1);
        else if (expansion_loops(ex, index, items->items[i]))
            rc = expansion_fail(state, "nesting", ex->nodes[0].address);
        else
            expansion_push(ex, items->items[i], index, node->depth + 1, 0);
    }
    argv_free(items);
    strbuf_free(address);
    strbuf_free(canonical);
    return rc;
}

int     cleanup_virtual_expand(cleanup_state *state, const char *address, argv_t *result)
{
    expansion ex = {0};
    strbuf *value = strbuf_new(64);
    strbuf *extension = strbuf_new(16);
    size_t  lookups = 0;
    int     rc = 0;

    if (cleanup_tab.virtual_alias == NULL || !(state->flags & CLEANUP_FLAG_MAP_OK)) {
        argv_add(result, address);
        strbuf_free(value);
        strbuf_free(extension);
        return 0;
    }
    expansion_push(&ex, address, -1, 0, 0);
    while (rc == 0 && ex.depth > 0) {
        int     index = ex.stack[--ex.depth];
        int     found;

        if (ex.nodes[index].depth > var_virtual_alias_recursion_limit
            || ++lookups > (size_t) var_virtual_alias_expansion_limit
            + (size_t) var_virtual_alias_recursion_limit) {
            rc = expansion_fail(state, "nesting", address);
            break;
        }
        if (ex.nodes[index].final) {
            argv_add(result, ex.nodes[index].address);
            continue;
        }
        found = lookup_address(state, cleanup_tab.virtual_alias, "virtual_alias_maps",
                               ex.nodes[index].address, value, extension);
        if (found == MAP_ERROR)
            rc = -1;
        else if (found == MAP_NOTFOUND)
            argv_add(result, ex.nodes[index].address);
        else
            rc = expand_value(state, &ex, index, value, extension, result);
        if (rc == 0 && result->count > (size_t) var_virtual_alias_expansion_limit)
            rc = expansion_fail(state, "expansion size", address);
    }
    expansion_free(&ex);
    strbuf_free(value);
    strbuf_free(extension);
    return rc;
}

int     cleanup_bcc_lookup(cleanup_state *state, maps_t *maps, const char *title,
                           const char *address, argv_t *result)
{
    strbuf *value = strbuf_new(64);
    strbuf *extension = strbuf_new(16);
    strbuf *item_address = strbuf_new(64);
    const char *cursor;
    const char *item;
    size_t  len;
    int     found = lookup_address(state, maps, title, address, value, extension);
    int     rc = found == MAP_ERROR ? -1 : 0;

    cursor = value->data;
    while (found == MAP_OK && rc == 0 && next_list_item(&cursor, &item, &len)) {
        rc = table_address(state, title, address, item, len, item_address) < 0 ? -1 : 0;
        if (rc == 0)
            argv_add(result, item_address->data);
    }
    strbuf_free(value);
    strbuf_free(extension);
    strbuf_free(item_address);
    return rc;
}
