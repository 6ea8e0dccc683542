/*
 * tls_io - TLS sessions on a stream: creation, the handshake with a
 * deadline, the read/write functions installed under the stream, the end of
 * a session, OpenSSL error logging and the clock. See tls.h and
 * tls_private.h.
 *
 * The descriptor is non-blocking while TLS runs on it, so every wait is a
 * poll() bounded by the stream's timeout (per operation) or the handshake
 * deadline (for the whole handshake, so a peer that trickles bytes cannot
 * stretch it).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "mem.h"
#include "msg.h"
#include "tls_private.h"

static int session_index = -1;
static time_t (*tls_clock)(void);

void tls_set_clock(time_t (*clock)(void))
{
    tls_clock = clock;
}

time_t tls_now(void)
{
    return tls_clock ? tls_clock() : time(NULL);
}

/* Created by the (single-threaded) context setup, before any session. */
int tls_session_index(void)
{
    if (session_index < 0
        && (session_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL)) < 0)
        msg_fatal("cannot allocate an OpenSSL ex_data index");
    return session_index;
}

tls_session *tls_session_new(SSL *ssl, int fd, int client_side, const char *namaddr,
                             int loglevel)
{
    tls_session *session = xcalloc(1, sizeof(*session));

    session->ssl = ssl;
    session->fd = fd;
    session->client_side = client_side;
    session->namaddr = xstrdup(namaddr ? namaddr : "unknown");
    session->loglevel = loglevel;
    session->fd_flags = fcntl(fd, F_GETFL);
    if (session->fd_flags >= 0)
        (void) fcntl(fd, F_SETFL, session->fd_flags | O_NONBLOCK);
    SSL_set_ex_data(ssl, tls_session_index(), session);
    return session;
}

void tls_session_free(tls_session *session)
{
    if (session == NULL)
        return;
    if (session->fd_flags >= 0)
        (void) fcntl(session->fd, F_SETFL, session->fd_flags);
    SSL_free(session->ssl);
    SSL_SESSION_free(session->pending_session);
    tls_verify_state_free(&session->verify);
    free(session->namaddr);
    free(session->cache_key);
    free(session);
}

size_t tls_discard_plaintext(stream *s)
{
    size_t  dropped = stream_pending(s);

    stream_drop_input(s);
    return dropped;
}

static long long monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the descriptor; timeout_ms < 0 waits forever. 0, or -1 (errno). */
static int wait_fd(int fd, short events, long long timeout_ms)
{
    struct pollfd pfd = {.fd = fd,.events = events };
    int     n;

    do {
        n = poll(&pfd, 1, timeout_ms < 0 ? -1
                 : timeout_ms > 86400000 ? 86400000 : (int) timeout_ms);
    } while (n < 0 && errno == EINTR);
    if (n == 0)
        errno = ETIMEDOUT;
    return n > 0 ? 0 : -1;
}

/* One "TLS library problem" warning per queued OpenSSL error, as Postfix. */
void tls_log_errors(void)
{
    const char *file;
    const char *data;
    int     line;
    int     flags;
    unsigned long code;
    char    text[256];

    while ((code = ERR_get_error_all(&file, &line, NULL, &data, &flags)) != 0) {
        ERR_error_string_n(code, text, sizeof(text));
        msg_warn("TLS library problem: %s:%s:%d:%s", text, file, line,
                 (flags & ERR_TXT_STRING) ? data : "");
    }
}

/*
 * As Postfix: "SSL_accept error from NAMADDR: -1" and OpenSSL's errors, or
 * one line with the system's reason.
 */
static void log_handshake_failure(const tls_session *session, const char *what, int ret,
                                  int ssl_error)
{
    const char *reason;

    if (ERR_peek_error() != 0) {
        msg_info("%s %s: %d", what, session->namaddr, ret);
        tls_log_errors();
        return;
    }
    if (errno == ETIMEDOUT)
        reason = "Connection timed out";
    else if (ssl_error == SSL_ERROR_SYSCALL && errno != 0)
        reason = strerror(errno);
    else
        reason = "lost connection";
    msg_info("%s %s: %s", what, session->namaddr, reason);
}

int tls_handshake(tls_session *session, int timeout, const char *what)
{
    long long deadline = timeout > 0 ? monotonic_ms() + timeout * 1000LL : 0;

    ERR_clear_error();
    for (;;) {
        int     ret;
        int     error;
        long long remaining = -1;

        errno = 0;
        if ((ret = SSL_do_handshake(session->ssl)) == 1)
            return 0;
        error = SSL_get_error(session->ssl, ret);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
            if (deadline && (remaining = deadline - monotonic_ms()) <= 0)
                errno = ETIMEDOUT;
            else if (wait_fd(session->fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                             remaining) == 0)
                continue;
        }
        log_handshake_failure(session, what, ret, error);
        return -1;
    }
}

/*
 * After SSL_read/SSL_write failed: wait and retry (1), clean EOF (0) or
 * error (-1, errno set). A peer that closes without close_notify is EOF too:
 * SMTP has its own end markers, so truncation is visible to it.
 */
static int io_retry(tls_session *session, int ret, int timeout)
{
    int     error = SSL_get_error(session->ssl, ret);
    long long wait_ms = timeout > 0 ? timeout * 1000LL : -1;

    switch (error) {
    case SSL_ERROR_WANT_READ:
        return wait_fd(session->fd, POLLIN, wait_ms) == 0 ? 1 : -1;
    case SSL_ERROR_WANT_WRITE:
        return wait_fd(session->fd, POLLOUT, wait_ms) == 0 ? 1 : -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SSL:
        session->failed = 1;
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ERR_clear_error();
            return 0;
        }
        tls_log_errors();
        errno = EIO;
        return -1;
    default:
        session->failed = 1;
        if (errno == 0)
            errno = EIO;
        return -1;
    }
}

static ssize_t tls_read(int fd, void *buf, size_t len, int timeout, void *context)
{
    tls_session *session = context;
    size_t  done;
    int     ret;
    int     retry;

    (void) fd;
    for (;;) {
        ERR_clear_error();
        errno = 0;
        if ((ret = SSL_read_ex(session->ssl, buf, len, &done)) == 1)
            return (ssize_t) done;
        if ((retry = io_retry(session, ret, timeout)) <= 0)
            return retry;
    }
}

static ssize_t tls_write(int fd, void *buf, size_t len, int timeout, void *context)
{
    tls_session *session = context;
    size_t  done;
    int     ret;
    int     retry;

    (void) fd;
    for (;;) {
        ERR_clear_error();
        errno = 0;
        if ((ret = SSL_write_ex(session->ssl, buf, len, &done)) == 1)
            return (ssize_t) done;
        if ((retry = io_retry(session, ret, timeout)) < 0)
            return -1;
        if (retry == 0) {
            errno = EPIPE;
            return -1;
        }
    }
}

/* After tls_session_stop(): the session is gone; the stream only closes. */
static ssize_t tls_stopped(int fd, void *buf, size_t len, int timeout, void *context)
{
    (void) fd;
    (void) buf;
    (void) len;
    (void) timeout;
    (void) context;
    errno = EPIPE;
    return -1;
}

void tls_install_io(stream *s, tls_session *session)
{
    stream_set_io(s, tls_read, tls_write, session);
}

void tls_detach_io(stream *s)
{
    stream_set_io(s, tls_stopped, tls_stopped, NULL);
}

/*
 * Send our close_notify; the peer's is not awaited (SMTP is done by then).
 * Never after a fatal error: OpenSSL forbids it.
 */
static int send_close_notify(tls_session *session, int timeout)
{
    long long wait_ms = timeout > 0 ? timeout * 1000LL : -1;

    for (;;) {
        int     ret = SSL_shutdown(session->ssl);
        int     error;

        if (ret >= 0)
            return 0;
        error = SSL_get_error(session->ssl, ret);
        if (error == SSL_ERROR_WANT_WRITE && wait_fd(session->fd, POLLOUT, wait_ms) == 0)
            continue;
        if (error == SSL_ERROR_WANT_READ && wait_fd(session->fd, POLLIN, wait_ms) == 0)
            continue;
        return -1;
    }
}

int tls_session_pending(const tls_session *session)
{
    return SSL_pending(session->ssl) > 0;
}

int tls_session_stop(tls_session *session, stream *s, int graceful)
{
    int     result = stream_flush(s);

    if (graceful && result == 0 && !session->failed)
        result = send_close_notify(session, s->timeout);
    ERR_clear_error();
    tls_detach_io(s);
    tls_session_free(session);
    return result;
}
