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
 *
 * This file holds the replies, the list evaluation and the events; the
 * restrictions themselves are in smtpd_rules.c, access tables and policy
 * answers in smtpd_access.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "htable.h"
#include "mail_params.h"
#include "map_text.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_check.h"

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
} check_lists;

static check_lists lists;
static strbuf *defer_if_permit;         /* pending for this event, or empty */
static int unlisted_recipient_checked;

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

int smtpd_check_reject(check_ctx *ctx, int hard, int code, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * A reject: the reply goes to state->reply and is logged. `hard` rejects
 * (lookup and configuration failures) ignore warn_if_reject and
 * DEFER_IF_REJECT.
 */
int smtpd_check_reject(check_ctx *ctx, int hard, int code, const char *dsn, const char *fmt, ...)
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

int smtpd_check_lookup_failure(check_ctx *ctx, const char *name)
{
    return smtpd_check_reject(ctx, 1, 451, "4.3.0", "<%s>: Temporary lookup failure", name);
}

int smtpd_check_config_error(check_ctx *ctx)
{
    return smtpd_check_reject(ctx, 1, 451, "4.3.5", "Server configuration error");
}

/* A DSN of the right class for a reply code. */
const char *smtpd_check_dsn(int code, const char *detail)
{
    static char dsn[16];

    snprintf(dsn, sizeof(dsn), "%c.%s", code >= 500 ? '5' : '4', detail);
    return dsn;
}

/* Records a DEFER_IF_PERMIT reply; the first one of the event wins. */
void smtpd_check_defer_if_permit(int code, const char *dsn, const char *name,
                                const char *class, const char *text)
{
    if (defer_if_permit->len == 0)
        strbuf_printf(defer_if_permit, "%d %s <%s>: %s rejected: %s", code, dsn, name, class,
                      text);
}

/* The evaluation ------------------------------------------------------ */

/* Evaluates one entry; *used_argument is set when it took the next item. */
static int check_entry(check_ctx *ctx, const char *name, const char *argument,
                       int *used_argument)
{
    const smtpd_rule *r = smtpd_check_rule(name);
    const argv_t *class_list;

    *used_argument = 0;
    if (r) {
        if (r->needs_argument && argument == NULL) {
            msg_warn("restriction %s requires an argument", name);
            return smtpd_check_config_error(ctx);
        }
        *used_argument = r->needs_argument;
        return r->check(ctx, argument);
    }
    if (lists.classes && (class_list = htable_get(lists.classes, name)) != NULL) {
        check_ctx inner = *ctx;

        inner.depth++;
        inner.warn_next = 0;
        return smtpd_check_list(&inner, class_list);
    }
    msg_warn("unknown smtpd restriction: \"%s\"", name);
    return smtpd_check_config_error(ctx);
}

int smtpd_check_list(check_ctx *ctx, const argv_t *list)
{
    if (ctx->depth > CHECK_DEPTH_MAX) {
        msg_warn("restriction lists nested deeper than %d", CHECK_DEPTH_MAX);
        return smtpd_check_config_error(ctx);
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

void smtpd_check_note_unlisted(void)
{
    unlisted_recipient_checked = 1;
}

/* The protocol events ------------------------------------------------- */

static const char *sender_name(const smtpd_state *state)
{
    return *state->sender ? state->sender : "<>";
}

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
    status = smtpd_check_list(&ctx, list);
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
        status = smtpd_check_unlisted_recipient(&ctx, NULL);
    if (status != CHECK_REJECT && var_smtpd_reject_unlisted_sender && !vrfy)
        status = smtpd_check_unlisted_sender(&ctx, NULL);
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

            local = maps_find(smtpd_check_table(list->items[++i]), state->addr->data, 0, &value)
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
        const smtpd_rule *r = smtpd_check_rule(list->items[i]);

        if (r && r->needs_argument) {
            if (strncmp(r->name, "check_", 6) == 0 && strcmp(r->name, "check_policy_service"))
                smtpd_check_table(list->items[i + 1]);
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
