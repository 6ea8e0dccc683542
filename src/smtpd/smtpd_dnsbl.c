/*
 * smtpd_dnsbl - DNS blocklist queries and domain existence, for
 * reject_rbl_client, reject_rhsbl_*, reject_unknown_*_domain.
 *
 * smtpd_rbl_query(name, address, domain_spec, listed_reason) builds the
 * query: for an address (reject_rbl_client) its octets (IPv4) or nibbles
 * (IPv6) reversed, for a name (reject_rhsbl_*) the name itself, followed
 * by the list's domain; `domain_spec` is "domain" or "domain=filter" where
 * filter restricts which answers count: an IPv4 address whose octets may
 * be "[a..b]" ranges or "[a;b;c]" lists (127.0.0.[2..11]). Returns 1 when
 * listed (the list's TXT record, when it has one, in listed_reason), 0 when
 * not. A DNS failure counts as not listed, as in Postfix: a broken list
 * must not stop mail.
 *
 * smtpd_rbl_reply() builds the reply from rbl_reply_maps (keyed by the
 * list's domain) or default_rbl_reply, expanding $rbl_code, $rbl_class,
 * $rbl_what, $rbl_domain, $rbl_reason (and $rbl_txt), $client_address,
 * $client_name, $helo_name, $sender, $recipient; values from the network
 * are inserted as data, never expanded again.
 *
 * Answers are remembered for the rest of the session (a client sending a
 * thousand recipients costs one query per list, as in Postfix);
 * smtpd_dnsbl_forget() empties that memory when the session ends.
 *
 * smtpd_domain_status(domain) is DNS_OK when the domain has an MX, A or
 * AAAA record, DNS_NOTFOUND when it has none, DNS_RETRY when DNS could not
 * say, DNS_FAIL when the name cannot be asked (a UTF-8 domain: Postern has
 * no IDNA conversion, so such domains are not checked).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_lookup.h"
#include "expand.h"
#include "htable.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_check.h"

/* The reversed form of an address: 2.0.0.127, or the 32 nibbles of IPv6. */
static int reverse_address(const char *address, strbuf *out)
{
    unsigned char bytes[16];

    if (inet_pton(AF_INET, address, bytes) == 1) {
        strbuf_printf(out, "%u.%u.%u.%u", bytes[3], bytes[2], bytes[1], bytes[0]);
        return 0;
    }
    if (inet_pton(AF_INET6, address, bytes) == 1) {
        strbuf_reset(out);
        for (int i = 15; i >= 0; i--)
            strbuf_append_printf(out, "%x.%x%s", bytes[i] & 0xF, bytes[i] >> 4,
                                 i ? "." : "");
        return 0;
    }
    return -1;
}

/* Does one octet match a filter element: "7", "[2..11]" or "[2;4;8]"? */
static int octet_matches(const char *pattern, size_t len, unsigned value)
{
    char   *text = xstrndup(pattern, len);
    char   *end;
    int     match = 0;

    if (text[0] != '[') {
        match = strtoul(text, &end, 10) == value && *end == 0 && end != text;
    } else if (len > 2 && text[len - 1] == ']') {
        char   *range = strstr(text, "..");

        text[len - 1] = 0;
        if (range) {
            unsigned long low = strtoul(text + 1, NULL, 10);
            unsigned long high = strtoul(range + 2, NULL, 10);

            match = value >= low && value <= high;
        } else {
            for (char *item = strtok(text + 1, ";"); item && !match; item = strtok(NULL, ";"))
                match = strtoul(item, NULL, 10) == value;
        }
    }
    free(text);
    return match;
}

/* Does an answer address match the filter (four octet patterns)? */
static int answer_matches(const char *filter, const char *answer)
{
    unsigned char bytes[4];
    const char *cp = filter;

    if (inet_pton(AF_INET, answer, bytes) != 1)
        return 0;
    for (int i = 0; i < 4; i++) {
        size_t  len = strcspn(cp, ".");

        if (len == 0 || !octet_matches(cp, len, bytes[i]))
            return 0;
        cp += len;
        if (i < 3 && *cp++ != '.')
            return 0;
    }
    return *cp == 0;
}

static htable *session_cache;

/* A remembered answer ("L" listed + reason, "N" not listed, or a status digit). */
static const char *cached(const char *key)
{
    return session_cache ? htable_get(session_cache, key) : NULL;
}

static void remember(const char *key, const char *answer)
{
    if (session_cache == NULL)
        session_cache = htable_new(16);
    htable_put(session_cache, key, xstrdup(answer), free);
}

void smtpd_dnsbl_forget(void)
{
    if (session_cache) {
        htable_free(session_cache, free);
        session_cache = NULL;
    }
}

static int rbl_lookup_uncached(const char *name, int is_address, const char *domain_spec,
                               strbuf *listed_reason)
{
    const char *eq = strchr(domain_spec, '=');
    char   *domain = eq ? xstrndup(domain_spec, (size_t) (eq - domain_spec))
        : xstrdup(domain_spec);
    strbuf *query = strbuf_new(128);
    strbuf *why = strbuf_new(64);
    argv_t *answers = argv_new(4);
    int     listed = 0;

    if (is_address ? reverse_address(name, query) == 0 : (strbuf_set(query, name), 1)) {
        strbuf_append_printf(query, ".%s", domain);
        if (dns_lookup(query->data, DNS_TYPE_A, answers, why) == DNS_OK)
            for (size_t i = 0; i < answers->count && !listed; i++)
                listed = eq == NULL || answer_matches(eq + 1, answers->items[i]);
    }
    strbuf_reset(listed_reason);
    if (listed) {
        argv_truncate(answers, 0);
        if (dns_lookup(query->data, DNS_TYPE_TXT, answers, why) == DNS_OK)
            strbuf_set(listed_reason, answers->items[0]);
    }
    argv_free(answers);
    strbuf_free(why);
    strbuf_free(query);
    free(domain);
    return listed;
}

int smtpd_rbl_query(const char *name, int is_address, const char *domain_spec,
                    strbuf *listed_reason)
{
    strbuf *key = strbuf_new(128);
    const char *answer;
    int     listed;

    strbuf_printf(key, "rbl:%s:%s", domain_spec, name);
    if ((answer = cached(key->data)) != NULL) {
        strbuf_set(listed_reason, answer + 1);
        listed = answer[0] == 'L';
    } else {
        strbuf *value = strbuf_new(64);

        listed = rbl_lookup_uncached(name, is_address, domain_spec, listed_reason);
        strbuf_printf(value, "%c%s", listed ? 'L' : 'N', listed_reason->data);
        remember(key->data, value->data);
        strbuf_free(value);
    }
    strbuf_free(key);
    return listed;
}

typedef struct rbl_vars {
    smtpd_state *state;
    const char *code;
    const char *class;
    const char *what;
    const char *domain;
    const char *reason;
    const char *recipient;
} rbl_vars;

static const char *rbl_lookup(const char *name, void *context)
{
    const rbl_vars *v = context;
    const smtpd_state *state = v->state;

    if (strcmp(name, "rbl_code") == 0)
        return v->code;
    if (strcmp(name, "rbl_class") == 0)
        return v->class;
    if (strcmp(name, "rbl_what") == 0)
        return v->what;
    if (strcmp(name, "rbl_domain") == 0)
        return v->domain;
    if (strcmp(name, "rbl_reason") == 0 || strcmp(name, "rbl_txt") == 0)
        return *v->reason ? v->reason : NULL;
    if (strcmp(name, "client_address") == 0)
        return state->addr->data;
    if (strcmp(name, "client_name") == 0)
        return state->name->data;
    if (strcmp(name, "helo_name") == 0)
        return state->helo_name;
    if (strcmp(name, "sender") == 0)
        return state->sender;
    if (strcmp(name, "recipient") == 0)
        return v->recipient;
    return NULL;
}

void smtpd_rbl_reply(smtpd_state *state, const char *domain_spec, const char *class,
                     const char *what, const char *reason, const char *recipient,
                     strbuf *reply)
{
    char   *domain = xstrndup(domain_spec, strcspn(domain_spec, "="));
    char    code[8];
    rbl_vars vars = {state, code, class, what, domain, reason, recipient};
    expand_ctx ctx = {.lookup = rbl_lookup,.context = &vars };
    const char *template = var_default_rbl_reply;
    strbuf *why = strbuf_new(32);

    snprintf(code, sizeof(code), "%d", var_maps_rbl_reject_code);
    if (smtpd_tables_in_use.rbl_reply_maps
        && maps_find(smtpd_tables_in_use.rbl_reply_maps, domain, 0, &template) != MAP_OK)
        template = var_default_rbl_reply;
    strbuf_reset(reply);
    if (expand_text(reply, template, &ctx, why) < 0) {
        msg_warn("rbl_reply_maps or default_rbl_reply: %s", why->data);
        strbuf_printf(reply, "%s Service unavailable; %s [%s] blocked using %s", code, class,
                      what, domain);
    }
    strbuf_free(why);
    free(domain);
}

static int domain_status_uncached(const char *domain)
{
    static const int types[] = {DNS_TYPE_MX, DNS_TYPE_A, DNS_TYPE_AAAA};
    argv_t *answers = argv_new(4);
    strbuf *why = strbuf_new(64);
    int     result = DNS_NOTFOUND;

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]) && result != DNS_OK
         && result != DNS_FAIL; i++) {
        int     status = dns_lookup(domain, types[i], answers, why);

        if (status == DNS_OK || status == DNS_FAIL)
            result = status;
        else if (status == DNS_RETRY)
            result = DNS_RETRY;
    }
    argv_free(answers);
    strbuf_free(why);
    return result;
}

int smtpd_domain_status(const char *domain)
{
    strbuf *key = strbuf_new(64);
    const char *answer;
    int     status;

    strbuf_printf(key, "domain:%s", domain);
    if ((answer = cached(key->data)) != NULL) {
        status = answer[0] - '0';
    } else {
        char    value[2];

        status = domain_status_uncached(domain);
        value[0] = (char) ('0' + status);
        value[1] = 0;
        remember(key->data, value);
    }
    strbuf_free(key);
    return status;
}

