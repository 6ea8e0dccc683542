/*
 * dsn_split - separate an RFC 3463 status code from the text after it.
 *
 * dsn_split(text, default_status, status, reason) looks at "5.1.1 User
 * unknown" style text (a next hop of the error, retry and discard
 * transports, a table result): when it starts with a valid status code
 * (dsn_status_valid) followed by white space or the end, `status` gets the
 * code and `reason` the text after the white space; otherwise `status` gets
 * `default_status` and `reason` all of `text`. Returns 1 when the text had
 * a code, 0 when the default was used. The caller owns both strbufs.
 */
#ifndef POSTERN_DSN_SPLIT_H
#define POSTERN_DSN_SPLIT_H

#include "strbuf.h"

int     dsn_split(const char *text, const char *default_status, strbuf *status, strbuf *reason);

#endif
