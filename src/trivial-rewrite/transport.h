/*
 * transport - transport_maps: per-address or per-domain delivery routes,
 * in transport(5)'s search order and result syntax.
 *
 * transport_table_open(list, delimiters) opens the tables of a
 * transport_maps value (maps_open, keys folded in fixed-string tables);
 * `delimiters` are the recipient_delimiter characters.
 *
 * transport_table_find(table, recipient, transport, nexthop) looks the
 * recipient (internal form, user+ext@domain) up with these keys, the first
 * found wins:
 *
 *   user+ext@domain     every table
 *   user@domain         fixed-string tables (when there is an extension)
 *   domain, then its parents: .parent.domain ... .tld, or parent.domain
 *                       ... tld when transport_maps is listed in
 *                       parent_domain_matches_subdomains (fixed-string tables)
 *   *                   every table
 *
 * and applies the result "transport:nexthop" (split at the first ':') to
 * the transport and nexthop the recipient's address class gave:
 *
 *   ":" or ""           no change
 *   ":nexthop"          the nexthop only
 *   "transport:nexthop" both
 *   "transport:" or "transport"   the transport; the nexthop becomes the
 *                       recipient domain ("Address is undeliverable" for
 *                       the error and retry transports)
 *
 * Result: 1 found (transport and nexthop updated), 0 not found (unchanged),
 * -1 a table failed: the answer is unknown, nothing was changed, and
 * transport_table_error() says why (the failure is also logged by maps).
 *
 * Memory: the caller frees the table with transport_table_free(); strings
 * are copied into the caller's strbufs.
 */
#ifndef POSTERN_TRANSPORT_H
#define POSTERN_TRANSPORT_H

#include "strbuf.h"

typedef struct transport_table transport_table;

transport_table *transport_table_open(const char *list, const char *delimiters);
int     transport_table_find(transport_table *table, const char *recipient,
                             strbuf *transport, strbuf *nexthop);
const char *transport_table_error(const transport_table *table);
void    transport_table_free(transport_table *table);

#endif
