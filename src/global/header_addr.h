/*
 * header_addr - the addresses in an RFC 5322 header value (From, Sender,
 * Reply-To, To, Cc, Bcc, Resent-*, ...): find them, rewrite them, write the
 * value back with everything else left as it was.
 *
 * header_addr_parse(value, len, token_limit) reads an address list (RFC
 * 5322 section 3.4 with the obsolete forms of section 4.4): mailboxes with
 * or without display names, quoted strings, comments (nested; scanned with
 * a counter, no recursion), <angle-addr>, obsolete routes <@a,@b:user@c>
 * (dropped from the address), groups ("undisclosed-recipients:;" gives no
 * address; members of "team: a@x, b@y;" get HEADER_ADDR_F_GROUP), empty
 * list elements, and folded values (CR/LF inside are folding white space).
 * It never fails: input that is not RFC 5322 is read the way Postfix reads
 * it (the words of a mailbox are joined, stray characters kept) and the
 * address gets HEADER_ADDR_F_MALFORMED, so cleanup can still take the
 * recipients of "sendmail -t" from a sloppy To: line.
 *
 * Each address is kept in internal form (local part unquoted, see
 * mail_addr.h) with the byte span [start, end) it occupies in the value:
 * the addr-spec, route included, without the angle brackets. Left out (and
 * counted in `dropped`) are mailboxes whose address would hold a control
 * character (from quoted strings, literals or stray bytes; folding CR/LF is
 * removed, not counted) and local parts holding '@' with no domain
 * ("user@remote" alone: its internal form would read as a domain).
 *
 * Limits: at most token_limit tokens are read (atoms, quoted strings,
 * comments, literals and special characters; white space is free). Pass
 * var_header_address_token_limit (Postfix's header_address_token_limit,
 * default 10240); 0 means HEADER_ADDR_TOKEN_LIMIT. When the limit is hit,
 * `truncated` is set, the addresses complete before it are kept, and the
 * rest of the value is carried through rendering unchanged.
 *
 * Rewriting: change an item's `address` (directly, or through
 * header_addr_rewrite() with a callback), then header_addr_render() appends
 * the value with each changed address replaced by its external form (local
 * part quoted when needed) and every other byte as it was: display names,
 * comments, white space and folding are preserved. An address changed to
 * the empty string is written "<>" where it had no brackets.
 *
 * header_addr_format_mailbox(out, name, name_len, address, len) appends a
 * new mailbox for From: generation: "Display Name <address>" (the name as
 * atoms when it can be, else a quoted string; a name with UTF-8 becomes RFC
 * 2047 "=?utf-8?B?...?=" words; controls become '?'), or the bare external
 * address when the name is empty.
 *
 * Memory: the list owns its items, their strbufs and a copy of the value;
 * header_addr_list_free() releases all. Nothing logs.
 */
#ifndef POSTERN_HEADER_ADDR_H
#define POSTERN_HEADER_ADDR_H

#include <stddef.h>

#include "strbuf.h"

#define HEADER_ADDR_TOKEN_LIMIT   10240

#define HEADER_ADDR_F_ANGLE       (1 << 0)  /* written in <> */
#define HEADER_ADDR_F_ROUTE       (1 << 1)  /* had an obsolete route */
#define HEADER_ADDR_F_GROUP       (1 << 2)  /* member of a group */
#define HEADER_ADDR_F_MALFORMED   (1 << 3)  /* not RFC 5322 syntax: best-effort reading */
#define HEADER_ADDR_F_8BIT        (1 << 4)  /* holds bytes >= 0x80 */

typedef struct header_addr {
    strbuf *address;                    /* internal form; edit to rewrite */
    strbuf *parsed;                     /* internal form as parsed */
    size_t  start;                      /* span in the value */
    size_t  end;
    int     flags;
} header_addr;

typedef struct header_addr_list {
    header_addr *items;
    size_t  count;
    size_t  cap;
    char   *value;                      /* private copy of the parsed value */
    size_t  value_len;
    size_t  dropped;                    /* mailboxes left out, see above */
    int     truncated;                  /* the token limit was reached */
} header_addr_list;

typedef void (*header_addr_rewrite_fn)(header_addr *item, void *context);

header_addr_list *header_addr_parse(const char *value, size_t len, size_t token_limit);
void    header_addr_list_free(header_addr_list *list);
void    header_addr_rewrite(header_addr_list *list, header_addr_rewrite_fn fn, void *context);
int     header_addr_changed(const header_addr *item);
void    header_addr_render(strbuf *out, const header_addr_list *list);
void    header_addr_format_mailbox(strbuf *out, const char *name, size_t name_len,
                                   const char *address, size_t len);

#endif
