/*
 * xtext - RFC 3461 xtext, and the ORCPT parameter that uses it.
 *
 * xtext (RFC 3461 section 4): printable ASCII 33-126 except '+' and '='
 * stand for themselves; any octet may be written "+XX" (two hex digits).
 *   xtext_encode()   appends the xtext form of any bytes (uppercase hex)
 *   xtext_decode()   appends the decoded bytes of strict xtext: a '+' must
 *                    be followed by two hex digits (either case); SP,
 *                    '=', controls and bytes >= 0x80 are errors. The decoded
 *                    bytes may be anything ("+0D+0A" is CR LF): callers
 *                    check what they allow, see below.
 *   xtext_valid()    the syntax check alone
 *
 * ORCPT (RFC 3461 section 4.2, RFC 6533 section 3): "addr-type;address".
 *   orcpt_decode(value, len, flags, type, address) accepts
 *     rfc822;XTEXT   the address is xtext; decoded it must be printable
 *                    ASCII (32-126)
 *     utf-8;TEXT     RFC 6533 utf-8-addr-xtext: QCHAR (printable ASCII but
 *                    SP, '\', '+', '=') and \x{HEX} escapes for any Unicode
 *                    scalar value; with ORCPT_UTF8 (the transaction is
 *                    SMTPUTF8) also raw UTF-8 characters (utf-8-addr-unitext).
 *                    Decoded it must be well-formed UTF-8 without controls.
 *   The type is matched case-insensitively and stored lowercase; other
 *   types are refused. The encoded value may be at most ORCPT_MAX_LENGTH
 *   (500) bytes, RFC 3461's limit. Returns 0, or -1 with type and address
 *   reset.
 *   orcpt_encode(out, type, address, len) appends "type;encoded" in the
 *   7-bit form: type "utf-8" (any case) as utf-8-addr-xtext (bytes that are
 *   not well-formed UTF-8 become \x{FFFD}), any other type as
 *   "rfc822;" xtext.
 *
 * Output goes into caller-owned strbufs; on failure nothing is appended.
 * Nothing logs.
 */
#ifndef POSTERN_XTEXT_H
#define POSTERN_XTEXT_H

#include <stddef.h>

#include "strbuf.h"

#define ORCPT_MAX_LENGTH  500
#define ORCPT_UTF8        (1 << 0)

void xtext_encode(strbuf *out, const char *data, size_t len);
int  xtext_decode(strbuf *out, const char *text, size_t len);
int  xtext_valid(const char *text, size_t len);

int  orcpt_decode(const char *value, size_t len, int flags, strbuf *type, strbuf *address);
void orcpt_encode(strbuf *out, const char *type, const char *address, size_t len);

#endif
