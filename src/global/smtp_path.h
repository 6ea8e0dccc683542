/*
 * smtp_path - the address argument of SMTP MAIL FROM and RCPT TO.
 *
 * smtp_path_parse(path, text, len, flags) parses the text after "FROM:" or
 * "TO:" (the caller matches the command words) up to the end of the path,
 * and says where the ESMTP parameters begin (path->end). Accepted syntax,
 * RFC 5321 section 4.1.2 with the tolerance Postfix has where it is safe:
 *
 *   leading SP/HTAB      skipped ("MAIL FROM: <a@b>")
 *   <>                   the null path, only with SMTP_PATH_ALLOW_NULL
 *   <mailbox>            local-part "@" domain, or a local part alone
 *                        (<postmaster>; trivial-rewrite appends a domain)
 *   <@a,@b:mailbox>      a source route: syntax-checked, then dropped
 *   mailbox              without brackets, ended by SP, HTAB or the end of
 *                        the text; refused with SMTP_PATH_STRICT
 *                        (strict_rfc821_envelopes = yes)
 *   local part           a dot-string of atext (dots may lead, trail or
 *                        repeat, as Postfix allows) or a quoted string
 *                        (qtextSMTP and quoted pairs of SP..'~'); UTF-8
 *                        characters allowed in both (RFC 6531)
 *   domain               a host name (valid_hostname() with underscores
 *                        and UTF-8 U-labels allowed), or an address literal
 *                        [192.0.2.1] / [IPv6:2001:db8::1]
 *
 * Refused: a control character (CR, LF, NUL, ...) or DEL anywhere, malformed
 * UTF-8, an empty local part (<""@x>, <@x>), a local part holding '@' with
 * no domain after it (<"user@remote">: its internal form would read as a
 * domain), an empty or invalid domain, a
 * trailing dot in the domain, a general address literal ([tag:text]), RFC 822
 * comments and phrases, anything but SP/HTAB or the end right after the
 * path, a path (brackets and route included) over SMTP_PATH_MAX_LENGTH (256)
 * bytes. The local part has no limit of its own (RFC 5321 says 64; VERP and
 * SRS addresses are longer, and Postfix does not limit it either): the path
 * limit bounds it.
 *
 * Results (the strbufs belong to the smtp_path; smtp_path_free() frees all):
 *   address   internal form: unquoted local part, '@', domain as sent ("" for <>)
 *   local     internal (unquoted) local part
 *   domain    domain as sent, "" when there is none; literals keep brackets
 *   flags     SMTP_PATH_F_* below
 *   text_offset, text_len   the path as sent, without the brackets (the
 *             RFC 3461 default for ORCPT)
 *   end       offset in text just after the path
 *   why       on failure: a static text for the log ("missing '>'", ...)
 *
 * Returns SMTP_PATH_OK, SMTP_PATH_EMPTY (nothing but white space) or
 * SMTP_PATH_BAD. Nothing logs.
 */
#ifndef POSTERN_SMTP_PATH_H
#define POSTERN_SMTP_PATH_H

#include <stddef.h>

#include "strbuf.h"

#define SMTP_PATH_MAX_LENGTH   256

#define SMTP_PATH_STRICT       (1 << 0)     /* parse flags */
#define SMTP_PATH_ALLOW_NULL   (1 << 1)

#define SMTP_PATH_F_NULL       (1 << 0)     /* result flags: <> */
#define SMTP_PATH_F_BRACKETS   (1 << 1)     /* sent in <> */
#define SMTP_PATH_F_ROUTE      (1 << 2)     /* a source route was dropped */
#define SMTP_PATH_F_QUOTED     (1 << 3)     /* quoted local part */
#define SMTP_PATH_F_LITERAL    (1 << 4)     /* domain is an address literal */
#define SMTP_PATH_F_UTF8       (1 << 5)     /* holds non-ASCII characters */
#define SMTP_PATH_F_NO_DOMAIN  (1 << 6)     /* local part only */

enum smtp_path_status { SMTP_PATH_OK, SMTP_PATH_EMPTY, SMTP_PATH_BAD };

typedef struct smtp_path {
    strbuf *address;
    strbuf *local;
    strbuf *domain;
    int     flags;
    size_t  text_offset;
    size_t  text_len;
    size_t  end;
    const char *why;
} smtp_path;

smtp_path *smtp_path_new(void);
void    smtp_path_free(smtp_path *path);
int     smtp_path_parse(smtp_path *path, const char *text, size_t len, int flags);

#endif
