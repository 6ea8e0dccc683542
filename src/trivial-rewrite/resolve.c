/*
 * resolve - transport, next hop, recipient and class of an address.
 * See resolve.h.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mail_utf8.h"
#include "match_list.h"
#include "mem.h"
#include "msg.h"
#include "own_addr.h"
#include "resolve.h"
#include "transport.h"
#include "valid_hostname.h"

#define ERROR_TRANSPORT     "error"

struct resolver {
    resolve_settings settings;
    match_list *mydestination;
    match_list *virtual_alias_domains;
    match_list *virtual_mailbox_domains;
    match_list *relay_domains;
    own_addr *own;
    transport_table *transports;        /* NULL without transport_maps */
    strbuf *work;                       /* the address being routed */
    strbuf *saved_domain;               /* the last domain of ours stripped */
    strbuf *scratch;
};

/* How routing ended. */
enum route_outcome {
    ROUTE_OURS,                         /* delivered here */
    ROUTE_ELSEWHERE,                    /* a domain that is not ours */
    ROUTE_UNKNOWN,                      /* a table failed */
    ROUTE_ABUSE,                        /* too many routing steps */
};

/* Life cycle ------------------------------------------------------------ */

static int list_is_empty(const char *list)
{
    return list == NULL || list[strspn(list, ARGV_LIST_DELIMITERS)] == 0;
}

resolver *resolver_new(const resolve_settings *settings, strbuf *why)
{
    own_addr *own = own_addr_new(settings->inet_interfaces, settings->proxy_interfaces,
                                 settings->inet_protocols, why);
    resolver *r;

    if (own == NULL)
        return NULL;
    r = xcalloc(1, sizeof(*r));
    r->settings = *settings;
    r->own = own;
    r->mydestination = domain_list_new("mydestination", settings->mydestination);
    r->virtual_alias_domains = domain_list_new("virtual_alias_domains",
                                               settings->virtual_alias_domains);
    r->virtual_mailbox_domains = domain_list_new("virtual_mailbox_domains",
                                                 settings->virtual_mailbox_domains);
    r->relay_domains = domain_list_new("relay_domains", settings->relay_domains);
    if (!list_is_empty(settings->transport_maps))
        r->transports = transport_table_open(settings->transport_maps,
                                             settings->recipient_delimiter);
    r->work = strbuf_new(256);
    r->saved_domain = strbuf_new(64);
    r->scratch = strbuf_new(256);
    return r;
}

void    resolver_free(resolver *r)
{
    if (r == NULL)
        return;
    match_list_free(r->mydestination);
    match_list_free(r->virtual_alias_domains);
    match_list_free(r->virtual_mailbox_domains);
    match_list_free(r->relay_domains);
    own_addr_free(r->own);
    transport_table_free(r->transports);
    strbuf_free(r->work);
    strbuf_free(r->saved_domain);
    strbuf_free(r->scratch);
    free(r);
}

resolve_result *resolve_result_new(void)
{
    resolve_result *result = xcalloc(1, sizeof(*result));

    result->transport = strbuf_new(32);
    result->nexthop = strbuf_new(64);
    result->recipient = strbuf_new(128);
    return result;
}

void    resolve_result_free(resolve_result *result)
{
    if (result == NULL)
        return;
    strbuf_free(result->transport);
    strbuf_free(result->nexthop);
    strbuf_free(result->recipient);
    free(result);
}

/* Domains --------------------------------------------------------------- */

/* Matches one of the domain lists: 1, 0, or -1 (logged) when it failed. */
static int domain_in(match_list *list, const char *param, const char *domain)
{
    int     found = domain_list_match(list, domain);

    if (found == MATCH_LIST_ERROR) {
        msg_warn("%s lookup failure", param);
        return -1;
    }
    return found;
}

/* Is the domain ours? 1, 0, or -1 when a table failed. */
static int domain_is_local(resolver *r, const char *domain)
{
    size_t  len = strlen(domain);
    int     found;

    strbuf_set(r->scratch, domain);
    if (len > 0 && domain[len - 1] == '.')
        strbuf_truncate(r->scratch, --len);
    if (len == 0 || r->scratch->data[len - 1] == '.')
        return 0;
    if ((found = domain_in(r->mydestination, "mydestination", r->scratch->data)) != 0)
        return found;
    return r->scratch->data[0] == '[' && own_addr_match(r->own, r->scratch->data);
}

/* Offset of the last '@' in work, or -1. */
static long last_at(const strbuf *work)
{
    const char *at = memrchr(work->data, '@', work->len);

    return at ? at - work->data : -1;
}

/* user@ -> user (resolve_null_domain); host. -> host; user@IP -> user@[IP]. */
static void normalize_domain(resolver *r, strbuf *work)
{
    long    at = last_at(work);
    const char *domain;
    size_t  len;

    if (at < 0)
        return;
    if (r->settings.resolve_null_domain && (size_t) at + 1 == work->len) {
        strbuf_truncate(work, (size_t) at);
        if ((at = last_at(work)) < 0)
            return;
    }
    domain = work->data + at + 1;
    len = work->len - (size_t) at - 1;
    if (len >= 2 && domain[len - 1] == '.' && domain[len - 2] != '.') {
        strbuf_truncate(work, work->len - 1);
        len--;
    }
    if (r->settings.resolve_numeric_domain
        && (valid_ipv4(domain, len) || valid_ipv6(domain, len))) {
        strbuf_set(r->scratch, valid_ipv4(domain, len) ? "[" : "[IPv6:");
        strbuf_append(r->scratch, domain, len);
        strbuf_append_char(r->scratch, ']');
        strbuf_truncate(work, (size_t) at + 1);
        strbuf_append(work, r->scratch->data, r->scratch->len);
    }
}

/*
 * Strips a domain of ours (or an empty one), saving it: 1, and work holds a
 * local part. A domain elsewhere: 0. A failed table: -1.
 */
static int strip_our_domain(resolver *r, strbuf *work, int *saved)
{
    long    at;
    int     local;

    normalize_domain(r, work);
    if ((at = last_at(work)) < 0)
        return 1;
    if (work->data[at + 1] != 0 && (local = domain_is_local(r, work->data + at + 1)) <= 0)
        return local;
    strbuf_set(r->saved_domain, work->data + at + 1);
    *saved = 1;
    strbuf_truncate(work, (size_t) at);
    return 1;
}

/* Routing --------------------------------------------------------------- */

/*
 * A local part with routing in it ("user@remote" from a quoted local part,
 * host!user, user%host) is rewritten into user@host; 1 when it was.
 */
static int reroute_local_part(resolver *r, strbuf *work)
{
    const resolve_settings *s = &r->settings;

    if (memchr(work->data, '@', work->len)) {
        if (!s->resolve_dequoted_address)
            return 0;
    } else if (!(s->rewrite.swap_bangpath && memchr(work->data, '!', work->len))
               && !(s->rewrite.allow_percent_hack && memchr(work->data, '%', work->len))) {
        return 0;
    }
    rewrite_address(&s->rewrite, REWRITE_RULE_LOCAL, work->data, r->scratch);
    strbuf_set_mem(work, r->scratch->data, r->scratch->len);
    return 1;
}

/* A local part delivered here: fill in an empty one, add the domain. */
static void finish_local_address(resolver *r, strbuf *work, int saved)
{
    if (work->len == 0)
        strbuf_set(work, r->settings.empty_address_recipient);
    strbuf_append_char(work, '@');
    strbuf_append_str(work, saved ? r->saved_domain->data : r->settings.myhostname);
}

static enum route_outcome route_address(resolver *r, const char *address, int *flags)
{
    strbuf *work = r->work;
    int     saved = 0;

    strbuf_set(work, address);
    for (int step = 0; step <= RESOLVE_ROUTING_MAX; step++) {
        if (rewrite_strip_route(work))
            *flags |= RESOLVE_FLAG_ROUTED;
        switch (strip_our_domain(r, work, &saved)) {
        case -1:
            return ROUTE_UNKNOWN;
        case 0:
            return ROUTE_ELSEWHERE;
        }
        if (!reroute_local_part(r, work)) {
            finish_local_address(r, work, saved);
            return ROUTE_OURS;
        }
        *flags |= RESOLVE_FLAG_ROUTED;
    }
    return ROUTE_ABUSE;
}

/* Syntax, class, transport ------------------------------------------------ */

static int domain_syntax_ok(const resolver *r, const strbuf *recipient, const char *domain)
{
    int     flags = HOSTNAME_ALLOW_UNDERSCORE;

    if (r->settings.smtputf8_enable) {
        if (!utf8_valid(recipient->data, recipient->len))
            return 0;
        flags |= HOSTNAME_ALLOW_UTF8;
    }
    if (*domain == '[')
        return valid_address_literal(domain, strlen(domain));
    return valid_hostname(domain, strlen(domain), flags);
}

/* Applies a transport parameter "transport[:nexthop]"; -1 when it is null. */
static int use_transport(resolve_result *result, const char *param, const char *value)
{
    const char *colon = strchr(value, ':');

    if (colon == NULL)
        strbuf_set(result->transport, value);
    else {
        strbuf_set_mem(result->transport, value, (size_t) (colon - value));
        if (colon[1])
            strbuf_set(result->nexthop, colon + 1);
    }
    if (result->transport->len == 0) {
        msg_warn("file %s: parameter %s: null transport is not allowed",
                 config_main_cf_path(), param);
        return -1;
    }
    return 0;
}

static void set_user_unknown(const resolver *r, resolve_result *result)
{
    strbuf_set(result->transport, ERROR_TRANSPORT);
    strbuf_set(result->nexthop, r->settings.show_user_unknown_table_name ?
               "5.1.1 User unknown in virtual alias table" : "5.1.1 User unknown");
    result->flags |= RESOLVE_CLASS_ALIAS | RESOLVE_FLAG_FINAL;
}

/* Remote delivery: relay_domains or anything else. */
static int classify_remote(resolver *r, resolve_result *result, const char *domain)
{
    const resolve_settings *s = &r->settings;
    int     relay = domain_in(r->relay_domains, "relay_domains", domain);

    if (relay < 0)
        return -1;
    strbuf_set(result->nexthop, *s->relayhost ? s->relayhost : domain);
    result->flags |= relay ? RESOLVE_CLASS_RELAY : RESOLVE_CLASS_DEFAULT;
    return relay ? use_transport(result, "relay_transport", s->relay_transport)
        : use_transport(result, "default_transport", s->default_transport);
}

/* The address class and its transport; -1 when a list failed. */
static int classify(resolver *r, resolve_result *result, const char *domain, int ours)
{
    const resolve_settings *s = &r->settings;
    int     found;

    strbuf_set(result->nexthop, domain);
    if (ours) {
        result->flags |= RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL;
        return use_transport(result, "local_transport", s->local_transport);
    }
    if ((found = domain_in(r->virtual_alias_domains, "virtual_alias_domains", domain)) != 0) {
        if (found > 0)
            set_user_unknown(r, result);
        return found > 0 ? 0 : -1;
    }
    if ((found = domain_in(r->virtual_mailbox_domains, "virtual_mailbox_domains", domain)) != 0) {
        if (found > 0)
            result->flags |= RESOLVE_CLASS_VIRTUAL | RESOLVE_FLAG_FINAL;
        return found > 0 ? use_transport(result, "virtual_transport", s->virtual_transport) : -1;
    }
    return classify_remote(r, result, domain);
}

static int apply_transport_maps(resolver *r, resolve_result *result)
{
    if (r->transports == NULL || (result->flags & RESOLVE_CLASS_ALIAS))
        return 0;
    if (transport_table_find(r->transports, result->recipient->data, result->transport,
                             result->nexthop) < 0) {
        msg_warn("transport_maps lookup failure");
        return -1;
    }
    return 0;
}

/* No answer: the flag alone, the address as given. */
static void give_up(resolve_result *result, const char *address, int flag)
{
    result->flags = flag;
    strbuf_reset(result->transport);
    strbuf_reset(result->nexthop);
    strbuf_set(result->recipient, address);
}

void    resolver_resolve(resolver *r, const char *address, resolve_result *result)
{
    enum route_outcome outcome;
    const char *domain;

    result->flags = 0;
    strbuf_reset(result->transport);
    strbuf_reset(result->nexthop);
    if (strlen(address) > RESOLVE_ADDRESS_MAX) {
        give_up(result, address, RESOLVE_FLAG_ERROR);
        return;
    }
    outcome = route_address(r, address, &result->flags);
    if (outcome == ROUTE_UNKNOWN || outcome == ROUTE_ABUSE) {
        give_up(result, address,
                outcome == ROUTE_UNKNOWN ? RESOLVE_FLAG_FAIL : RESOLVE_FLAG_ERROR);
        return;
    }
    strbuf_set_mem(result->recipient, r->work->data, r->work->len);
    domain = strrchr(result->recipient->data, '@') + 1;
    if (!domain_syntax_ok(r, result->recipient, domain))
        result->flags |= RESOLVE_FLAG_ERROR;
    if (classify(r, result, domain, outcome == ROUTE_OURS) < 0
        || apply_transport_maps(r, result) < 0)
        give_up(result, address, RESOLVE_FLAG_FAIL);
}
