/*
 * smtpd_io - reading from the client under smtpd_timeout.
 *
 * smtpd_io_init() puts a deadline layer over the client stream's I/O
 * functions (stream_set_io; whatever was there, plain or later TLS, stays
 * underneath). With smtpd_per_record_deadline = yes (Postern's default)
 * smtpd_timeout limits the time to receive one whole record (a command
 * line, a DATA line piece, a BDAT chunk piece) and to send one reply, not
 * each read: a client that sends a byte at a time gets "timeout exceeded"
 * like one that sends nothing. smtpd_deadline_start() begins a record.
 *
 * smtpd_read_command() reads one command line, at most line_length_limit
 * bytes (the rest of a longer line is read and dropped, with Postfix's
 * "request longer than" warning), into state->cmd. Returns 0, or -1 at
 * EOF, error or timeout (stream_status() tells which).
 *
 * smtpd_input_pending() is 1 when the client has sent more than we read:
 * bytes in the stream buffer or decrypted inside TLS, or data (not just
 * EOF) waiting on the socket. smtpd_pending_text() shows the first of those
 * bytes, escaped, for the "improper command pipelining" log line (under TLS
 * only what was decrypted already).
 *
 * smtpd_read_line() reads one line of at most `limit` bytes without its
 * line end (AUTH responses): 0, 1 when it was longer (the rest was read
 * and dropped), -1 at EOF, error or timeout.
 *
 * Memory: the layer's small context is kept per process and replaced by
 * the next session's smtpd_io_init().
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"

#define SMTPD_PENDING_SHOWN 100

typedef struct deadline_io {
    stream_io_fn read_fn;
    stream_io_fn write_fn;
    void   *context;
    smtpd_state *state;
} deadline_io;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The seconds left for this operation: the smaller of timeout and the
 * deadline, rounded up (the stream waits in whole seconds).
 */
static int time_left(const smtpd_state *state, int timeout)
{
    long long left;

    if (!var_smtpd_per_record_deadline)
        return timeout;
    left = state->deadline_ms - now_ms();
    if (left <= 0)
        return 0;
    left = (left + 999) / 1000;
    return left < timeout ? (int) left : timeout;
}

static ssize_t deadline_read(int fd, void *buf, size_t len, int timeout, void *context)
{
    deadline_io *io = context;
    int     left = time_left(io->state, timeout);

    if (left <= 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    return io->read_fn(fd, buf, len, left, io->context);
}

static ssize_t deadline_write(int fd, void *buf, size_t len, int timeout, void *context)
{
    deadline_io *io = context;
    int     left = time_left(io->state, timeout);

    if (left <= 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    return io->write_fn(fd, buf, len, left, io->context);
}

static deadline_io *installed;

void smtpd_io_init(smtpd_state *state)
{
    stream *s = state->client;

    free(installed);
    installed = xcalloc(1, sizeof(*installed));
    installed->read_fn = s->read_fn;
    installed->write_fn = s->write_fn;
    installed->context = s->io_context;
    installed->state = state;
    stream_set_io(s, deadline_read, deadline_write, installed);
    stream_set_timeout(s, var_smtpd_timeout);
    smtpd_deadline_start(state);
}

void smtpd_deadline_start(smtpd_state *state)
{
    state->deadline_ms = now_ms() + (long long) var_smtpd_timeout * 1000;
}

int smtpd_input_pending(smtpd_state *state)
{
    struct pollfd pfd = {.fd = state->client->fd,.events = POLLIN };
    char    byte;

    if (stream_pending(state->client) > 0
        || (state->tls && tls_session_pending(state->tls)))
        return 1;
    if (poll(&pfd, 1, 0) <= 0)
        return 0;
    return recv(state->client->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* The first bytes of the input waiting to be read, escaped for a log line. */
const char *smtpd_pending_text(smtpd_state *state)
{
    static strbuf *text;
    char    peek[SMTPD_PENDING_SHOWN];
    stream *s = state->client;
    ssize_t n;

    if (text == NULL)
        text = strbuf_new(128);
    strbuf_reset(text);
    if (stream_pending(s) > 0)
        smtp_escape(text, (const char *) s->rbuf + s->rpos, stream_pending(s),
                    SMTPD_PENDING_SHOWN);
    else if (state->tls == NULL
             && (n = recv(s->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT)) > 0)
        smtp_escape(text, peek, (size_t) n, SMTPD_PENDING_SHOWN);
    return text->data;
}

/*
 * Reads and drops the rest of an overlong line: 1 when it ended in CR LF,
 * 0 in a bare LF, -1 when the input ended first.
 */
static int skip_rest_of_line(smtpd_state *state, strbuf *tail, int previous)
{
    enum stream_line status;

    while ((status = stream_get_line(state->client, tail, (size_t) var_line_length_limit))
           == STREAM_LINE_TOO_LONG)
        previous = strbuf_last(tail);
    if (status != STREAM_LINE_COMPLETE)
        return -1;
    if (tail->len >= 2)
        previous = (unsigned char) tail->data[tail->len - 2];
    return previous == '\r';
}

/*
 * One line of at most `limit` bytes into `line`, line end included; the rest
 * of a longer line is read and dropped. 0 complete, 1 cut, -1 the input
 * ended first. *crlf tells whether the line ended in CR LF.
 */
static int read_line(smtpd_state *state, size_t limit, strbuf *line, int *crlf)
{
    static strbuf *tail;
    enum stream_line status;

    if (tail == NULL)
        tail = strbuf_new(256);
    *crlf = 1;
    smtpd_deadline_start(state);
    status = stream_get_line(state->client, line, limit);
    if (status == STREAM_LINE_NONE || status == STREAM_LINE_LAST)
        return -1;
    if (status == STREAM_LINE_COMPLETE) {
        *crlf = line->len >= 2 && line->data[line->len - 2] == '\r';
        return 0;
    }
    if ((*crlf = skip_rest_of_line(state, tail, strbuf_last(line))) < 0)
        return -1;
    return 1;
}

int smtpd_read_command(smtpd_state *state)
{
    static strbuf *line;
    int     crlf;
    int     status;

    if (line == NULL)
        line = strbuf_new(256);
    if ((status = read_line(state, (size_t) var_line_length_limit, line, &crlf)) < 0)
        return -1;
    if (status == 1) {
        strbuf *start = strbuf_new(40);

        smtp_escape(start, line->data, line->len, 30);
        msg_warn("%s: request longer than %d: %s...", state->namaddr->data,
                 var_line_length_limit, start->data);
        strbuf_free(start);
    }
    smtp_cmdline_set(state->cmd, line->data, line->len, status == 0);
    if (!crlf)
        state->cmd->flags |= SMTP_CMDLINE_BARE_LF;
    return 0;
}

int smtpd_read_line(smtpd_state *state, size_t limit, strbuf *line)
{
    int     crlf;
    int     status = read_line(state, limit, line, &crlf);

    if (status == 0)
        strbuf_truncate(line, line->len - (crlf ? 2 : 1));
    return status;
}
