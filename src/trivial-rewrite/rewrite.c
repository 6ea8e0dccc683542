/*
 * rewrite - canonical form of an address. See rewrite.h.
 */
#include <string.h>

#include "rewrite.h"
#include "rewrite_clnt.h"

int     rewrite_rule_parse(const char *name, enum rewrite_rule *rule)
{
    if (strcmp(name, REWRITE_LOCAL) == 0)
        *rule = REWRITE_RULE_LOCAL;
    else if (strcmp(name, REWRITE_REMOTE) == 0)
        *rule = REWRITE_RULE_REMOTE;
    else
        return -1;
    return 0;
}

/* Length of a source route "@a,@b:" at the start of text, 0 when none. */
static size_t route_length(const char *text, size_t len)
{
    size_t  pos = 0;

    for (;;) {
        size_t  start;

        if (pos >= len || text[pos] != '@')
            return 0;
        start = ++pos;
        while (pos < len && text[pos] != ',' && text[pos] != ':' && text[pos] != '@')
            pos++;
        if (pos == start || pos >= len)
            return 0;
        if (text[pos] == ':')
            return pos + 1;
        if (text[pos] != ',')
            return 0;
        pos++;
    }
}

int     rewrite_strip_route(strbuf *address)
{
    size_t  skip = route_length(address->data, address->len);

    if (skip == 0 || skip >= address->len)
        return 0;
    memmove(address->data, address->data + skip, address->len - skip);
    strbuf_truncate(address, address->len - skip);
    return 1;
}

/* host!rest becomes rest@host (the first '!'); 1 when done. */
static int swap_bangpath(strbuf *address)
{
    char   *bang = memchr(address->data, '!', address->len);
    strbuf *swapped;
    size_t  host_len;

    if (bang == NULL)
        return 0;
    host_len = (size_t) (bang - address->data);
    swapped = strbuf_new(address->len + 1);
    strbuf_append(swapped, bang + 1, address->len - host_len - 1);
    strbuf_append_char(swapped, '@');
    strbuf_append(swapped, address->data, host_len);
    strbuf_set_mem(address, swapped->data, swapped->len);
    strbuf_free(swapped);
    return 1;
}

/* user%host becomes user@host (the last '%'); 1 when done. */
static int percent_hack(strbuf *address)
{
    char   *percent = memrchr(address->data, '%', address->len);

    if (percent == NULL)
        return 0;
    *percent = '@';
    return 1;
}

static void append_domain_part(strbuf *address, int separator, const char *domain)
{
    if (domain == NULL || *domain == 0)
        return;
    strbuf_append_char(address, separator);
    strbuf_append_str(address, domain);
}

/* user@host becomes user@host.DOMAIN when host has no dot and is no literal. */
static void append_dot_domain(strbuf *address, const char *domain)
{
    char   *at = memrchr(address->data, '@', address->len);
    const char *host;

    if (at == NULL)
        return;
    host = at + 1;
    if (*host == 0 || *host == '[' || strchr(host, '.') != NULL)
        return;
    append_domain_part(address, '.', domain);
}

/* Drops one trailing dot of the domain, but not from ".." or "@.". */
static void strip_trailing_dot(strbuf *address)
{
    if (address->len < 2 || address->data[address->len - 1] != '.'
        || memchr(address->data, '@', address->len) == NULL)
        return;
    if (address->data[address->len - 2] == '.' || address->data[address->len - 2] == '@')
        return;
    strbuf_truncate(address, address->len - 1);
}

/* An address without '@': bang path, percent hack, or @origin. */
static void complete_local_part(const rewrite_settings *settings, strbuf *address,
                                const char *origin)
{
    if (settings->swap_bangpath && swap_bangpath(address))
        return;
    if (settings->allow_percent_hack && percent_hack(address))
        return;
    if (settings->append_at_myorigin)
        append_domain_part(address, '@', origin);
}

void    rewrite_address(const rewrite_settings *settings, enum rewrite_rule rule,
                        const char *address, strbuf *out)
{
    const char *origin = rule == REWRITE_RULE_LOCAL ?
        settings->myorigin : settings->remote_header_rewrite_domain;
    const char *domain = rule == REWRITE_RULE_LOCAL ?
        settings->mydomain : settings->remote_header_rewrite_domain;

    strbuf_set(out, address);
    if (out->len == 0)
        return;
    if (strcmp(out->data, "@") == 0) {
        strbuf_reset(out);
        return;
    }
    (void) rewrite_strip_route(out);
    if (memchr(out->data, '@', out->len) == NULL)
        complete_local_part(settings, out, origin);
    if (settings->append_dot_mydomain)
        append_dot_domain(out, domain);
    strip_trailing_dot(out);
}
