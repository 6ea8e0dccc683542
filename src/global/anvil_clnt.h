/*
 * anvil_clnt - report connections and events to anvil, read back counters.
 *
 * The client side of the anvil conversation (docs/protocols.md), used by
 * smtpd for smtpd_client_connection_count_limit and the rate limits. The
 * identity of a client is "service:address" (anvil_clnt_ident()).
 *
 * anvil_clnt_request() sends one request (ANVIL_CONNECT, ANVIL_DISCONNECT,
 * ANVIL_MESSAGE, ANVIL_RECIPIENT, ANVIL_AUTH, ANVIL_LOOKUP) and stores the
 * client's concurrent connection count and the rate of that event in the
 * current anvil_rate_time_unit (either pointer may be NULL). Returns 0, or
 * -1 when anvil cannot be reached: callers then apply no limit (as
 * Postfix: an unavailable anvil must not stop mail) and the failure is
 * logged once per process.
 */
#ifndef POSTERN_ANVIL_CLNT_H
#define POSTERN_ANVIL_CLNT_H

#include "strbuf.h"

#define ANVIL_CONNECT     "connect"
#define ANVIL_DISCONNECT  "disconnect"
#define ANVIL_MESSAGE     "message"
#define ANVIL_RECIPIENT   "recipient"
#define ANVIL_AUTH        "auth"
#define ANVIL_LOOKUP      "lookup"

void anvil_clnt_ident(strbuf *ident, const char *service, const char *client_address);
int  anvil_clnt_request(const char *request, const char *ident, int *count, int *rate);
void anvil_clnt_disconnect(void);

#endif
