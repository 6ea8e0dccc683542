/*
 * mail_sanitize - untrusted text made safe for header fields and log lines.
 *
 * sanitize_printable(out, text, len)
 *     appends text with every byte outside printable ASCII (0x20-0x7E)
 *     replaced by '?'. For Received: fields (HELO name, client name), reply
 *     echoes ("555 5.5.4 Unsupported option: ...") and log lines: no CR, LF
 *     or NUL survives, so the text cannot start a header, a reply or a log
 *     line of its own.
 * sanitize_comment(out, text, len)
 *     as sanitize_printable(), and '(' ')' '\' are escaped with a backslash
 *     (RFC 5322 quoted-pair), so the text can sit inside a comment such as
 *     "(helo=...)" without closing or nesting it.
 * log_address(out, label, address, len)
 *     appends label=<address>, the way Postfix logs envelope addresses
 *     (from=<a@example.com>, to=<>). The address is an internal form; it is
 *     logged in the form info_log_address_format names ("external", the
 *     default: local part quoted when needed; "internal": as stored). Well-
 *     formed UTF-8 is kept (SMTPUTF8 addresses); controls and malformed
 *     bytes become '?'.
 *
 * All append to a caller-owned strbuf; nothing else allocates or logs.
 */
#ifndef POSTERN_MAIL_SANITIZE_H
#define POSTERN_MAIL_SANITIZE_H

#include <stddef.h>

#include "strbuf.h"

#define SANITIZE_REPLACEMENT '?'

void sanitize_printable(strbuf *out, const char *text, size_t len);
void sanitize_comment(strbuf *out, const char *text, size_t len);
void log_address(strbuf *out, const char *label, const char *address, size_t len);

#endif
