/*
 * sasl_dovecot - SMTP AUTH for the SMTP server, delegated to Dovecot's
 * authentication server (smtpd_sasl_type = dovecot; smtpd_sasl_path names
 * its "auth" UNIX socket), client side of Dovecot's authentication protocol,
 * major version 1.
 *
 * The conversation, one LF-terminated line per command, fields separated by
 * TAB (values use Dovecot's \001 escapes):
 *     C: VERSION 1 1, CPID <pid>
 *     S: VERSION 1 <minor>, then MECH <name> <flags...>, SPID, CUID,
 *        COOKIE (and anything else, ignored) until DONE
 *     C: AUTH <id> <mech> service=<s> nologin [lip= rip= secured
 *        valid-client-cert resp=<base64>]
 *     S: OK <id> user=<name> | CONT <id> <base64> | FAIL <id> [reason=] [temp]
 *     C: CONT <id> <base64>     (answering a CONT)
 *
 * The authentication server is a local peer but is not trusted blindly:
 * lines are at most SASL_DOVECOT_LINE_MAX bytes, NUL bytes are refused, the
 * version must be 1.x, mechanism names must be valid, a reply must carry the
 * id of the request in progress, challenges must be strict base64, and a
 * user name must be non-empty and free of control characters. Anything else
 * is a protocol error: a warning is logged, the connection is dropped, and
 * the caller gets SASL_STATUS_TEMP (the SMTP client is told to try later).
 *
 * Interface. sasl_dovecot_open() only records where the server is; the
 * connection is made by the first call that needs it and made again after
 * it was dropped. sasl_dovecot_mechanisms() lists, space-separated for the
 * EHLO AUTH keyword, the mechanisms that the server offers and that the
 * security flags (sasl_security_parse() of smtpd_sasl_security_options or
 * smtpd_sasl_tls_security_options) and the filter (smtpd_sasl_mechanism_filter,
 * may be NULL) allow; 0, or -1 with a reason in `why`.
 *
 * sasl_dovecot_start() begins an authentication; `initial_response` is the
 * second argument of the client's AUTH command as sent (base64, "=" for an
 * empty response) or NULL. sasl_dovecot_continue() passes the client's
 * answer to a 334 challenge. Both return:
 *     SASL_STATUS_OK        authenticated; `text` holds the user name
 *     SASL_STATUS_CONTINUE  `text` holds the base64 challenge for "334 "
 *     SASL_STATUS_FAIL      wrong credentials; `text` holds the server's
 *                           reason (control characters replaced), maybe empty
 *     SASL_STATUS_TEMP      the server is unreachable, broke the protocol or
 *                           said "temp"; `text` says why
 *     SASL_STATUS_BAD_MECH  the mechanism is not offered or not allowed
 *                           (never sent to the server)
 *     SASL_STATUS_BAD_DATA  the client's base64 is malformed or longer than
 *                           the response limit (never sent to the server)
 * sasl_dovecot_failed_user() is the user name of the last FAIL reply (the
 * name the client tried, when Dovecot says it: for the log), or NULL.
 * sasl_dovecot_abort() forgets a conversation the SMTP client cancelled
 * ("*"); the protocol has no cancel command, so the connection is dropped.
 * sasl_dovecot_close() closes and frees everything.
 *
 * The parsers are exposed for the unit tests and the fuzz target:
 * sasl_dovecot_handshake_line() feeds one line (without its LF) of the
 * server's handshake (0 more expected, 1 on DONE, -1 error with `why`);
 * sasl_dovecot_parse_reply() parses one reply line (0, or -1 with `why`).
 * sasl_dovecot_unescape() decodes \001 escapes (-1 on a dangling escape).
 */
#ifndef POSTERN_SASL_DOVECOT_H
#define POSTERN_SASL_DOVECOT_H

#include <stddef.h>

#include "sasl_mech.h"
#include "strbuf.h"

#define SASL_DOVECOT_LINE_MAX     16384
#define SASL_DOVECOT_MECH_MAX     64
#define SASL_DOVECOT_HANDSHAKE_MAX 256  /* lines, mechanisms included */
#define SASL_DOVECOT_USER_MAX     512

enum sasl_status {
    SASL_STATUS_OK,
    SASL_STATUS_CONTINUE,
    SASL_STATUS_FAIL,
    SASL_STATUS_TEMP,
    SASL_STATUS_BAD_MECH,
    SASL_STATUS_BAD_DATA,
};

typedef struct sasl_dovecot sasl_dovecot;

typedef struct sasl_dovecot_request {
    const char *mechanism;              /* as the client named it */
    const char *initial_response;       /* AUTH's second argument, or NULL */
    const char *service;                /* smtpd_sasl_service */
    const char *local_address;          /* or NULL */
    const char *remote_address;         /* or NULL */
    int     security_flags;             /* SASL_SEC_* in effect now */
    const sasl_filter *filter;          /* or NULL */
    int     tls_active;                 /* sends "secured" */
    int     tls_client_verified;        /* sends "valid-client-cert" */
} sasl_dovecot_request;

sasl_dovecot *sasl_dovecot_open(const char *path, int timeout, size_t response_limit);
int     sasl_dovecot_mechanisms(sasl_dovecot *server, int security_flags,
                                const sasl_filter *filter, strbuf *list, strbuf *why);
enum sasl_status sasl_dovecot_start(sasl_dovecot *server, const sasl_dovecot_request *request,
                                    strbuf *text);
enum sasl_status sasl_dovecot_continue(sasl_dovecot *server, const char *response,
                                       strbuf *text);
const char *sasl_dovecot_failed_user(const sasl_dovecot *server);
void    sasl_dovecot_abort(sasl_dovecot *server);
void    sasl_dovecot_close(sasl_dovecot *server);

/* Parsers. */
typedef struct sasl_dovecot_mech {
    char   *name;
    int     properties;                 /* SASL_PROP_* */
} sasl_dovecot_mech;

typedef struct sasl_dovecot_handshake {
    int     version_seen;
    size_t  lines;
    size_t  mech_count;
    sasl_dovecot_mech mechs[SASL_DOVECOT_MECH_MAX];
} sasl_dovecot_handshake;

enum sasl_dovecot_reply_type { SASL_DOVECOT_OK, SASL_DOVECOT_CONT, SASL_DOVECOT_FAIL };

typedef struct sasl_dovecot_reply {
    enum sasl_dovecot_reply_type type;
    unsigned long id;
    int     temporary;                  /* FAIL with "temp" */
    strbuf *text;                       /* caller's: user, challenge or reason */
    strbuf *user;                       /* caller's or NULL: FAIL's valid user= */
} sasl_dovecot_reply;

int     sasl_dovecot_handshake_line(sasl_dovecot_handshake *handshake, const char *line,
                                    size_t len, strbuf *why);
void    sasl_dovecot_handshake_free(sasl_dovecot_handshake *handshake);
int     sasl_dovecot_parse_reply(const char *line, size_t len, sasl_dovecot_reply *reply,
                                 strbuf *why);
int     sasl_dovecot_unescape(const char *text, size_t len, strbuf *out);

#endif
