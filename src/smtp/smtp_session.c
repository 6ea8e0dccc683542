/*
 * smtp_session - one connection to a server: connect, greeting, EHLO (or
 * HELO, or LMTP's LHLO), STARTTLS and EHLO again as the destination's TLS
 * plan says (smtp_tls.c; in wrapper mode TLS starts before the greeting),
 * AUTH (smtp_sasl.c), the features the server offers, commands and
 * replies, and the connection cache.
 *
 * At level may a failed TLS handshake leaves the connection in an unknown
 * state: the server is tried once more in plaintext on a new connection
 * (unless SASL credentials exist for it), as Postfix does.
 *
 * The cache keeps one idle session per process, keyed by the next-hop it
 * was opened for: the next request for the same next-hop reuses it (no new
 * greeting, no new EHLO; a TLS session stays up) while it is younger than
 * smtp_connection_reuse_time_limit, has been idle at most
 * smtp_connection_cache_time_limit, has served fewer than
 * smtp_connection_reuse_count_limit transactions (0: no limit), and the
 * server has not said anything or hung up meanwhile. A timer on the
 * daemon's event loop sends QUIT when the idle time runs out, so an unused
 * connection is not left hanging. No scache(8) service is involved.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "smtp.h"
#include "sock.h"

static smtp_session *cached_session;
static struct event *cache_timer;

void smtp_failure_set(smtp_failure *fail, const char *dsn, const char *fmt, ...)
{
    va_list ap;

    snprintf(fail->dsn, sizeof(fail->dsn), "%s", dsn);
    if (fail->reason == NULL)
        fail->reason = strbuf_new(128);
    if (fail->relay == NULL)
        fail->relay = strbuf_new(64);
    strbuf_reset(fail->reason);
    strbuf_reset(fail->relay);
    va_start(ap, fmt);
    strbuf_append_vprintf(fail->reason, fmt, ap);
    va_end(ap);
    fail->set = 1;
}

int smtp_command(smtp_session *session, int timeout, const char *fmt, ...)
{
    va_list ap;

    stream_set_timeout(session->stream, timeout);
    va_start(ap, fmt);
    stream_vprintf(session->stream, fmt, ap);
    va_end(ap);
    stream_puts(session->stream, "\r\n");
    return stream_status(session->stream) ? -1 : 0;
}

int smtp_read_reply(smtp_session *session, int timeout)
{
    if (stream_flush(session->stream) < 0)
        return SMTP_REPLY_IO;
    stream_set_timeout(session->stream, timeout);
    return smtp_reply_read(session->stream, session->reply, (size_t) var_line_length_limit);
}

/* "lost connection with X while ...", "conversation with X timed out while ...". */
void smtp_lost(smtp_session *session, const char *when, smtp_failure *fail)
{
    if (stream_timed_out(session->stream))
        smtp_failure_set(fail, "4.4.2", "conversation with %s timed out while %s",
                         session->host, when);
    else if (session->reply->code == 0 && session->reply->text->len)
        smtp_failure_set(fail, "4.5.0", "protocol error: host %s sent a %s while %s",
                         session->host, session->reply->text->data, when);
    else
        smtp_failure_set(fail, "4.4.2", "lost connection with %s while %s", session->host,
                         when);
}

static void format_names(smtp_session *session, const smtp_server *server)
{
    strbuf *text = strbuf_new(64);

    session->name = xstrdup(server->name);
    if (server->unix_path) {
        strbuf_printf(text, "%s[%s]", server->name, server->unix_path);
        session->host = xstrdup(text->data);
        session->namaddr = xstrdup(text->data);
    } else {
        strbuf_printf(text, "%s[%s]", server->name, server->addr.text);
        session->host = xstrdup(text->data);
        strbuf_append_printf(text, ":%d", server->port);
        session->namaddr = xstrdup(text->data);
    }
    strbuf_free(text);
}

static int connect_server(const smtp_server *server, smtp_failure *fail)
{
    int     fd;

    if (server->unix_path) {
        fd = unix_connect(server->unix_path, smtp_cfg.connect_timeout);
        if (fd < 0)
            smtp_failure_set(fail, "4.4.1", "connect to %s[%s]: %s", server->name,
                             server->unix_path, strerror(errno));
        return fd;
    }
    fd = sock_connect_addr((const struct sockaddr *) &server->addr.sa, server->addr.len,
                           smtp_cfg.connect_timeout);
    if (fd < 0)
        smtp_failure_set(fail, "4.4.1", "connect to %s[%s]:%d: %s", server->name,
                         server->addr.text, server->port,
                         errno == ETIMEDOUT ? "Connection timed out" : strerror(errno));
    return fd;
}

static int discarded(const char *keyword)
{
    for (size_t i = 0; i < smtp_cfg.discard_keywords->count; i++)
        if (strcasecmp(smtp_cfg.discard_keywords->items[i], keyword) == 0)
            return 1;
    return 0;
}

static void add_auth_mechanism(smtp_session *session, const char *name)
{
    if (*name && session->auth_mechanisms->len + strlen(name) < SMTP_REPLY_TEXT_MAX)
        strbuf_append_printf(session->auth_mechanisms, " %s", name);
}

/* "AUTH PLAIN LOGIN", or the old "AUTH=PLAIN LOGIN": the mechanisms, bounded. */
static void add_auth_mechanisms(smtp_session *session, const argv_t *words)
{
    const char *first = words->items[0] + 4;

    session->features |= SMTP_FEATURE_AUTH;
    if (*first == '=')
        add_auth_mechanism(session, first + 1);
    for (size_t i = 1; i < words->count; i++)
        add_auth_mechanism(session, words->items[i]);
}

static void parse_features(smtp_session *session)
{
    const argv_t *lines = session->reply->lines;

    session->features = SMTP_FEATURE_ESMTP;
    strbuf_reset(session->auth_mechanisms);
    for (size_t i = 1; i < lines->count; i++) {
        argv_t *words = argv_split(lines->items[i], " ");

        if (words->count && !discarded(words->items[0])) {
            const char *kw = words->items[0];

            if (strcasecmp(kw, "PIPELINING") == 0)
                session->features |= SMTP_FEATURE_PIPELINING;
            else if (strcasecmp(kw, "8BITMIME") == 0)
                session->features |= SMTP_FEATURE_8BITMIME;
            else if (strcasecmp(kw, "DSN") == 0)
                session->features |= SMTP_FEATURE_DSN;
            else if (strcasecmp(kw, "SMTPUTF8") == 0)
                session->features |= SMTP_FEATURE_SMTPUTF8;
            else if (strcasecmp(kw, "STARTTLS") == 0)
                session->features |= SMTP_FEATURE_STARTTLS;
            else if (strcasecmp(kw, "AUTH") == 0 || strncasecmp(kw, "AUTH=", 5) == 0)
                add_auth_mechanisms(session, words);
            else if (strcasecmp(kw, "SIZE") == 0) {
                session->features |= SMTP_FEATURE_SIZE;
                if (words->count > 1)
                    session->size_limit = strtol(words->items[1], NULL, 10);
                if (session->size_limit < 0)
                    session->size_limit = 0;
            }
        }
        argv_free(words);
    }
}

/* "host X said: REPLY (in reply to WHAT)", with the reply's own DSN. */
static void reply_failure(smtp_session *session, const char *what, smtp_failure *fail)
{
    smtp_failure_set(fail, session->reply->dsn, "host %s said: %s (in reply to %s)",
                     session->host, session->reply->text->data, what);
}

static int greeting(smtp_session *session, smtp_failure *fail, int *permanent)
{
    char    dsn[SMTP_REPLY_DSN_MAX];

    if (smtp_read_reply(session, smtp_cfg.helo_timeout) != SMTP_REPLY_OK) {
        smtp_lost(session, "receiving the initial server greeting", fail);
        return -1;
    }
    if (session->reply->code / 100 == 2)
        return 0;
    *permanent = session->reply->code / 100 == 5 && !smtp_cfg.skip_5xx_greeting;
    snprintf(dsn, sizeof(dsn), "%s", session->reply->dsn);
    if (!*permanent)
        dsn[0] = '4';
    smtp_failure_set(fail, dsn, "host %s refused to talk to me: %s",
                     session->host, session->reply->text->data);
    return -1;
}

/* EHLO, or LHLO; 1 when the server refused EHLO with 5xx (try HELO). */
static int ehlo(smtp_session *session, smtp_failure *fail, int *permanent)
{
    if (smtp_command(session, smtp_cfg.helo_timeout, "%s %s", smtp_cfg.hello_verb,
                     smtp_cfg.helo_name) < 0
        || smtp_read_reply(session, smtp_cfg.helo_timeout) != SMTP_REPLY_OK) {
        smtp_lost(session, "performing the EHLO handshake", fail);
        return -1;
    }
    if (session->reply->code / 100 == 2) {
        parse_features(session);
        return 0;
    }
    if (smtp_cfg.lmtp || session->reply->code / 100 != 5) {
        reply_failure(session, smtp_cfg.lmtp ? "LHLO command" : "EHLO command", fail);
        *permanent = session->reply->code / 100 == 5;
        return -1;
    }
    return 1;
}

static int helo(smtp_session *session, smtp_failure *fail, int *permanent)
{
    if (smtp_command(session, smtp_cfg.helo_timeout, "HELO %s", smtp_cfg.helo_name) < 0
        || smtp_read_reply(session, smtp_cfg.helo_timeout) != SMTP_REPLY_OK) {
        smtp_lost(session, "performing the HELO handshake", fail);
        return -1;
    }
    if (session->reply->code / 100 != 2) {
        reply_failure(session, "HELO command", fail);
        *permanent = session->reply->code / 100 == 5;
        return -1;
    }
    session->features = 0;
    return 0;
}

/* Greeting and EHLO/HELO/LHLO; 0, or -1 with the failure. */
static int say_hello(smtp_session *session, smtp_failure *fail, int *permanent)
{
    int     rc;

    if (greeting(session, fail, permanent) < 0)
        return -1;
    if (!smtp_cfg.never_send_ehlo || smtp_cfg.lmtp) {
        if ((rc = ehlo(session, fail, permanent)) <= 0)
            return rc;
    }
    return helo(session, fail, permanent);
}

/*
 * STARTTLS when the plan asks for it and the server offers it, then EHLO
 * again over TLS; 0 (TLS on, or plaintext as the level allows), or -1.
 */
static int secure(smtp_session *session, const smtp_tls_plan *tls, smtp_failure *fail,
                  int *retry_plain)
{
    int     permanent = 0;

    if (session->tls)
        return 0;
    switch (smtp_tls_decide(session, tls, fail)) {
    case TLS_ACTION_PLAINTEXT:
        return 0;
    case TLS_ACTION_REFUSE:
        return -1;
    case TLS_ACTION_STARTTLS:
        break;
    }
    if (smtp_command(session, smtp_cfg.starttls_timeout, "STARTTLS") < 0
        || smtp_read_reply(session, smtp_cfg.starttls_timeout) != SMTP_REPLY_OK) {
        smtp_lost(session, "receiving the STARTTLS response", fail);
        return -1;
    }
    if (session->reply->code / 100 != 2) {
        session->features &= ~SMTP_FEATURE_STARTTLS;
        if (!tls_level_mandatory(tls->level))
            return 0;
        smtp_failure_set(fail, session->reply->dsn, "TLS is required, but host %s refused "
                         "to start TLS: %s", session->host, session->reply->text->data);
        return -1;
    }
    if (smtp_tls_start(session, tls, fail, retry_plain) < 0)
        return -1;
    return ehlo(session, fail, &permanent) == 0 ? 0 : -1;
}

static void session_free(smtp_session *session, int graceful)
{
    smtp_tls_end(session, graceful);
    if (session->stream)
        stream_close(session->stream);
    smtp_reply_free(session->reply);
    strbuf_free(session->auth_mechanisms);
    free(session->dest);
    free(session->namaddr);
    free(session->host);
    free(session->name);
    free(session);
}

/* One connection; *retry_plain after a failed handshake at level may. */
static smtp_session *open_once(const char *dest, const smtp_server *server,
                               const smtp_tls_plan *tls, smtp_failure *fail, int *permanent,
                               int *retry_plain)
{
    smtp_session *session;
    int     fd;

    if ((fd = connect_server(server, fail)) < 0)
        return NULL;
    session = xcalloc(1, sizeof(*session));
    session->stream = stream_open_fd(fd, smtp_cfg.helo_timeout);
    session->reply = smtp_reply_new();
    session->auth_mechanisms = strbuf_new(32);
    session->dest = xstrdup(dest);
    session->created = time(NULL);
    format_names(session, server);
    if (smtp_tls_wrap(session, tls, fail) < 0 || say_hello(session, fail, permanent) < 0
        || secure(session, tls, fail, retry_plain) < 0 || smtp_sasl_login(session, fail) < 0) {
        strbuf_set(fail->relay, session->namaddr);
        smtp_session_close(session, !stream_status(session->stream));
        return NULL;
    }
    return session;
}

smtp_session *smtp_session_open(const char *dest, const smtp_server *server,
                                const smtp_tls_plan *tls, smtp_failure *fail, int *permanent)
{
    smtp_tls_plan plaintext = {.level = TLS_LEV_NONE };
    smtp_session *session;
    int     retry_plain = 0;

    *permanent = 0;
    session = open_once(dest, server, tls, fail, permanent, &retry_plain);
    if (session == NULL && retry_plain)
        session = open_once(dest, server, &plaintext, fail, permanent, &retry_plain);
    return session;
}

void smtp_session_close(smtp_session *session, int send_quit)
{
    if (session == NULL)
        return;
    if (send_quit && smtp_command(session, smtp_cfg.quit_timeout, "QUIT") == 0)
        (void) smtp_read_reply(session, smtp_cfg.quit_timeout);
    session_free(session, send_quit && !stream_status(session->stream));
}

static void drop_cached(void)
{
    if (cache_timer)
        event_del(cache_timer);
    smtp_session_close(cached_session, 1);
    cached_session = NULL;
}

static void cache_expired(evutil_socket_t fd, short what, void *context)
{
    (void) fd;
    (void) what;
    (void) context;
    drop_cached();
}

void smtp_session_release(smtp_session *session, int reusable)
{
    struct timeval idle = {.tv_sec = smtp_cfg.cache_time_limit };

    session->last_used = time(NULL);
    if (!reusable || stream_status(session->stream)
        || (smtp_cfg.reuse_count_limit > 0 && session->uses >= smtp_cfg.reuse_count_limit)
        || session->last_used - session->created >= smtp_cfg.reuse_time_limit) {
        smtp_session_close(session, reusable && !stream_status(session->stream));
        return;
    }
    if (cached_session && cached_session != session)
        drop_cached();
    cached_session = session;
    if (cache_timer == NULL && server_event_base() != NULL)
        cache_timer = evtimer_new(server_event_base(), cache_expired, NULL);
    if (cache_timer)
        evtimer_add(cache_timer, &idle);
}

smtp_session *smtp_session_cached(const char *dest)
{
    smtp_session *session = cached_session;
    time_t  now = time(NULL);

    if (session == NULL)
        return NULL;
    if (cache_timer)
        event_del(cache_timer);
    cached_session = NULL;
    if (strcmp(session->dest, dest) != 0
        || now - session->last_used > smtp_cfg.cache_time_limit
        || now - session->created >= smtp_cfg.reuse_time_limit) {
        smtp_session_close(session, 1);
        return NULL;
    }
    if (stream_input_waiting(session->stream)) {
        smtp_session_close(session, 0);
        return NULL;
    }
    return session;
}
