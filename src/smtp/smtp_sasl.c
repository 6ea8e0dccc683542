/*
 * smtp_sasl - SMTP AUTH for the SMTP and LMTP client
 * (smtp_sasl_auth_enable), with the PLAIN and LOGIN mechanisms of
 * sasl_client (docs/sasl.md). The lmtp program reads lmtp_sasl_*.
 *
 * smtp_sasl_init() runs before chroot (pre_init): it opens
 * smtp_sasl_password_maps (usually a file only root can read) and parses
 * smtp_sasl_mechanism_filter and the three security option lists; a bad
 * filter or option list is fatal.
 *
 * Credentials: the password table is searched with the server's host name,
 * then with the next-hop as qmgr gave it ("[mail.isp.example]:587"), which
 * is Postfix's order; the value is "username:password" (the password may
 * contain ':'). Sender-dependent credentials are not supported.
 * smtp_sasl_has_credentials() tells smtp_tls whether a plaintext retry
 * after a failed handshake is allowed (only without credentials; a table
 * error counts as having them).
 *
 * smtp_sasl_login() runs once the session's last EHLO is done. Unless AUTH
 * is enabled, the server offered AUTH and credentials exist, it does
 * nothing (0) and the mail goes unauthenticated, as with Postfix. Else it
 * picks PLAIN or LOGIN among the server's mechanisms, as the filter and the
 * security options allow: smtp_sasl_security_options on a plaintext
 * session, smtp_sasl_tls_security_options under TLS,
 * smtp_sasl_tls_verified_security_options when the certificate check of
 * the level passed. The default options exclude plaintext mechanisms, so
 * a password never crosses an unencrypted connection unless a site says
 * so. 0 when the server accepted; otherwise -1 with Postfix's failure:
 *   4.7.0  SASL authentication failed; cannot authenticate to server
 *          NAME[ADDR]: no mechanism available (or the client's reason)
 *   4.3.0  SASL authentication failed; authentication protocol loop with
 *          server NAME[ADDR] (more than 100 challenges)
 *   DSN    SASL authentication failed; server NAME[ADDR] said: REPLY
 *          (the reply's own code; 5.x.x becomes 4.x.x while
 *          smtp_sasl_auth_soft_bounce = yes, the default)
 *   4.3.0  SASL password table lookup error
 * A connection lost meanwhile is reported as smtp_lost() does ("while
 * authenticating"). Responses hold the password: they are wiped after
 * sending; the credentials are wiped when done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "sasl_client.h"
#include "smtp.h"

#define AUTH_STEPS_MAX    100
#define AUTH_LINE_MAX     512           /* RFC 4954: an initial response line this long */

static maps_t *password_maps;           /* NULL: not configured */
static sasl_filter *mechanism_filter;
static int security_plain;              /* SASL_SEC_* for a plaintext session */
static int security_tls;
static int security_tls_verified;

#define PICK(name) (smtp_cfg.lmtp ? var_lmtp_##name : var_smtp_##name)
#define FAMILY (smtp_cfg.lmtp ? "lmtp" : "smtp")

static void parse_options(const char *name, const char *value, int *flags)
{
    strbuf *why = strbuf_new(64);

    if (sasl_security_parse(value, flags, why) < 0)
        msg_fatal("%s_%s: %s", FAMILY, name, why->data);
    strbuf_free(why);
}

void smtp_sasl_init(void)
{
    strbuf *why;

    if (!PICK(sasl_auth_enable))
        return;
    why = strbuf_new(64);
    if (*PICK(sasl_password_maps)) {
        strbuf_printf(why, "%s_sasl_password_maps", FAMILY);
        password_maps = maps_open(why->data, PICK(sasl_password_maps), MAP_FLAG_FOLD);
    }
    if ((mechanism_filter = sasl_filter_parse(PICK(sasl_mechanism_filter), why)) == NULL)
        msg_fatal("%s_sasl_mechanism_filter: %s", FAMILY, why->data);
    strbuf_free(why);
    parse_options("sasl_security_options", PICK(sasl_security_options), &security_plain);
    parse_options("sasl_tls_security_options", PICK(sasl_tls_security_options), &security_tls);
    parse_options("sasl_tls_verified_security_options",
                  PICK(sasl_tls_verified_security_options), &security_tls_verified);
}

static void wipe(strbuf *sb)
{
    explicit_bzero(sb->data, sb->cap);
    strbuf_reset(sb);
}

/* MAP_OK with "user:password" in `value`, MAP_NOTFOUND or MAP_ERROR. */
static int lookup_credentials(const smtp_session *session, strbuf *value)
{
    const char *keys[] = {session->name, session->dest};
    const char *found;
    int     status = MAP_NOTFOUND;

    if (!PICK(sasl_auth_enable) || password_maps == NULL)
        return MAP_NOTFOUND;
    for (size_t i = 0; i < 2 && status == MAP_NOTFOUND; i++)
        status = maps_find(password_maps, keys[i], 0, &found);
    if (status == MAP_OK)
        strbuf_set(value, found);
    else if (status == MAP_ERROR)
        msg_warn("%s_sasl_password_maps lookup error for %s: %s", FAMILY, session->host,
                 maps_error(password_maps));
    return status;
}

int smtp_sasl_has_credentials(const smtp_session *session)
{
    strbuf *value = strbuf_new(64);
    int     status = lookup_credentials(session, value);

    wipe(value);
    strbuf_free(value);
    return status != MAP_NOTFOUND;
}

static int security_flags(const smtp_session *session)
{
    if (session->tls == NULL)
        return security_plain;
    return session->tls_info.peer_matched ? security_tls_verified : security_tls;
}

static int cannot_authenticate(smtp_session *session, const char *why, smtp_failure *fail)
{
    smtp_failure_set(fail, "4.7.0", "SASL authentication failed; cannot authenticate to "
                     "server %s: %s", session->host, why);
    return -1;
}

/* Sends the AUTH command, with the initial response when it fits. */
static void send_auth(smtp_session *session, sasl_client *client, const char *mechanism)
{
    strbuf *response = strbuf_new(128);

    if (sasl_client_initial_response(client, response)
        && strlen("AUTH  \r\n") + strlen(mechanism) + response->len <= AUTH_LINE_MAX)
        smtp_command(session, smtp_cfg.helo_timeout, "AUTH %s %s", mechanism, response->data);
    else
        smtp_command(session, smtp_cfg.helo_timeout, "AUTH %s", mechanism);
    wipe(response);
    strbuf_free(response);
}

/* Answers 334 challenges until the server decides; 0, or -1 with `fail`. */
static int answer_challenges(smtp_session *session, sasl_client *client, smtp_failure *fail)
{
    strbuf *response = strbuf_new(128);
    strbuf *why = strbuf_new(64);
    int     steps = 0;
    int     result = 0;

    while (result == 0) {
        if (smtp_read_reply(session, smtp_cfg.helo_timeout) != SMTP_REPLY_OK) {
            smtp_lost(session, "authenticating", fail);
            result = -1;
        } else if (session->reply->code != 334) {
            break;
        } else if (++steps > AUTH_STEPS_MAX) {
            smtp_failure_set(fail, "4.3.0", "SASL authentication failed; authentication "
                             "protocol loop with server %s", session->host);
            result = -1;
        } else if (sasl_client_step(client, session->reply->lines->count ?
                                    session->reply->lines->items[0] : "", response, why) < 0) {
            smtp_command(session, smtp_cfg.helo_timeout, "*");
            (void) smtp_read_reply(session, smtp_cfg.helo_timeout);
            result = cannot_authenticate(session, why->data, fail);
        } else {
            smtp_command(session, smtp_cfg.helo_timeout, "%s", response->data);
            wipe(response);
        }
    }
    wipe(response);
    strbuf_free(response);
    strbuf_free(why);
    return result;
}

/* The server's verdict after the conversation; 0, or -1 with `fail`. */
static int verdict(smtp_session *session, smtp_failure *fail)
{
    char    dsn[SMTP_REPLY_DSN_MAX];

    if (session->reply->code / 100 == 2)
        return 0;
    snprintf(dsn, sizeof(dsn), "%s", session->reply->dsn);
    if (PICK(sasl_auth_soft_bounce) && dsn[0] == '5')
        dsn[0] = '4';
    smtp_failure_set(fail, dsn, "SASL authentication failed; server %s said: %s",
                     session->host, session->reply->text->data);
    return -1;
}

/* Mechanism, then the conversation, with the credentials "user:password". */
static int authenticate(smtp_session *session, const char *credentials, smtp_failure *fail)
{
    strbuf *mechanism = strbuf_new(16);
    strbuf *why = strbuf_new(64);
    const char *colon = strchr(credentials, ':');
    char   *user = xstrndup(credentials, colon ? (size_t) (colon - credentials)
                            : strlen(credentials));
    sasl_client *client = NULL;
    int     result;

    if (sasl_client_select(session->auth_mechanisms->data, security_flags(session),
                           mechanism_filter, mechanism, why) < 0
        || (client = sasl_client_new(mechanism->data, user, colon ? colon + 1 : "",
                                     why)) == NULL) {
        result = cannot_authenticate(session, why->data, fail);
    } else {
        send_auth(session, client, mechanism->data);
        result = answer_challenges(session, client, fail);
        if (result == 0)
            result = verdict(session, fail);
    }
    sasl_client_free(client);
    explicit_bzero(user, strlen(user));
    free(user);
    strbuf_free(mechanism);
    strbuf_free(why);
    return result;
}

int smtp_sasl_login(smtp_session *session, smtp_failure *fail)
{
    strbuf *credentials;
    int     status;
    int     result = 0;

    if (!PICK(sasl_auth_enable) || !(session->features & SMTP_FEATURE_AUTH))
        return 0;
    credentials = strbuf_new(64);
    status = lookup_credentials(session, credentials);
    if (status == MAP_ERROR) {
        smtp_failure_set(fail, "4.3.0", "SASL password table lookup error");
        result = -1;
    } else if (status == MAP_OK) {
        result = authenticate(session, credentials->data, fail);
    }
    wipe(credentials);
    strbuf_free(credentials);
    return result;
}
