/*
 * smtpd_rules - the built-in restrictions and the table of every
 * restriction name smtpd knows (smtpd_check_rule()).
 *
 * Each restriction takes the evaluation context and, when it needs one,
 * the next list item (a table, a DNS list domain, a policy endpoint), and
 * returns CHECK_OK, CHECK_DUNNO or CHECK_REJECT (with the reply in
 * state->reply, already logged). Replies and codes are Postfix's; each
 * check names its own subject and class ("<x_y!>: Helo command rejected:
 * Invalid name"), except permit/reject/defer, which use the list's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_lookup.h"
#include "mail_params.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_check.h"
#include "valid_hostname.h"

static int permit_mynetworks(check_ctx *ctx, const char *unused)
{
    int     match = smtpd_client_in_mynetworks(ctx->state);

    if (match < 0)
        return smtpd_check_lookup_failure(ctx, ctx->state->namaddr->data);
    return match ? CHECK_OK : CHECK_DUNNO;
}

static int permit_sasl_authenticated(check_ctx *ctx, const char *unused)
{
    return ctx->state->sasl_username ? CHECK_OK : CHECK_DUNNO;
}

static int reject_sender_login_mismatch(check_ctx *ctx, const char *unused)
{
    return smtpd_sasl_login_check(ctx, LOGIN_CHECK_AUTHENTICATED | LOGIN_CHECK_UNAUTHENTICATED);
}

static int reject_authenticated_sender_login_mismatch(check_ctx *ctx, const char *unused)
{
    return smtpd_sasl_login_check(ctx, LOGIN_CHECK_AUTHENTICATED);
}

static int reject_unauthenticated_sender_login_mismatch(check_ctx *ctx, const char *unused)
{
    return smtpd_sasl_login_check(ctx, LOGIN_CHECK_UNAUTHENTICATED);
}

static int reject_known_sender_login_mismatch(check_ctx *ctx, const char *unused)
{
    return smtpd_sasl_login_check(ctx, LOGIN_CHECK_AUTHENTICATED | LOGIN_CHECK_UNAUTHENTICATED
                                  | LOGIN_CHECK_KNOWN_ONLY);
}

static int permit_inet_interfaces(check_ctx *ctx, const char *unused)
{
    smtpd_state *state = ctx->state;

    return strcmp(state->addr->data, state->server_addr->data) == 0 ? CHECK_OK : CHECK_DUNNO;
}

/* permit_tls_clientcerts and permit_tls_all_clientcerts. */
static int tls_clientcerts(check_ctx *ctx, int any_trusted)
{
    switch (smtpd_tls_cert_permitted(ctx->state, any_trusted)) {
    case 1:
        return CHECK_OK;
    case 0:
        return CHECK_DUNNO;
    default:
        return smtpd_check_lookup_failure(ctx, ctx->state->namaddr->data);
    }
}

static int permit_tls_clientcerts(check_ctx *ctx, const char *unused)
{
    return tls_clientcerts(ctx, 0);
}

static int permit_tls_all_clientcerts(check_ctx *ctx, const char *unused)
{
    return tls_clientcerts(ctx, 1);
}

/* permit_auth_destination and the unauth_destination rejects. */
static int auth_destination(check_ctx *ctx, int on_fail_code, const char *on_fail_dsn)
{
    int     allowed;

    if (ctx->recipient == NULL)
        return CHECK_DUNNO;
    if ((allowed = smtpd_relay_allowed(ctx->state, ctx->recipient)) < 0)
        return smtpd_check_lookup_failure(ctx, ctx->recipient);
    if (allowed)
        return on_fail_code ? CHECK_DUNNO : CHECK_OK;
    if (on_fail_code == 0)
        return CHECK_DUNNO;
    return smtpd_check_reject(ctx, 0, on_fail_code, on_fail_dsn, "<%s>: Relay access denied",
                       ctx->recipient);
}

static int permit_auth_destination(check_ctx *ctx, const char *unused)
{
    return auth_destination(ctx, 0, NULL);
}

static int reject_unauth_destination(check_ctx *ctx, const char *unused)
{
    return auth_destination(ctx, var_relay_domains_reject_code,
                            smtpd_check_dsn(var_relay_domains_reject_code, "7.1"));
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
        return smtpd_check_lookup_failure(&own, address);
    default:
        return smtpd_check_reject(&own, 0, code, smtpd_check_dsn(code, detail),
                                  "<%s>: %s rejected: %s", address, class, text);
    }
}

int smtpd_check_unlisted_recipient(check_ctx *ctx, const char *unused)
{
    if (ctx->recipient == NULL)
        return CHECK_DUNNO;
    smtpd_check_note_unlisted();
    return unlisted(ctx, ctx->recipient, CLASS_RECIPIENT, "1.1");
}

int smtpd_check_unlisted_sender(check_ctx *ctx, const char *unused)
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
    return smtpd_check_reject(&own, 0, var_invalid_hostname_reject_code,
                       smtpd_check_dsn(var_invalid_hostname_reject_code, "5.2"),
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
    return smtpd_check_reject(&own, 0, var_non_fqdn_reject_code,
                       smtpd_check_dsn(var_non_fqdn_reject_code, "5.2"),
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
    return smtpd_check_reject(&own, 0, var_non_fqdn_reject_code,
                       smtpd_check_dsn(var_non_fqdn_reject_code, "5.2"),
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
        return smtpd_check_lookup_failure(&own, address);
    if ((reply->flags & RESOLVE_CLASS_FINAL) || (at = strrchr(reply->recipient->data, '@')) == NULL
        || at[1] == '[')
        return CHECK_DUNNO;
    switch (smtpd_domain_status(at + 1)) {
    case DNS_OK:
    case DNS_FAIL:
        return CHECK_DUNNO;
    case DNS_RETRY:
        if (strcmp(var_unknown_address_tempfail_action, "defer_if_permit") == 0) {
            smtpd_check_defer_if_permit(450, smtpd_check_dsn(450, detail), address, class,
                                        "Domain not found");
            return CHECK_DUNNO;
        }
        code = 450;
        break;
    default:
        break;
    }
    return smtpd_check_reject(&own, 0, code, smtpd_check_dsn(code, detail),
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
    return smtpd_check_reject(&own, 0, code, smtpd_check_dsn(code, "7.25"),
                       "Client host rejected: cannot find your hostname, [%s]", state->addr->data);
}

static int reject_unauth_pipelining(check_ctx *ctx, const char *unused)
{
    if (!ctx->state->ill_pipelining)
        return CHECK_DUNNO;
    return smtpd_check_reject(ctx, 0, 503, "5.5.0",
                              "<%s>: %s rejected: Improper use of SMTP command pipelining",
                              ctx->name, ctx->class);
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
        return smtpd_check_config_error(ctx);
    }
    text = end + 1;
    if (text[0] == (code >= 500 ? '5' : '4') && text[1] == '.' && strchr(text, ' ')) {
        char    dsn[16];

        snprintf(dsn, sizeof(dsn), "%.*s", (int) (strchr(text, ' ') - text), text);
        status = smtpd_check_reject(ctx, 0, (int) code, dsn, "%s", strchr(text, ' ') + 1);
    } else {
        status = smtpd_check_reject(ctx, 0, (int) code, smtpd_check_dsn((int) code, "7.1"), "%s",
                                    text);
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

static int simple_permit(check_ctx *ctx, const char *unused)
{
    return CHECK_OK;
}

static int simple_reject(check_ctx *ctx, const char *unused)
{
    return smtpd_check_reject(ctx, 0, var_reject_code, smtpd_check_dsn(var_reject_code, "7.1"),
                       "<%s>: %s rejected: Access denied", ctx->name, ctx->class);
}

static int simple_defer(check_ctx *ctx, const char *unused)
{
    return smtpd_check_reject(ctx, 0, var_defer_code, smtpd_check_dsn(var_defer_code, "3.2"),
                       "<%s>: %s rejected: Try again later", ctx->name, ctx->class);
}

static int defer_if_permit_entry(check_ctx *ctx, const char *unused)
{
    smtpd_check_defer_if_permit(var_defer_code, "4.7.1", ctx->name, ctx->class,
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

static const smtpd_rule rules[] = {
    {"permit", 0, simple_permit},
    {"reject", 0, simple_reject},
    {"defer", 0, simple_defer},
    {"defer_if_permit", 0, defer_if_permit_entry},
    {"defer_if_reject", 0, defer_if_reject_entry},
    {"permit_mynetworks", 0, permit_mynetworks},
    {"permit_inet_interfaces", 0, permit_inet_interfaces},
    {"permit_sasl_authenticated", 0, permit_sasl_authenticated},
    {"reject_sender_login_mismatch", 0, reject_sender_login_mismatch},
    {"reject_authenticated_sender_login_mismatch", 0,
     reject_authenticated_sender_login_mismatch},
    {"reject_unauthenticated_sender_login_mismatch", 0,
     reject_unauthenticated_sender_login_mismatch},
    {"reject_known_sender_login_mismatch", 0, reject_known_sender_login_mismatch},
    {"permit_tls_clientcerts", 0, permit_tls_clientcerts},
    {"permit_tls_all_clientcerts", 0, permit_tls_all_clientcerts},
    {"permit_auth_destination", 0, permit_auth_destination},
    {"reject_unauth_destination", 0, reject_unauth_destination},
    {"defer_unauth_destination", 0, defer_unauth_destination},
    {"reject_unlisted_recipient", 0, smtpd_check_unlisted_recipient},
    {"reject_unlisted_sender", 0, smtpd_check_unlisted_sender},
    {"check_client_access", 1, smtpd_check_client_access},
    {"check_helo_access", 1, smtpd_check_helo_access},
    {"check_sender_access", 1, smtpd_check_sender_access},
    {"check_recipient_access", 1, smtpd_check_recipient_access},
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
    {"check_policy_service", 1, smtpd_check_policy_service},
};

const smtpd_rule *smtpd_check_rule(const char *name)
{
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (strcasecmp(rules[i].name, name) == 0)
            return rules + i;
    return NULL;
}

