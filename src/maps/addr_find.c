/*
 * addr_find - look an email address up in Postfix's search order.
 * See addr_find.h.
 */
#include <string.h>
#include <strings.h>

#include "addr_find.h"
#include "config.h"
#include "mail_params.h"
#include "match_list.h"

/* The local parts never split at a delimiter. */
static int never_split(const char *localpart, const char *delimiters)
{
    const char *double_bounce = config_lookup_raw_or_default("double_bounce_sender");
    size_t  len = strlen(localpart);

    if (strcasecmp(localpart, "postmaster") == 0 || strcasecmp(localpart, "MAILER-DAEMON") == 0
        || strcasecmp(localpart, double_bounce ? double_bounce : "double-bounce") == 0)
        return 1;
    return strchr(delimiters, '-') != NULL
        && (strncasecmp(localpart, "owner-", 6) == 0
            || (len > 8 && strcasecmp(localpart + len - 8, "-request") == 0));
}

/*
 * Where the extension of localpart starts: 1 with *base_len set, or 0 when
 * the local part has no extension to split off.
 */
int     addr_split_extension(const char *localpart, const char *delimiters, size_t *base_len)
{
    size_t  len;

    if (delimiters == NULL || *delimiters == 0 || never_split(localpart, delimiters))
        return 0;
    len = strcspn(localpart, delimiters);
    if (len == 0 || localpart[len] == 0)
        return 0;
    *base_len = len;
    return 1;
}

typedef struct addr_search {
    maps_t *maps;
    strbuf *key;
    const char **value;
    int     status;                     /* MAP_NOTFOUND while searching */
    int     stripped;                   /* the match dropped the extension */
} addr_search;

/* Tries one key unless the search is over; 1 when the search is over. */
static int try_key(addr_search *search, int table_flags, int stripped)
{
    if (search->status == MAP_NOTFOUND) {
        search->status = maps_find(search->maps, search->key->data, table_flags,
                                   search->value);
        search->stripped = stripped;
    }
    return search->status != MAP_NOTFOUND;
}

/* Tries prefix + text[0..len) + suffix in the fixed-string tables. */
static int try_text(addr_search *search, const char *prefix, const char *text, size_t len,
                    const char *suffix, int stripped)
{
    strbuf_set(search->key, prefix);
    strbuf_append(search->key, text, len);
    strbuf_append_str(search->key, suffix);
    return try_key(search, MAP_FLAG_FIXED, stripped);
}

static int try_domain_and_parents(addr_search *search, const char *domain, int parent_style)
{
    const char *name = domain;

    for (;;) {
        if (try_text(search, "", name, strlen(name), "", 0))
            return 1;
        if ((name = strchr(name + 1, '.')) == NULL)
            return 0;
        if (parent_style)
            name++;
    }
}

static void search_local_and_domain(addr_search *search, const char *local, size_t local_len,
                                    size_t base_len, const char *domain,
                                    const addr_find_opts *opts)
{
    int     has_ext = base_len < local_len;
    int     parent_style = opts->parent_style_param
        && parent_matches_subdomains(opts->parent_style_param);

    if ((opts->strategy & ADDR_FIND_NOEXT) && has_ext
        && try_text(search, "", local, base_len, domain ? domain - 1 : "", 1))
        return;
    if (domain == NULL)
        return;
    if ((opts->strategy & ADDR_FIND_LOCALPART) && opts->domain_is_local
        && (try_text(search, "", local, local_len, "", 0)
            || (has_ext && try_text(search, "", local, base_len, "", 1))))
        return;
    if ((opts->strategy & ADDR_FIND_AT_DOMAIN) && try_text(search, "@", domain, strlen(domain),
                                                           "", 0))
        return;
    if ((opts->strategy & ADDR_FIND_DOMAIN) && *domain
        && try_domain_and_parents(search, domain, parent_style))
        return;
    if ((opts->strategy & ADDR_FIND_USER_AT)
        && (try_text(search, "", local, local_len, "@", 0)
            || (has_ext && try_text(search, "", local, base_len, "@", 1))))
        return;
}

int     addr_find(maps_t *maps, const char *address, const addr_find_opts *opts,
                  const char **value, strbuf *extension)
{
    addr_search search = {.maps = maps, .value = value, .status = MAP_NOTFOUND};
    const char *at = strrchr(address, '@');
    const char *domain = at ? at + 1 : NULL;
    size_t  local_len = at ? (size_t) (at - address) : strlen(address);
    strbuf *local = strbuf_new(64);
    size_t  base_len = local_len;

    *value = NULL;
    search.key = strbuf_new(128);
    strbuf_set_mem(local, address, local_len);
    (void) addr_split_extension(local->data,
                                opts->delimiters ? opts->delimiters : var_recipient_delimiter,
                                &base_len);
    if (opts->strategy & ADDR_FIND_FULL) {
        strbuf_set(search.key, address);
        (void) try_key(&search, 0, 0);
    }
    search_local_and_domain(&search, address, local_len, base_len, domain, opts);
    if (extension) {
        strbuf_reset(extension);
        if (search.status == MAP_OK && search.stripped)
            strbuf_set_mem(extension, address + base_len, local_len - base_len);
    }
    strbuf_free(search.key);
    strbuf_free(local);
    return search.status;
}
