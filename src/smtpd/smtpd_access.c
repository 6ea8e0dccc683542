/*
 * smtpd_access - access tables in restrictions: check_client_access,
 * check_helo_access, check_sender_access, check_recipient_access, and
 * the results of check_policy_service, which use the same actions.
 *
 * smtpd_check_table(spec) returns the table list for "type:name", opened
 * once per process (smtpd_check_init() opens every table the lists name
 * before the chroot). smtpd_check_table_result() applies a value found in
 * a table or sent by a policy server (access_result_parse): OK, DUNNO,
 * REJECT, DEFER, 4NN/5NN, DEFER_IF_REJECT, DEFER_IF_PERMIT, WARN, INFO,
 * and the message actions HOLD, DISCARD, REDIRECT, BCC, PREPEND (skipped
 * where there is no message: CONNECT, HELO, ETRN, VRFY, and all but DISCARD
 * at END-OF-MESSAGE); anything else is a restriction list, evaluated in
 * turn. FILTER is not supported (warned and ignored).
 *
 * Lookup keys are Postfix's: a client's name and its parent domains (fixed
 * tables only) then its address and shorter prefixes (1.2.3, 1.2, 1); a
 * HELO name and its parents; e-mail addresses in access(5) order
 * (addr_find), the null sender as smtpd_null_access_lookup_key. A table
 * that fails is a "451 4.3.0 Temporary lookup failure".
 */
#include <stdlib.h>
#include <string.h>

#include "access_result.h"
#include "addr_find.h"
#include "htable.h"
#include "map_text.h"
#include "mail_params.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_check.h"

static htable *tables;                  /* "type:name" -> maps_t * */

maps_t *smtpd_check_table(const char *spec)
{
    maps_t *maps;

    if (tables == NULL)
        tables = htable_new(16);
    if ((maps = htable_get(tables, spec)) == NULL) {
        maps = maps_open(spec, spec, MAP_FLAG_FOLD);
        htable_put(tables, spec, maps, NULL);
    }
    return maps;
}

/* Actions that change the message; skipped where there is no message. */
static int message_action(check_ctx *ctx, const char *table, const char *action)
{
    const char *where = ctx->state->where;

    if (ctx->vrfy || strcmp(where, "CONNECT") == 0 || strcmp(where, "HELO") == 0
        || strcmp(where, "EHLO") == 0 || strcmp(where, "ETRN") == 0
        || (strcmp(where, "END-OF-MESSAGE") == 0 && strcmp(action, "DISCARD") != 0)) {
        msg_warn("access table %s: action %s is skipped in %s", table, action, where);
        return 0;
    }
    return 1;
}

static void log_action(check_ctx *ctx, const char *what, const char *name, const char *class,
                       const char *text, const char *action)
{
    strbuf *line = strbuf_new(128);

    if (*text)
        strbuf_set(line, text);
    else
        strbuf_printf(line, "<%s>: %s triggers %s action", name, class, action);
    smtpd_log_whatsup(ctx->state, what, line->data);
    strbuf_free(line);
}

static int table_action(check_ctx *ctx, const char *table, const access_result *r,
                        const char *name, const char *class)
{
    smtpd_state *state = ctx->state;
    const char *text = *r->text ? r->text : "Access denied";

    switch (r->action) {
    case ACCESS_OK:
        return CHECK_OK;
    case ACCESS_DUNNO:
        return CHECK_DUNNO;
    case ACCESS_REJECT:
        return smtpd_check_reject(ctx, 0, r->code ? r->code : var_access_map_reject_code,
                           *r->dsn ? r->dsn : "5.7.1", "<%s>: %s rejected: %s", name, class, text);
    case ACCESS_DEFER:
        return smtpd_check_reject(ctx, 0, r->code ? r->code : var_access_map_defer_code,
                           *r->dsn ? r->dsn : "4.7.1", "<%s>: %s rejected: %s", name, class, text);
    case ACCESS_DEFER_IF_REJECT:
        if (ctx->defer_if_reject->len == 0)
            strbuf_printf(ctx->defer_if_reject, "%d %s <%s>: %s rejected: %s",
                          var_access_map_defer_code, *r->dsn ? r->dsn : "4.7.1", name, class,
                          text);
        return CHECK_DUNNO;
    case ACCESS_DEFER_IF_PERMIT:
        smtpd_check_defer_if_permit(var_access_map_defer_code, *r->dsn ? r->dsn : "4.7.1", name,
                                    class, text);
        return CHECK_DUNNO;
    case ACCESS_WARN:
        log_action(ctx, "warn", name, class, r->text, "WARN");
        return CHECK_DUNNO;
    case ACCESS_INFO:
        log_action(ctx, "info", name, class, r->text, "INFO");
        return CHECK_DUNNO;
    default:
        break;
    }
    if (!message_action(ctx, table, access_action_name(r->action)))
        return CHECK_DUNNO;
    switch (r->action) {
    case ACCESS_DISCARD:
        state->cleanup_flags |= CLEANUP_FLAG_DISCARD;
        log_action(ctx, "discard", name, class, r->text, "DISCARD");
        return CHECK_OK;
    case ACCESS_HOLD:
        state->cleanup_flags |= CLEANUP_FLAG_HOLD;
        log_action(ctx, "hold", name, class, r->text, "HOLD");
        return CHECK_DUNNO;
    case ACCESS_REDIRECT:
        strbuf_set(state->redirect, r->text);
        log_action(ctx, "redirect", name, class, r->text, "REDIRECT");
        return CHECK_DUNNO;
    case ACCESS_BCC:
        argv_add(state->bcc, r->text);
        return CHECK_DUNNO;
    case ACCESS_PREPEND:
        argv_add(state->prepend, r->text);
        return CHECK_DUNNO;
    default:
        msg_warn("access table %s: action %s is not supported; ignored", table,
                 access_action_name(r->action));
        return CHECK_DUNNO;
    }
}

/* Applies a table's value; a restriction list value is evaluated in turn. */
int smtpd_check_table_result(check_ctx *ctx, const char *table, const char *value,
                        const char *name, const char *class)
{
    strbuf *why = strbuf_new(64);
    access_result *r = access_result_parse(value, why);
    int     status;

    if (r == NULL) {
        msg_warn("%s: bad result \"%.100s\": %s", table, value, why->data);
        strbuf_free(why);
        return smtpd_check_config_error(ctx);
    }
    strbuf_free(why);
    if (r->action == ACCESS_RESTRICTIONS) {
        check_ctx inner = *ctx;
        argv_t *list = argv_new(8);
        strbuf *split_why = strbuf_new(32);

        inner.name = name;
        inner.class = class;
        inner.depth++;
        inner.warn_next = 0;
        status = map_split_list(value, list, split_why) < 0 ? smtpd_check_config_error(ctx)
            : smtpd_check_list(&inner, list);
        argv_free(list);
        strbuf_free(split_why);
    } else {
        status = table_action(ctx, table, r, name, class);
    }
    access_result_free(r);
    return status;
}

/* Table lookups ------------------------------------------------------- */

/* One key; *status gets a CHECK_* result when the key was found or failed. */
static int lookup_key(check_ctx *ctx, const char *table, maps_t *maps, const char *key,
                      int flags, const char *name, const char *class, int *status)
{
    const char *value;

    switch (maps_find(maps, key, flags, &value)) {
    case MAP_OK:
        *status = smtpd_check_table_result(ctx, table, value, name, class);
        return 1;
    case MAP_NOTFOUND:
        return 0;
    default:
        *status = smtpd_check_lookup_failure(ctx, name);
        return 1;
    }
}

/* A host name, then its parent domains (fixed-string tables only). */
static int domain_access(check_ctx *ctx, const char *table, const char *domain,
                         const char *name, const char *class)
{
    maps_t *maps = smtpd_check_table(table);
    int     parent_style = parent_matches_subdomains("smtpd_access_maps");
    strbuf *key = strbuf_new(64);
    int     status = CHECK_DUNNO;
    int     found = lookup_key(ctx, table, maps, domain, 0, name, class, &status);

    for (const char *dot = strchr(domain, '.'); !found && dot; dot = strchr(dot + 1, '.')) {
        strbuf_set(key, parent_style ? dot + 1 : dot);
        found = lookup_key(ctx, table, maps, key->data, MAP_FLAG_FIXED, name, class, &status);
    }
    strbuf_free(key);
    return status;
}

/* An address, then its shorter prefixes: 1.2.3, 1.2, 1 (fixed tables only). */
static int address_access(check_ctx *ctx, const char *table, const char *address,
                          const char *name, const char *class)
{
    maps_t *maps = smtpd_check_table(table);
    char    separator = strchr(address, ':') ? ':' : '.';
    strbuf *key = strbuf_from(address);
    int     status = CHECK_DUNNO;
    int     found = lookup_key(ctx, table, maps, address, 0, name, class, &status);
    char   *cut;

    while (!found && (cut = strrchr(key->data, separator)) != NULL) {
        strbuf_truncate(key, (size_t) (cut - key->data));
        if (key->len == 0)
            break;
        found = lookup_key(ctx, table, maps, key->data, MAP_FLAG_FIXED, name, class, &status);
    }
    strbuf_free(key);
    return status;
}

/* An e-mail address in access(5) order; the null sender as its lookup key. */
static int mail_access(check_ctx *ctx, const char *table, const char *address,
                       const char *class)
{
    maps_t *maps = smtpd_check_table(table);
    addr_find_opts opts = {.strategy = ADDR_FIND_ACCESS,.parent_style_param = "smtpd_access_maps"};
    const char *value;
    const char *name = *address ? address : "<>";
    int     status = CHECK_DUNNO;

    if (*address == 0) {
        lookup_key(ctx, table, maps, var_smtpd_null_access_lookup_key, 0, name, class, &status);
        return status;
    }
    switch (addr_find(maps, address, &opts, &value, NULL)) {
    case MAP_OK:
        return smtpd_check_table_result(ctx, table, value, name, class);
    case MAP_NOTFOUND:
        return CHECK_DUNNO;
    default:
        return smtpd_check_lookup_failure(ctx, name);
    }
}

/* The access restrictions ------------------------------------------- */

int smtpd_check_client_access(check_ctx *ctx, const char *table)
{
    smtpd_state *state = ctx->state;
    const char *name = state->namaddr->data;
    int     status = CHECK_DUNNO;

    if (strcmp(state->name->data, "unknown") != 0)
        status = domain_access(ctx, table, state->name->data, name, CLASS_CLIENT);
    if (status == CHECK_DUNNO)
        status = address_access(ctx, table, state->addr->data, name, CLASS_CLIENT);
    return status;
}

int smtpd_check_helo_access(check_ctx *ctx, const char *table)
{
    const char *helo = ctx->state->helo_name;

    return helo ? domain_access(ctx, table, helo, helo, CLASS_HELO) : CHECK_DUNNO;
}

int smtpd_check_sender_access(check_ctx *ctx, const char *table)
{
    const char *sender = ctx->state->sender;

    return sender ? mail_access(ctx, table, sender, CLASS_SENDER) : CHECK_DUNNO;
}

int smtpd_check_recipient_access(check_ctx *ctx, const char *table)
{
    return ctx->recipient ? mail_access(ctx, table, ctx->recipient, CLASS_RECIPIENT)
        : CHECK_DUNNO;
}

int smtpd_check_policy_service(check_ctx *ctx, const char *endpoint)
{
    strbuf *action = strbuf_new(64);
    int     status;

    smtpd_policy_query(ctx->state, endpoint, ctx->recipient, ctx->etrn_domain, action);
    status = smtpd_check_table_result(ctx, endpoint, action->data, ctx->name, ctx->class);
    strbuf_free(action);
    return status;
}
