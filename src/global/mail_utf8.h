/*
 * mail_utf8 - UTF-8 well-formedness for mail syntax checks (RFC 3629).
 *
 * utf8_char_length(p, avail) returns the length (1-4) of the well-formed
 * UTF-8 character that starts at p, looking at no more than `avail` bytes,
 * or 0 when the bytes there are not one: a stray continuation byte, a
 * truncated sequence, an overlong form, a UTF-16 surrogate or a code point
 * above U+10FFFF. Every ASCII byte (controls included) has length 1; callers
 * decide which ASCII they allow. utf8_decode() does the same and also stores
 * the code point.
 *
 * utf8_valid(text, len) is 1 when all of text is well-formed UTF-8.
 * utf8_encode(out, code_point) appends the UTF-8 form of a Unicode scalar
 * value; for a surrogate or a value above U+10FFFF it appends nothing and
 * returns -1.
 *
 * Nothing here allocates except through the strbuf; nothing logs.
 */
#ifndef POSTERN_MAIL_UTF8_H
#define POSTERN_MAIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

size_t utf8_decode(const unsigned char *p, size_t avail, uint32_t *code_point);
size_t utf8_char_length(const unsigned char *p, size_t avail);
int    utf8_valid(const char *text, size_t len);
int    utf8_encode(strbuf *out, uint32_t code_point);

#endif
