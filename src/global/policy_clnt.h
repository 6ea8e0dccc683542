/*
 * policy_clnt - ask an external policy server, in Postfix's policy
 * delegation protocol (check_policy_service).
 *
 * The protocol is plain text, not Postern's inter-process framing: the
 * client writes "name=value" lines and an empty line; the server answers
 * with "name=value" lines, one of them "action=...", and an empty line.
 * The connection stays open for further requests.
 *
 *   policy_clnt *pc = policy_clnt_new("inet:127.0.0.1:9998", &limits);
 *   status = policy_clnt_query(pc, request, action, why);
 *   policy_clnt_free(pc);
 *
 * Endpoints: "inet:host:port" (host may be "[v6addr]") or "unix:path"
 * (a relative path is taken from the current directory, which is
 * queue_directory in a daemon, so "unix:private/policy" works in a chroot).
 *
 * `request` holds "name=value" strings. Names must be [a-z0-9_]; a value
 * loses any CR, LF or NUL byte (each becomes '?') so no value can add a
 * line to the request.
 *
 * Limits (policy_limits, from the smtpd_policy_service_* parameters):
 * `timeout` bounds connecting and each read and write; a connection is
 * closed and reopened when it sat idle for `max_idle` seconds, is older
 * than `max_ttl`, or served `request_limit` requests (0: no limit). A
 * failed exchange is retried on a new connection, `try_limit` attempts in
 * all, `retry_delay` seconds apart.
 *
 * The reply is checked: at most POLICY_REPLY_LINES lines of at most
 * POLICY_LINE_MAX bytes, each "name=value"; exactly one "action" (other
 * names are ignored, as Postfix does). policy_clnt_query() returns 0 with
 * the action in `action`, or -1 with a reason in `why` (the caller logs it
 * and applies smtpd_policy_service_default_action). policy_clnt_server()
 * names the server for log lines as Postfix does: the endpoint without its
 * "inet:" or "unix:" prefix. Nothing here logs.
 */
#ifndef POSTERN_POLICY_CLNT_H
#define POSTERN_POLICY_CLNT_H

#include "argv.h"
#include "strbuf.h"

#define POLICY_LINE_MAX     4096
#define POLICY_REPLY_LINES  100

typedef struct policy_limits {
    int     timeout;
    int     max_idle;
    int     max_ttl;
    int     try_limit;
    int     retry_delay;
    int     request_limit;
} policy_limits;

typedef struct policy_clnt policy_clnt;

policy_clnt *policy_clnt_new(const char *endpoint, const policy_limits *limits);
int     policy_clnt_query(policy_clnt *pc, const argv_t *request, strbuf *action, strbuf *why);
const char *policy_clnt_endpoint(const policy_clnt *pc);
const char *policy_clnt_server(const policy_clnt *pc);
void    policy_clnt_free(policy_clnt *pc);

#endif
