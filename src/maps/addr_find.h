/*
 * addr_find - look an email address up in a table list in Postfix's order.
 *
 * addr_find(maps, address, opts, &value, extension) tries these keys in
 * this order, each only when opts->strategy asks for it, and returns the
 * first value found:
 *
 *   ADDR_FIND_FULL       user+ext@domain (the address as given; every table)
 *   ADDR_FIND_NOEXT      user@domain     (when there is an extension)
 *   ADDR_FIND_LOCALPART  user+ext, user  (only when opts->domain_is_local:
 *                                         the domain is one of ours)
 *   ADDR_FIND_AT_DOMAIN  @domain
 *   ADDR_FIND_DOMAIN     domain, then its parents: "sub.example.com",
 *                        "example.com" and "com" when
 *                        opts->parent_style_param is listed in
 *                        parent_domain_matches_subdomains, else
 *                        "sub.example.com", ".example.com", ".com"
 *   ADDR_FIND_USER_AT    user+ext@, user@
 *
 * ADDR_FIND_VIRTUAL is the order of virtual(5) and canonical(5)
 * (user+ext@domain, user@domain, user+ext, user, @domain), and
 * ADDR_FIND_ACCESS the order of access(5) (user+ext@domain, user@domain,
 * domain and parents, user+ext@, user@). Only the full address goes to
 * pattern tables (regexp:, pcre:): partial keys go to fixed-string tables
 * only, as Postfix does.
 *
 * The extension is split at the first of the recipient_delimiter
 * characters (opts->delimiters, or var_recipient_delimiter when NULL), but
 * not for postmaster, MAILER-DAEMON and double-bounce, not for owner-*
 * and *-request when '-' is a delimiter, and not when it would leave the
 * user part empty. An address without '@' is all local part: only the
 * FULL and NOEXT keys apply. The address is used as given (quote the
 * local part as the tables expect); fixed tables fold case (MAP_FLAG_FOLD).
 *
 * Returns MAP_OK with *value (valid until the next search of `maps`),
 * MAP_NOTFOUND, or MAP_ERROR when a table failed before a key was found
 * (maps_error() says which). When the match was on a key without the
 * extension and `extension` is not NULL, it receives the extension with
 * its delimiter ("+ext"), so the caller can propagate it; otherwise it is
 * emptied.
 */
#ifndef POSTERN_ADDR_FIND_H
#define POSTERN_ADDR_FIND_H

#include "maps.h"
#include "strbuf.h"

#define ADDR_FIND_FULL          (1 << 0)
#define ADDR_FIND_NOEXT         (1 << 1)
#define ADDR_FIND_LOCALPART     (1 << 2)
#define ADDR_FIND_AT_DOMAIN     (1 << 3)
#define ADDR_FIND_DOMAIN        (1 << 4)
#define ADDR_FIND_USER_AT       (1 << 5)

#define ADDR_FIND_VIRTUAL \
    (ADDR_FIND_FULL | ADDR_FIND_NOEXT | ADDR_FIND_LOCALPART | ADDR_FIND_AT_DOMAIN)
#define ADDR_FIND_ACCESS \
    (ADDR_FIND_FULL | ADDR_FIND_NOEXT | ADDR_FIND_DOMAIN | ADDR_FIND_USER_AT)

typedef struct addr_find_opts {
    int     strategy;                   /* ADDR_FIND_* */
    int     domain_is_local;            /* may bare local parts be tried? */
    const char *parent_style_param;     /* e.g. "smtpd_access_maps", or NULL */
    const char *delimiters;             /* NULL: var_recipient_delimiter */
} addr_find_opts;

int     addr_find(maps_t *maps, const char *address, const addr_find_opts *opts,
                  const char **value, strbuf *extension);
int     addr_split_extension(const char *localpart, const char *delimiters, size_t *base_len);

#endif
