/*
 * sasl_client - SMTP AUTH for the SMTP client: PLAIN (RFC 4616) and LOGIN
 * (draft-murchison-sasl-login), the two mechanisms submission servers and
 * relays offer, without an external SASL library.
 *
 * sasl_client_select() picks a mechanism from the server's EHLO AUTH list
 * (`offered`, space-separated, case-insensitive): the first of PLAIN, LOGIN
 * that the server offers, the security options allow (both are plaintext
 * mechanisms, so "noplaintext" excludes them) and the filter (may be NULL)
 * lets through. 0 with the name in `mechanism`, or -1 with Postfix's reason
 * in `why` ("no mechanism available").
 *
 * sasl_client_new() prepares one authentication with the name that
 * sasl_client_select() returned; the username and password are copied
 * (and wiped from memory by sasl_client_free()). NULL with a reason in `why`
 * for an unknown mechanism or an empty username or password.
 *
 * sasl_client_initial_response() returns 1 with the base64 initial response
 * in `out` (PLAIN: send "AUTH PLAIN <out>"; RFC 4954 lets a client send it
 * after an empty 334 instead when the line would exceed 512 bytes), or 0
 * when the mechanism has none (LOGIN: send "AUTH LOGIN").
 *
 * sasl_client_step() answers one 334 challenge: `challenge` is the reply text
 * after "334 ", base64 as the server sent it. It must decode strictly; LOGIN
 * answers the first challenge with the username and the second with the
 * password, whatever the prompts say; PLAIN answers an empty challenge with
 * the credentials when no initial response was sent. Any other challenge is
 * a protocol error. 0 with the base64 response in `out`, or -1 with a reason
 * in `why` (the caller then sends "*" to cancel, as RFC 4954 says).
 */
#ifndef POSTERN_SASL_CLIENT_H
#define POSTERN_SASL_CLIENT_H

#include "sasl_mech.h"
#include "strbuf.h"

typedef struct sasl_client sasl_client;

int     sasl_client_select(const char *offered, int security_flags,
                           const sasl_filter *filter, strbuf *mechanism, strbuf *why);
sasl_client *sasl_client_new(const char *mechanism, const char *username,
                             const char *password, strbuf *why);
int     sasl_client_initial_response(sasl_client *client, strbuf *out);
int     sasl_client_step(sasl_client *client, const char *challenge, strbuf *out,
                         strbuf *why);
void    sasl_client_free(sasl_client *client);

#endif
