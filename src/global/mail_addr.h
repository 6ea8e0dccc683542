/*
 * mail_addr - internal and external forms of a mail address.
 *
 * Postern keeps addresses in the internal form, as Postfix does: the local
 * part unquoted (john doe@example.com), the domain as written, address
 * literals with their brackets (user@[192.0.2.1]). The external form is what
 * goes on the wire and into headers: the local part quoted when it is not a
 * dot-atom ("john doe"@example.com; RFC 5321 section 4.1.2, RFC 5322 section
 * 3.4.1), so the two convert into each other without loss.
 *
 * An internal address splits at its LAST '@': everything before it is the
 * local part (which may itself hold '@', '%' or '!'), everything after it
 * the domain. user@remote@us is local part "user@remote" at domain "us": the
 * internal form of "user@remote"@us. An address without '@' is a local part
 * only (postmaster). The empty address is the null sender (<>).
 *
 * Case: the domain is case-insensitive and may be lowercased
 * (mail_addr_lowercase_domain); the local part is preserved as given.
 *
 * Interface:
 *   mail_addr_split()          local part and domain of an internal address
 *                              (pointers into the argument, no copies)
 *   mail_addr_is_local_part_only()   no '@' at all
 *   mail_addr_local_is_dot_atom()    the local part needs no quotes: atext
 *                              (RFC 5322; bytes >= 0x80 count as atext for
 *                              RFC 6531) in runs separated by single dots
 *   mail_addr_quote_local()    appends the local part, quoted if needed
 *   mail_addr_externalize()    appends the external form of an address
 *   mail_addr_unquote()        appends the internal form of an external
 *                              address; -1 (nothing appended) when the
 *                              quoting is malformed, a quote or backslash
 *                              appears in the domain, or the text holds a
 *                              control character or NUL
 *   mail_addr_lowercase_domain()  lowercases the domain in place (ASCII)
 *
 * Externalizing never emits a control character: one in an internal address
 * (the parsers never produce them; a lookup table might) is written as '?',
 * so no address can break an SMTP command or a header line.
 *
 * Output goes into caller-owned strbufs (appended); nothing else allocates.
 */
#ifndef POSTERN_MAIL_ADDR_H
#define POSTERN_MAIL_ADDR_H

#include <stddef.h>

#include "strbuf.h"

typedef struct mail_addr_parts {
    const char *local;
    size_t  local_len;
    const char *domain;                 /* NULL when there is no '@' */
    size_t  domain_len;
} mail_addr_parts;

void mail_addr_split(const char *addr, size_t len, mail_addr_parts *parts);
int  mail_addr_is_local_part_only(const char *addr, size_t len);
int  mail_addr_local_is_dot_atom(const char *local, size_t len);
void mail_addr_quote_local(strbuf *out, const char *local, size_t len);
void mail_addr_externalize(strbuf *out, const char *addr, size_t len);
int  mail_addr_unquote(strbuf *out, const char *external, size_t len);
void mail_addr_lowercase_domain(strbuf *addr);

/* RFC 5322 atext, extended with every byte >= 0x80 (RFC 6531, RFC 6532). */
int  mail_addr_is_atext(int ch);

#endif
