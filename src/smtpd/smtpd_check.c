/*
 * smtpd_check - the restriction lists: smtpd_client_restrictions,
 * smtpd_helo_restrictions, smtpd_sender_restrictions,
 * smtpd_relay_restrictions, smtpd_recipient_restrictions,
 * smtpd_data_restrictions, smtpd_end_of_data_restrictions,
 * smtpd_etrn_restrictions and the named classes of
 * smtpd_restriction_classes.
 *
 * Each smtpd_check_*() runs the lists of one protocol event and returns 0
 * (go on) or 1 with the reply in state->reply; every reject is logged
 * ("NOQUEUE: reject: RCPT from ..."). With smtpd_delay_reject (default)
 * the client, HELO and sender lists run at each RCPT, so a reject names
 * the recipient. A list is evaluated left to right until an entry permits
 * (the list is done; later lists still run), rejects, or the list ends.
 *
 * Replies and DSN codes are Postfix's: "<NAME>: CLASS rejected: TEXT" where
 * NAME and CLASS belong to the check (check_client_access: the client,
 * "Client host") or, for plain permit/reject/defer and policy answers, to
 * the list being evaluated. DEFER_IF_PERMIT (and DNS trouble under
 * reject_tempfail_action) turns a later permit of the same event into a
 * 450; DEFER_IF_REJECT turns a reject later in the same list into one.
 * warn_if_reject logs what the next entry would reject instead. A table
 * that fails answers "451 4.3.0 <NAME>: Temporary lookup failure"; an
 * unknown entry "451 4.3.5 Server configuration error" (logged).
 *
 * smtpd_check_init() (before the chroot) parses every list, opens every
 * table they name, and refuses (fatal) a configuration whose relay and
 * recipient lists could never refuse to relay: Postern is never an open
 * relay by accident.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access_result.h"
#include "addr_find.h"
#include "config.h"
#include "dns_lookup.h"
#include "htable.h"
#include "mail_params.h"
#include "map_text.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_check.h"
#include "valid_hostname.h"

#define CHECK_DUNNO     0
#define CHECK_OK        1
#define CHECK_REJECT    2

#define CHECK_DEPTH_MAX 100

#define CLASS_CLIENT    "Client host"
#define CLASS_HELO      "Helo command"
#define CLASS_SENDER    "Sender address"
#define CLASS_RECIPIENT "Recipient address"
#define CLASS_DATA      "Data command"
#define CLASS_EOD       "End-of-data"
#define CLASS_ETRN      "Etrn command"

typedef struct check_ctx {
    smtpd_state *state;
    const char *name;                   /* shown as <NAME> in replies */
    const char *class;                  /* "Client host", ... */
    const char *recipient;              /* when the event has one */
    const char *etrn_domain;
    int     vrfy;                       /* VRFY: no message actions */
    int     depth;
    int     warn_next;                  /* warn_if_reject was the last entry */
    strbuf *defer_if_reject;            /* non-empty: DEFER_IF_REJECT seen */
} check_ctx;

typedef struct check_lists {
    argv_t *client;
    argv_t *helo;
    argv_t *sender;
    argv_t *relay;
    argv_t *recipient;
    argv_t *data;
    argv_t *eod;
    argv_t *etrn;
    htable *classes;                    /* name -> argv_t * */
    htable *tables;                     /* "type:name" -> maps_t * */
} check_lists;

static check_lists lists;
static strbuf *defer_if_permit;         /* pending for this event, or empty */
static int unlisted_recipient_checked;

static int check_list(check_ctx *ctx, const argv_t *list);

/* Replies ------------------------------------------------------------ */

/* Postfix corrects address DSN details to the side they are about. */
static void map_dsn(const check_ctx *ctx, const char *dsn, char *out, size_t size)
{
    static const struct {
        const char *class;
        const char *from;
        const char *to;
    } maps[] = {
        {CLASS_SENDER, ".1.1", ".1.7"}, {CLASS_SENDER, ".1.2", ".1.8"},
        {CLASS_SENDER, ".1.3", ".1.7"}, {CLASS_RECIPIENT, ".1.7", ".1.3"},
        {CLASS_RECIPIENT, ".1.8", ".1.2"},
    };

    snprintf(out, size, "%s", dsn);
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        if (strcmp(ctx->class, maps[i].class) == 0 && strlen(dsn) == 5
            && strcmp(dsn + 1, maps[i].from) == 0) {
            snprintf(out, size, "%c%s", dsn[0], maps[i].to);
            msg_info("mapping DSN status %s into %s status %s", dsn, ctx->class, out);
            return;
        }
    }
}

static int reject_with(check_ctx *ctx, int hard, int code, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * A reject: the reply goes to state->reply and is logged. `hard` rejects
 * (lookup and configuration failures) ignore warn_if_reject and
 * DEFER_IF_REJECT.
 */
static int reject_with(check_ctx *ctx, int hard, int code, const char *dsn, const char *fmt, ...)
{
    smtpd_state *state = ctx->state;
    strbuf *text = strbuf_new(128);
    char    mapped[16];
    va_list ap;

    va_start(ap, fmt);
    strbuf_append_vprintf(text, fmt, ap);
    va_end(ap);
    map_dsn(ctx, dsn, mapped, sizeof(mapped));
    strbuf_printf(state->reply, "%d %s %s", code, mapped, text->data);
    strbuf_free(text);
    if (!hard && ctx->warn_next) {
        smtpd_log_whatsup(state, "reject_warning", state->reply->data);
        return CHECK_DUNNO;
    }
    if (!hard && code >= 500 && ctx->defer_if_reject->len)
        strbuf_set(state->reply, ctx->defer_if_reject->data);
    smtpd_log_whatsup(state, "reject", state->reply->data);
    if (code == 421 || code == 521)
        state->quit = 1;
    return CHECK_REJECT;
}

static int lookup_failure(check_ctx *ctx, const char *name)
{
    return reject_with(ctx, 1, 451, "4.3.0", "<%s>: Temporary lookup failure", name);
}

static int config_error(check_ctx *ctx)
{
    return reject_with(ctx, 1, 451, "4.3.5", "Server configuration error");
}

/* A DSN of the right class for a reply code. */
static const char *dsn_for(int code, const char *detail)
{
    static char dsn[16];

    snprintf(dsn, sizeof(dsn), "%c.%s", code >= 500 ? '5' : '4', detail);
    return dsn;
}

/* Records a DEFER_IF_PERMIT reply; the first one of the event wins. */
static void set_defer_if_permit(int code, const char *dsn, const char *name,
                                const char *class, const char *text)
{
    if (defer_if_permit->len == 0)
        strbuf_printf(defer_if_permit, "%d %s <%s>: %s rejected: %s", code, dsn, name, class,
                      text);
}

/* Access table results ------------------------------------------------ */

static maps_t *table_open(const char *spec)
{
    maps_t *maps;

    if (lists.tables == NULL)
        lists.tables = htable_new(16);
    if ((maps = htable_get(lists.tables, spec)) == NULL) {
        maps = maps_open(spec, spec, MAP_FLAG_FOLD);
        htable_put(lists.tables, spec, maps, NULL);
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
        return reject_with(ctx, 0, r->code ? r->code : var_access_map_reject_code,
                           *r->dsn ? r->dsn : "5.7.1", "<%s>: %s rejected: %s", name, class, text);
    case ACCESS_DEFER:
        return reject_with(ctx, 0, r->code ? r->code : var_access_map_defer_code,
                           *r->dsn ? r->dsn : "4.7.1", "<%s>: %s rejected: %s", name, class, text);
    case ACCESS_DEFER_IF_REJECT:
        if (ctx->defer_if_reject->len == 0)
            strbuf_printf(ctx->defer_if_reject, "%d %s <%s>: %s rejected: %s",
                          var_access_map_defer_code, *r->dsn ? r->dsn : "4.7.1", name, class,
                          text);
        return CHECK_DUNNO;
    case ACCESS_DEFER_IF_PERMIT:
        set_defer_if_permit(var_access_map_defer_code, *r->dsn ? r->dsn : "4.7.1", name, class,
                            text);
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
static int table_result(check_ctx *ctx, const char *table, const char *value,
                        const char *name, const char *class)
{
    strbuf *why = strbuf_new(64);
    access_result *r = access_result_parse(value, why);
    int     status;

    if (r == NULL) {
        msg_warn("%s: bad result \"%.100s\": %s", table, value, why->data);
        strbuf_free(why);
        return config_error(ctx);
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
        status = map_split_list(value, list, split_why) < 0 ? config_error(ctx)
            : check_list(&inner, list);
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
        *status = table_result(ctx, table, value, name, class);
        return 1;
    case MAP_NOTFOUND:
        return 0;
    default:
        *status = lookup_failure(ctx, name);
        return 1;
    }
}

/* A host name, then its parent domains (fixed-string tables only). */
static int domain_access(check_ctx *ctx, const char *table, const char *domain,
                         const char *name, const char *class)
{
    maps_t *maps = table_open(table);
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
    maps_t *maps = table_open(table);
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
    maps_t *maps = table_open(table);
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
        return table_result(ctx, table, value, name, class);
    case MAP_NOTFOUND:
        return CHECK_DUNNO;
    default:
        return lookup_failure(ctx, name);
    }
}

/* The restrictions ---------------------------------------------------- */

static const char *sender_name(const smtpd_state *state)
{
    return *state->sender ? state->sender : "<>";
}

static int check_client_access(check_ctx *ctx, const char *table)
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

static int check_helo_access(check_ctx *ctx, const char *table)
{
    const char *helo = ctx->state->helo_name;

    return helo ? domain_access(ctx, table, helo, helo, CLASS_HELO) : CHECK_DUNNO;
}

static int check_sender_access(check_ctx *ctx, const char *table)
{
    const char *sender = ctx->state->sender;

    return sender ? mail_access(ctx, table, sender, CLASS_SENDER) : CHECK_DUNNO;
}

static int check_recipient_access(check_ctx *ctx, const char *table)
{
    return ctx->recipient ? mail_access(ctx, table, ctx->recipient, CLASS_RECIPIENT)
        : CHECK_DUNNO;
}

static int permit_mynetworks(check_ctx *ctx, const char *unused)
{
    int     match = smtpd_client_in_mynetworks(ctx->state);

    if (match < 0)
        return lookup_failure(ctx, ctx->state->namaddr->data);
    return match ? CHECK_OK : CHECK_DUNNO;
}

static int permit_inet_interfaces(check_ctx *ctx, const char *unused)
{
    smtpd_state *state = ctx->state;

    return strcmp(state->addr->data, state->server_addr->data) == 0 ? CHECK_OK : CHECK_DUNNO;
}

/* permit_auth_destination and the unauth_destination rejects. */
static int auth_destination(check_ctx *ctx, int on_fail_code, const char *on_fail_dsn)
{
    int     allowed;

    if (ctx->recipient == NULL)
        return CHECK_DUNNO;
    if ((allowed = smtpd_relay_allowed(ctx->state, ctx->recipient)) < 0)
        return lookup_failure(ctx, ctx->recipient);
    if (allowed)
        return on_fail_code ? CHECK_DUNNO : CHECK_OK;
    if (on_fail_code == 0)
        return CHECK_DUNNO;
    return reject_with(ctx, 0, on_fail_code, on_fail_dsn, "<%s>: Relay access denied",
                       ctx->recipient);
}

static int permit_auth_destination(check_ctx *ctx, const char *unused)
{
    return auth_destination(ctx, 0, NULL);
}

static int reject_unauth_destination(check_ctx *ctx, const char *unused)
{
    return auth_destination(ctx, var_relay_domains_reject_code,
                            dsn_for(var_relay_domains_reject_code, "7.1"));
}

static int defer_unauth_destination(check_ctx *ctx, const char *unused)
{
    return auth_destination(ctx, 454, "4.7.1");
}

/* reject_unlisted_recipient and reject_unlisted_sender. */
static int unlisted(check_ctx *ctx, const char *address, const char *class, const char *detail)
{
    check_ctx own = *ctx;
    int     code;
    const char *text;

    own.class = class;
    switch (smtpd_recipient_known(ctx->state, address, &code, &text)) {
    case RCPT_KNOWN:
        return CHECK_DUNNO;
    case RCPT_RETRY:
        return lookup_failure(&own, address);
    default:
        return reject_with(&own, 0, code, dsn_for(code, detail), "<%s>: %s rejected: %s",
                           address, class, text);
    }
}

static int reject_unlisted_recipient(check_ctx *ctx, const char *unused)
{
    if (ctx->recipient == NULL)
        return CHECK_DUNNO;
    unlisted_recipient_checked = 1;
    return unlisted(ctx, ctx->recipient, CLASS_RECIPIENT, "1.1");
}

static int reject_unlisted_sender(check_ctx *ctx, const char *unused)
{
    const char *sender = ctx->state->sender;

    return sender && *sender ? unlisted(ctx, sender, CLASS_SENDER, "1.0") : CHECK_DUNNO;
}

static int helo_is_literal(const char *helo)
{
    return valid_address_literal(helo, strlen(helo));
}

static int reject_invalid_helo_hostname(check_ctx *ctx, const char *unused)
{
    const char *helo = ctx->state->helo_name;
    check_ctx own = *ctx;

    if (helo == NULL || helo_is_literal(helo)
        || valid_hostname(helo, strlen(helo), HOSTNAME_ALLOW_UNDERSCORE))
        return CHECK_DUNNO;
    own.class = CLASS_HELO;
    return reject_with(&own, 0, var_invalid_hostname_reject_code,
                       dsn_for(var_invalid_hostname_reject_code, "5.2"),
                       "<%s>: Helo command rejected: Invalid name", helo);
}

static int reject_non_fqdn_helo_hostname(check_ctx *ctx, const char *unused)
{
    const char *helo = ctx->state->helo_name;
    check_ctx own = *ctx;

    if (helo == NULL || helo_is_literal(helo)
        || is_fqdn(helo, strlen(helo), HOSTNAME_ALLOW_UNDERSCORE))
        return CHECK_DUNNO;
    own.class = CLASS_HELO;
    return reject_with(&own, 0, var_non_fqdn_reject_code,
                       dsn_for(var_non_fqdn_reject_code, "5.2"),
                       "<%s>: Helo command rejected: need fully-qualified hostname", helo);
}

/* Is the domain of an address fully qualified (or an address literal)? */
static int address_fqdn(const char *address)
{
    const char *at = strrchr(address, '@');

    if (at == NULL)
        return 0;
    return valid_address_literal(at + 1, strlen(at + 1))
        || is_fqdn(at + 1, strlen(at + 1), HOSTNAME_ALLOW_UNDERSCORE | HOSTNAME_ALLOW_UTF8);
}

static int non_fqdn(check_ctx *ctx, const char *address, const char *class)
{
    check_ctx own = *ctx;

    if (address == NULL || *address == 0 || address_fqdn(address))
        return CHECK_DUNNO;
    own.class = class;
    return reject_with(&own, 0, var_non_fqdn_reject_code,
                       dsn_for(var_non_fqdn_reject_code, "5.2"),
                       "<%s>: %s rejected: need fully-qualified address", address, class);
}

static int reject_non_fqdn_sender(check_ctx *ctx, const char *unused)
{
    return non_fqdn(ctx, ctx->state->sender, CLASS_SENDER);
}

static int reject_non_fqdn_recipient(check_ctx *ctx, const char *unused)
{
    return non_fqdn(ctx, ctx->recipient, CLASS_RECIPIENT);
}

/* reject_unknown_sender_domain and reject_unknown_recipient_domain. */
static int unknown_domain(check_ctx *ctx, const char *address, const char *class,
                          const char *detail)
{
    check_ctx own = *ctx;
    const resolve_reply *reply;
    const char *at;
    int     code = var_unknown_address_reject_code;

    if (address == NULL || *address == 0)
        return CHECK_DUNNO;
    own.class = class;
    if ((reply = smtpd_resolve(ctx->state, address)) == NULL)
        return lookup_failure(&own, address);
    if ((reply->flags & RESOLVE_CLASS_FINAL) || (at = strrchr(reply->recipient->data, '@')) == NULL
        || at[1] == '[')
        return CHECK_DUNNO;
    switch (smtpd_domain_status(at + 1)) {
    case DNS_OK:
    case DNS_FAIL:
        return CHECK_DUNNO;
    case DNS_RETRY:
        if (strcmp(var_unknown_address_tempfail_action, "defer_if_permit") == 0) {
            set_defer_if_permit(450, dsn_for(450, detail), address, class, "Domain not found");
            return CHECK_DUNNO;
        }
        code = 450;
        break;
    default:
        break;
    }
    return reject_with(&own, 0, code, dsn_for(code, detail),
                       "<%s>: %s rejected: Domain not found", address, class);
}

static int reject_unknown_sender_domain(check_ctx *ctx, const char *unused)
{
    return unknown_domain(ctx, ctx->state->sender, CLASS_SENDER, "1.8");
}

static int reject_unknown_recipient_domain(check_ctx *ctx, const char *unused)
{
    return unknown_domain(ctx, ctx->recipient, CLASS_RECIPIENT, "1.2");
}

static int reject_unknown_client_hostname(check_ctx *ctx, const char *unused)
{
    smtpd_state *state = ctx->state;
    check_ctx own = *ctx;
    int     code = var_unknown_client_reject_code;

    if (state->name_status == PEER_NAME_OK)
        return CHECK_DUNNO;
    own.class = CLASS_CLIENT;
    if (state->name_status == PEER_NAME_TEMP)
        code = 450;
    return reject_with(&own, 0, code, dsn_for(code, "7.25"),
                       "Client host rejected: cannot find your hostname, [%s]", state->addr->data);
}

static int reject_unauth_pipelining(check_ctx *ctx, const char *unused)
{
    if (!ctx->state->ill_pipelining)
        return CHECK_DUNNO;
    return reject_with(ctx, 0, 503, "5.5.0", "<%s>: %s rejected: Improper use of SMTP command"
                       " pipelining", ctx->name, ctx->class);
}

/* A DNS list answer: the reply comes from the rbl reply template. */
static int rbl_reject(check_ctx *ctx, const char *domain, const char *class, const char *what,
                      const char *reason)
{
    smtpd_state *state = ctx->state;
    strbuf *reply = strbuf_new(128);
    char   *end;
    long    code;
    const char *text;
    int     status;

    smtpd_rbl_reply(state, domain, class, what, reason, ctx->recipient, reply);
    code = strtol(reply->data, &end, 10);
    if (end != reply->data + 3 || (code / 100 != 4 && code / 100 != 5) || *end != ' ') {
        msg_warn("rbl reply \"%.100s\" does not start with a 4XX or 5XX code", reply->data);
        strbuf_free(reply);
        return config_error(ctx);
    }
    text = end + 1;
    if (text[0] == (code >= 500 ? '5' : '4') && text[1] == '.' && strchr(text, ' ')) {
        char    dsn[16];

        snprintf(dsn, sizeof(dsn), "%.*s", (int) (strchr(text, ' ') - text), text);
        status = reject_with(ctx, 0, (int) code, dsn, "%s", strchr(text, ' ') + 1);
    } else {
        status = reject_with(ctx, 0, (int) code, dsn_for((int) code, "7.1"), "%s", text);
    }
    strbuf_free(reply);
    return status;
}

static int rbl_check(check_ctx *ctx, const char *domain, const char *query, int is_address,
                     const char *class, const char *what)
{
    strbuf *reason = strbuf_new(64);
    int     status = CHECK_DUNNO;

    if (query && *query && smtpd_rbl_query(query, is_address, domain, reason))
        status = rbl_reject(ctx, domain, class, what, reason->data);
    strbuf_free(reason);
    return status;
}

static const char *domain_of(const char *address)
{
    const char *at = address ? strrchr(address, '@') : NULL;

    return at && at[1] != '[' ? at + 1 : NULL;
}

static int reject_rbl_client(check_ctx *ctx, const char *domain)
{
    const char *addr = ctx->state->addr->data;

    return rbl_check(ctx, domain, addr, 1, CLASS_CLIENT, addr);
}

static int reject_rhsbl_client(check_ctx *ctx, const char *domain)
{
    const char *name = ctx->state->name->data;

    return strcmp(name, "unknown") == 0 ? CHECK_DUNNO
        : rbl_check(ctx, domain, name, 0, CLASS_CLIENT, name);
}

static int reject_rhsbl_sender(check_ctx *ctx, const char *domain)
{
    const char *sender_domain = domain_of(ctx->state->sender);

    return rbl_check(ctx, domain, sender_domain, 0, CLASS_SENDER, sender_domain);
}

static int reject_rhsbl_recipient(check_ctx *ctx, const char *domain)
{
    const char *rcpt_domain = domain_of(ctx->recipient);

    return rbl_check(ctx, domain, rcpt_domain, 0, CLASS_RECIPIENT, rcpt_domain);
}

static int reject_rhsbl_helo(check_ctx *ctx, const char *domain)
{
    const char *helo = ctx->state->helo_name;

    if (helo == NULL || !valid_hostname(helo, strlen(helo), HOSTNAME_ALLOW_UNDERSCORE))
        return CHECK_DUNNO;
    return rbl_check(ctx, domain, helo, 0, CLASS_HELO, helo);
}

static int check_policy_service(check_ctx *ctx, const char *endpoint)
{
    strbuf *action = strbuf_new(64);
    int     status;

    smtpd_policy_query(ctx->state, endpoint, ctx->recipient, ctx->etrn_domain, action);
    status = table_result(ctx, endpoint, action->data, ctx->name, ctx->class);
    strbuf_free(action);
    return status;
}

static int simple_permit(check_ctx *ctx, const char *unused)
{
    return CHECK_OK;
}

static int simple_dunno(check_ctx *ctx, const char *unused)
{
    return CHECK_DUNNO;
}

static int simple_reject(check_ctx *ctx, const char *unused)
{
    return reject_with(ctx, 0, var_reject_code, dsn_for(var_reject_code, "7.1"),
                       "<%s>: %s rejected: Access denied", ctx->name, ctx->class);
}

static int simple_defer(check_ctx *ctx, const char *unused)
{
    return reject_with(ctx, 0, var_defer_code, dsn_for(var_defer_code, "3.2"),
                       "<%s>: %s rejected: Try again later", ctx->name, ctx->class);
}

static int defer_if_permit_entry(check_ctx *ctx, const char *unused)
{
    set_defer_if_permit(var_defer_code, "4.7.1", ctx->name, ctx->class,
                        "defer_if_permit requested");
    return CHECK_DUNNO;
}

static int defer_if_reject_entry(check_ctx *ctx, const char *unused)
{
    if (ctx->defer_if_reject->len == 0)
        strbuf_printf(ctx->defer_if_reject, "%d 4.7.1 <%s>: %s rejected: defer_if_reject "
                      "requested", var_defer_code, ctx->name, ctx->class);
    return CHECK_DUNNO;
}

typedef struct restriction {
    const char *name;
    int     needs_table;                /* takes the next list item as argument */
    int     (*check)(check_ctx *ctx, const char *argument);
} restriction;

static const restriction restrictions[] = {
    {"permit", 0, simple_permit},
    {"reject", 0, simple_reject},
    {"defer", 0, simple_defer},
    {"defer_if_permit", 0, defer_if_permit_entry},
    {"defer_if_reject", 0, defer_if_reject_entry},
    {"permit_mynetworks", 0, permit_mynetworks},
    {"permit_inet_interfaces", 0, permit_inet_interfaces},
    {"permit_sasl_authenticated", 0, simple_dunno},
    {"permit_auth_destination", 0, permit_auth_destination},
    {"reject_unauth_destination", 0, reject_unauth_destination},
    {"defer_unauth_destination", 0, defer_unauth_destination},
    {"reject_unlisted_recipient", 0, reject_unlisted_recipient},
    {"reject_unlisted_sender", 0, reject_unlisted_sender},
    {"check_client_access", 1, check_client_access},
    {"check_helo_access", 1, check_helo_access},
    {"check_sender_access", 1, check_sender_access},
    {"check_recipient_access", 1, check_recipient_access},
    {"reject_invalid_helo_hostname", 0, reject_invalid_helo_hostname},
    {"reject_invalid_hostname", 0, reject_invalid_helo_hostname},
    {"reject_non_fqdn_helo_hostname", 0, reject_non_fqdn_helo_hostname},
    {"reject_non_fqdn_hostname", 0, reject_non_fqdn_helo_hostname},
    {"reject_non_fqdn_sender", 0, reject_non_fqdn_sender},
    {"reject_non_fqdn_recipient", 0, reject_non_fqdn_recipient},
    {"reject_unknown_sender_domain", 0, reject_unknown_sender_domain},
    {"reject_unknown_recipient_domain", 0, reject_unknown_recipient_domain},
    {"reject_unknown_client_hostname", 0, reject_unknown_client_hostname},
    {"reject_unknown_client", 0, reject_unknown_client_hostname},
    {"reject_rbl_client", 1, reject_rbl_client},
    {"reject_rhsbl_client", 1, reject_rhsbl_client},
    {"reject_rhsbl_sender", 1, reject_rhsbl_sender},
    {"reject_rhsbl_helo", 1, reject_rhsbl_helo},
    {"reject_rhsbl_recipient", 1, reject_rhsbl_recipient},
    {"reject_unauth_pipelining", 0, reject_unauth_pipelining},
    {"check_policy_service", 1, check_policy_service},
};

static const restriction *find_restriction(const char *name)
{
    for (size_t i = 0; i < sizeof(restrictions) / sizeof(restrictions[0]); i++)
        if (strcasecmp(restrictions[i].name, name) == 0)
            return restrictions + i;
    return NULL;
}

/* Evaluates one entry; *used_argument is set when it took the next item. */
static int check_entry(check_ctx *ctx, const char *name, const char *argument,
                       int *used_argument)
{
    const restriction *r = find_restriction(name);
    const argv_t *class_list;

    *used_argument = 0;
    if (r) {
        if (r->needs_table && argument == NULL) {
            msg_warn("restriction %s requires an argument", name);
            return config_error(ctx);
        }
        *used_argument = r->needs_table;
        return r->check(ctx, argument);
    }
    if (lists.classes && (class_list = htable_get(lists.classes, name)) != NULL) {
        check_ctx inner = *ctx;

        inner.depth++;
        inner.warn_next = 0;
        return check_list(&inner, class_list);
    }
    msg_warn("unknown smtpd restriction: \"%s\"", name);
    return config_error(ctx);
}

static int check_list(check_ctx *ctx, const argv_t *list)
{
    if (ctx->depth > CHECK_DEPTH_MAX) {
        msg_warn("restriction lists nested deeper than %d", CHECK_DEPTH_MAX);
        return config_error(ctx);
    }
    for (size_t i = 0; list && i < list->count; i++) {
        const char *argument = i + 1 < list->count ? list->items[i + 1] : NULL;
        int     used_argument;
        int     status;

        if (strcasecmp(list->items[i], "warn_if_reject") == 0) {
            ctx->warn_next = 1;
            continue;
        }
        status = check_entry(ctx, list->items[i], argument, &used_argument);
        ctx->warn_next = 0;
        i += (size_t) used_argument;
        if (status != CHECK_DUNNO)
            return status;
    }
    return CHECK_DUNNO;
}

/* The protocol events ------------------------------------------------- */

/* Runs one list in its own context; CHECK_* result. */
static int run_list(smtpd_state *state, const argv_t *list, const char *name,
                    const char *class, const char *recipient, int vrfy)
{
    check_ctx ctx = {.state = state,.name = name,.class = class,.recipient = recipient,
    .vrfy = vrfy };
    int     status;

    ctx.defer_if_reject = strbuf_new(0);
    if (strcmp(class, CLASS_ETRN) == 0)
        ctx.etrn_domain = name;
    status = check_list(&ctx, list);
    strbuf_free(ctx.defer_if_reject);
    return status;
}

static void event_begins(void)
{
    if (defer_if_permit == NULL)
        defer_if_permit = strbuf_new(64);
    strbuf_reset(defer_if_permit);
    unlisted_recipient_checked = 0;
}

/* The event passed: a pending DEFER_IF_PERMIT still turns it into a 450. */
static int event_permits(smtpd_state *state)
{
    if (defer_if_permit->len == 0)
        return 0;
    strbuf_set(state->reply, defer_if_permit->data);
    smtpd_log_whatsup(state, "reject", state->reply->data);
    return 1;
}

static int client_stage(smtpd_state *state, int vrfy)
{
    return run_list(state, lists.client, state->namaddr->data, CLASS_CLIENT, NULL, vrfy);
}

static int helo_stage(smtpd_state *state, int vrfy)
{
    if (state->helo_name == NULL)
        return CHECK_DUNNO;
    return run_list(state, lists.helo, state->helo_name, CLASS_HELO, NULL, vrfy);
}

static int sender_stage(smtpd_state *state, const char *recipient, int vrfy)
{
    if (state->sender == NULL)
        return CHECK_DUNNO;
    return run_list(state, lists.sender, sender_name(state), CLASS_SENDER, recipient, vrfy);
}

/* The client, HELO and sender lists that smtpd_delay_reject moves to RCPT. */
static int delayed_stages(smtpd_state *state, const char *recipient, int vrfy)
{
    if (client_stage(state, vrfy) == CHECK_REJECT || helo_stage(state, vrfy) == CHECK_REJECT
        || sender_stage(state, recipient, vrfy) == CHECK_REJECT)
        return CHECK_REJECT;
    return CHECK_DUNNO;
}

int smtpd_check_connect(smtpd_state *state)
{
    event_begins();
    return client_stage(state, 0) == CHECK_REJECT || event_permits(state);
}

int smtpd_check_helo(smtpd_state *state)
{
    event_begins();
    return helo_stage(state, 0) == CHECK_REJECT || event_permits(state);
}

int smtpd_check_mail(smtpd_state *state)
{
    event_begins();
    return sender_stage(state, NULL, 0) == CHECK_REJECT || event_permits(state);
}

/* The implicit checks after the lists: smtpd_reject_unlisted_*. */
static int unlisted_defaults(smtpd_state *state, const char *recipient, int vrfy)
{
    check_ctx ctx = {.state = state,.name = recipient,.class = CLASS_RECIPIENT,
    .recipient = recipient,.vrfy = vrfy };
    int     status = CHECK_DUNNO;

    ctx.defer_if_reject = strbuf_new(0);
    if (var_smtpd_reject_unlisted_recipient && !unlisted_recipient_checked)
        status = reject_unlisted_recipient(&ctx, NULL);
    if (status != CHECK_REJECT && var_smtpd_reject_unlisted_sender && !vrfy)
        status = reject_unlisted_sender(&ctx, NULL);
    strbuf_free(ctx.defer_if_reject);
    return status;
}

static int recipient_event(smtpd_state *state, const char *recipient, int vrfy)
{
    event_begins();
    state->log_recipient = recipient;
    if ((var_smtpd_delay_reject && delayed_stages(state, recipient, vrfy) == CHECK_REJECT)
        || run_list(state, lists.relay, recipient, CLASS_RECIPIENT, recipient, vrfy)
        == CHECK_REJECT
        || run_list(state, lists.recipient, recipient, CLASS_RECIPIENT, recipient, vrfy)
        == CHECK_REJECT
        || unlisted_defaults(state, recipient, vrfy) == CHECK_REJECT)
        return 1;
    return event_permits(state);
}

int smtpd_check_rcpt(smtpd_state *state, const char *recipient)
{
    return recipient_event(state, recipient, 0);
}

int smtpd_check_vrfy(smtpd_state *state, const char *address)
{
    int     status = recipient_event(state, address, 1);

    state->log_recipient = NULL;
    return status;
}

int smtpd_check_data(smtpd_state *state)
{
    event_begins();
    return run_list(state, lists.data, "DATA", CLASS_DATA, NULL, 0) == CHECK_REJECT
        || event_permits(state);
}

int smtpd_check_eod(smtpd_state *state)
{
    event_begins();
    return run_list(state, lists.eod, "END-OF-MESSAGE", CLASS_EOD, NULL, 0) == CHECK_REJECT
        || event_permits(state);
}

int smtpd_check_etrn(smtpd_state *state, const char *domain)
{
    event_begins();
    if ((var_smtpd_delay_reject && (client_stage(state, 0) == CHECK_REJECT
                                    || helo_stage(state, 0) == CHECK_REJECT))
        || run_list(state, lists.etrn, domain, CLASS_ETRN, NULL, 0) == CHECK_REJECT)
        return 1;
    return event_permits(state);
}

int smtpd_client_in_mynetworks(smtpd_state *state)
{
    int     match = addr_list_match(smtpd_tables_in_use.mynetworks, state->addr->data);

    return match == MATCH_LIST_ERROR ? -1 : match;
}

/* local_header_rewrite_clients: does this client get local rewriting? */
int smtpd_rewrite_context_local(smtpd_state *state)
{
    argv_t *list = argv_new(4);
    strbuf *why = strbuf_new(32);
    int     local = 0;

    if (map_split_list(smtpd_local_header_rewrite_clients(), list, why) < 0)
        msg_warn("local_header_rewrite_clients: %s", why->data);
    for (size_t i = 0; i < list->count && !local; i++) {
        const char *entry = list->items[i];

        if (strcmp(entry, "permit_inet_interfaces") == 0)
            local = strcmp(state->addr->data, state->server_addr->data) == 0;
        else if (strcmp(entry, "permit_mynetworks") == 0)
            local = smtpd_client_in_mynetworks(state) > 0;
        else if (strcmp(entry, "check_address_map") == 0 && i + 1 < list->count) {
            const char *value;

            local = maps_find(table_open(list->items[++i]), state->addr->data, 0, &value)
                == MAP_OK;
        }
    }
    strbuf_free(why);
    argv_free(list);
    return local;
}

/* Start-up ------------------------------------------------------------ */

static argv_t *parse_list(const char *param, const char *value)
{
    argv_t *list = argv_new(8);
    strbuf *why = strbuf_new(32);

    if (map_split_list(value, list, why) < 0)
        msg_fatal("%s: %s", param, why->data);
    strbuf_free(why);
    return list;
}

/* Opens the tables a list names, now, while the files are reachable. */
static void open_list_tables(const argv_t *list)
{
    for (size_t i = 0; i + 1 < list->count; i++) {
        const restriction *r = find_restriction(list->items[i]);

        if (r && r->needs_table) {
            if (strncmp(r->name, "check_", 6) == 0 && strcmp(r->name, "check_policy_service"))
                table_open(list->items[i + 1]);
            i++;
        }
    }
}

static int refuses_relay(const argv_t *list)
{
    static const char *const refusing[] = {
        "reject_unauth_destination", "defer_unauth_destination", "reject", "defer",
        "defer_if_permit", "check_relay_domains",
    };

    for (size_t i = 0; i < list->count; i++)
        for (size_t j = 0; j < sizeof(refusing) / sizeof(refusing[0]); j++)
            if (strcasecmp(list->items[i], refusing[j]) == 0)
                return 1;
    return 0;
}

void smtpd_check_init(void)
{
    argv_t *class_names = parse_list("smtpd_restriction_classes", var_smtpd_restriction_classes);
    argv_t *all[8];
    size_t  count = 0;

    all[count++] = lists.client = parse_list("smtpd_client_restrictions",
                                             var_smtpd_client_restrictions);
    all[count++] = lists.helo = parse_list("smtpd_helo_restrictions", var_smtpd_helo_restrictions);
    all[count++] = lists.sender = parse_list("smtpd_sender_restrictions",
                                             var_smtpd_sender_restrictions);
    all[count++] = lists.relay = parse_list("smtpd_relay_restrictions",
                                            var_smtpd_relay_restrictions);
    all[count++] = lists.recipient = parse_list("smtpd_recipient_restrictions",
                                                var_smtpd_recipient_restrictions);
    all[count++] = lists.data = parse_list("smtpd_data_restrictions", var_smtpd_data_restrictions);
    all[count++] = lists.eod = parse_list("smtpd_end_of_data_restrictions",
                                          var_smtpd_end_of_data_restrictions);
    all[count++] = lists.etrn = parse_list("smtpd_etrn_restrictions", var_smtpd_etrn_restrictions);
    for (size_t i = 0; i < count; i++)
        open_list_tables(all[i]);
    lists.classes = htable_new(8);
    for (size_t i = 0; i < class_names->count; i++) {
        strbuf *value = strbuf_new(64);
        argv_t *list;

        if (config_eval(class_names->items[i], value) < 0)
            msg_fatal("smtpd_restriction_classes: %s: %s", class_names->items[i],
                      config_last_error());
        list = parse_list(class_names->items[i], value->data);
        open_list_tables(list);
        htable_put(lists.classes, class_names->items[i], list, NULL);
        strbuf_free(value);
    }
    argv_free(class_names);
    if (!refuses_relay(lists.relay) && !refuses_relay(lists.recipient))
        msg_fatal("in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, "
                  "specify at least one working instance of: reject_unauth_destination, "
                  "defer_unauth_destination, reject, defer, defer_if_permit or "
                  "check_relay_domains");
}
