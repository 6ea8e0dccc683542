/*
 * rewrite - an address in canonical form, as trivial-rewrite's "rewrite"
 * request gives it (docs/trivial-rewrite.md).
 *
 * Addresses are in internal form (docs/addresses.md): the local part
 * unquoted, split from the domain at the last '@'. rewrite_address()
 * applies, in this order:
 *
 *   ""                  stays empty; a lone "@" becomes empty
 *   @a,@b:user@c        the source route is dropped: user@c
 *   host!user           user@host            (swap_bangpath; no '@' only;
 *                                             split at the first '!')
 *   user%host           user@host            (allow_percent_hack; no '@'
 *                                             and no '!'; the last '%')
 *   user                user@ORIGIN          (append_at_myorigin; neither
 *                                             '!' nor '%')
 *   user@host           user@host.DOMAIN     (append_dot_mydomain; a domain
 *                                             without '.', not a [literal])
 *   user@host.          user@host            (one trailing dot, not ".." or "@.")
 *
 * ORIGIN and DOMAIN are $myorigin and $mydomain for REWRITE_RULE_LOCAL, and
 * both $remote_header_rewrite_domain for REWRITE_RULE_REMOTE; an empty one
 * appends nothing. The domain keeps its case.
 *
 * Internal form cannot tell "a!b" from a!b, so a quoted local part holding
 * '!' or '%' is rewritten like an unquoted one (docs/compatibility.md).
 *
 * rewrite_strip_route() drops a leading source route ("@a,@b:") when one is
 * followed by more text; 1 when it did.
 *
 * Memory: the caller owns `settings` (its strings must outlive the calls)
 * and `out`, which receives the result (replacing its content). Time and
 * memory are linear in the address length. Nothing logs or fails.
 */
#ifndef POSTERN_REWRITE_H
#define POSTERN_REWRITE_H

#include <stddef.h>

#include "strbuf.h"

enum rewrite_rule { REWRITE_RULE_LOCAL, REWRITE_RULE_REMOTE };

typedef struct rewrite_settings {
    int     swap_bangpath;
    int     allow_percent_hack;
    int     append_at_myorigin;
    int     append_dot_mydomain;
    const char *myorigin;
    const char *mydomain;
    const char *remote_header_rewrite_domain;
} rewrite_settings;

int     rewrite_rule_parse(const char *name, enum rewrite_rule *rule);
void    rewrite_address(const rewrite_settings *settings, enum rewrite_rule rule,
                        const char *address, strbuf *out);
int     rewrite_strip_route(strbuf *address);

#endif
