/*
 * base64 - base64 (RFC 4648, standard alphabet, padded): SMTP AUTH, RFC 2047
 * encoded words, anything else that needs it.
 *
 * base64_encode() appends the encoding of `len` bytes at `data` to `out`.
 *
 * base64_decode() is strict, because its input comes from SMTP clients,
 * remote SMTP servers and the authentication server: the text must be a
 * multiple of four characters from the alphabet, '=' may appear only as one
 * or two final padding characters, and the bits that padding discards must
 * be zero (so every byte string has exactly one accepted encoding). White
 * space, line breaks and NUL bytes are errors. The empty text decodes to
 * zero bytes. It replaces the content of `out`: 0 with the bytes in `out` (binary-safe: they may hold
 * NUL), or -1 leaving `out` empty.
 *
 * Memory stays with the caller's strbuf.
 */
#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H

#include <stddef.h>

#include "strbuf.h"

void base64_encode(const void *data, size_t len, strbuf *out);
int  base64_decode(const char *text, size_t len, strbuf *out);

#endif
