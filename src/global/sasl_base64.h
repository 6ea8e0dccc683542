/*
 * sasl_base64 - base64 (RFC 4648, standard alphabet, padded) for SMTP AUTH.
 *
 * sasl_base64_encode() replaces the content of `out` with the encoding of
 * `len` bytes at `data`.
 *
 * sasl_base64_decode() is strict, because its input comes from SMTP clients,
 * remote SMTP servers and the authentication server: the text must be a
 * multiple of four characters from the alphabet, '=' may appear only as one
 * or two final padding characters, and the bits that padding discards must
 * be zero (so every byte string has exactly one accepted encoding). White
 * space, line breaks and NUL bytes are errors. The empty text decodes to
 * zero bytes. Returns 0 with the bytes in `out` (binary-safe: they may hold
 * NUL), or -1 leaving `out` empty.
 *
 * Both functions only append to the caller's strbuf; memory stays with it.
 */
#ifndef POSTERN_SASL_BASE64_H
#define POSTERN_SASL_BASE64_H

#include <stddef.h>

#include "strbuf.h"

void sasl_base64_encode(const void *data, size_t len, strbuf *out);
int  sasl_base64_decode(const char *text, size_t len, strbuf *out);

#endif
