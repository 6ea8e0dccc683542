/*
 * smtpd - the SMTP server, first seed: it proves the daemon skeleton.
 *
 * One connection per call (single_server_main). The server greets with
 * "220 $smtpd_banner" and answers EHLO and HELO (250 $myhostname), NOOP and
 * RSET (250 2.0.0 Ok), QUIT (221 2.0.0 Bye) and nothing else
 * ("500 5.5.2 Error: command not recognized"). Command lines are read at
 * most line_length_limit bytes at a time; the rest of a longer line is
 * discarded unseen. Each read waits at most smtpd_timeout, then the client
 * gets "421 4.4.2 $myhostname Error: timeout exceeded".
 *
 * Log lines follow Postfix: "connect from unknown[ADDR]", "timeout after
 * CMD from ...", "lost connection after CMD from ...", and "disconnect from
 * unknown[ADDR] ehlo=1 quit=1 commands=2" with per-command counts
 * ("unknown=0/1 commands=2/3" when some failed).
 */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "mail_params.h"
#include "msg.h"
#include "server.h"
#include "sock.h"
#include "strbuf.h"
#include "stream.h"

typedef struct smtpd_state smtpd_state;

typedef struct smtpd_command {
    const char *verb;                   /* as logged after "timeout after" */
    const char *counter;                /* as counted in the disconnect line */
    int     (*action)(smtpd_state *state, int argc);    /* 0 ok, -1 error reply */
} smtpd_command;

#define SMTPD_COMMAND_COUNT  5
#define SMTPD_UNKNOWN        SMTPD_COMMAND_COUNT        /* counter slot */

struct smtpd_state {
    stream *client;
    strbuf *addr;                       /* client address, for log lines */
    const char *where;                  /* last command, for log lines */
    int     quit;
    int     ok[SMTPD_COMMAND_COUNT + 1];
    int     total[SMTPD_COMMAND_COUNT + 1];
};

static void reply(smtpd_state *state, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void reply(smtpd_state *state, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    stream_vprintf(state->client, fmt, ap);
    va_end(ap);
    stream_puts(state->client, "\r\n");
    stream_flush(state->client);
}

static int helo_cmd(smtpd_state *state, int argc)
{
    if (argc != 2) {
        reply(state, "501 Syntax: HELO hostname");
        return -1;
    }
    reply(state, "250 %s", var_myhostname);
    return 0;
}

static int ehlo_cmd(smtpd_state *state, int argc)
{
    if (argc != 2) {
        reply(state, "501 Syntax: EHLO hostname");
        return -1;
    }
    reply(state, "250 %s", var_myhostname);
    return 0;
}

static int noop_cmd(smtpd_state *state, int argc)
{
    if (argc != 1) {
        reply(state, "501 5.5.4 Syntax: NOOP");
        return -1;
    }
    reply(state, "250 2.0.0 Ok");
    return 0;
}

static int rset_cmd(smtpd_state *state, int argc)
{
    if (argc != 1) {
        reply(state, "501 5.5.4 Syntax: RSET");
        return -1;
    }
    reply(state, "250 2.0.0 Ok");
    return 0;
}

static int quit_cmd(smtpd_state *state, int argc)
{
    reply(state, "221 2.0.0 Bye");
    state->quit = 1;
    return 0;
}

static const smtpd_command commands[SMTPD_COMMAND_COUNT] = {
    {"HELO", "helo", helo_cmd}, {"EHLO", "ehlo", ehlo_cmd}, {"NOOP", "noop", noop_cmd},
    {"RSET", "rset", rset_cmd}, {"QUIT", "quit", quit_cmd},
};

/* Counts the white-space separated words of a command line. */
static int word_count(const char *text)
{
    int     count = 0;

    while (*text) {
        while (isspace((unsigned char) *text))
            text++;
        if (*text == 0)
            break;
        count++;
        while (*text && !isspace((unsigned char) *text))
            text++;
    }
    return count;
}

static void execute(smtpd_state *state, const char *line)
{
    size_t  verb_len = strcspn(line, " \t");
    int     argc = word_count(line);

    for (int i = 0; i < SMTPD_COMMAND_COUNT; i++) {
        if (strlen(commands[i].verb) == verb_len
            && strncasecmp(line, commands[i].verb, verb_len) == 0) {
            state->where = commands[i].verb;
            state->total[i]++;
            if (commands[i].action(state, argc) == 0)
                state->ok[i]++;
            return;
        }
    }
    state->where = "UNKNOWN";
    state->total[SMTPD_UNKNOWN]++;
    reply(state, argc == 0 ? "500 5.5.2 Error: bad syntax"
          : "500 5.5.2 Error: command not recognized");
}

/* Reads one command line (without CR LF) into line; -1 at EOF or timeout. */
static int read_command(smtpd_state *state, strbuf *line)
{
    strbuf *excess;

    switch (stream_get_line(state->client, line, (size_t) var_line_length_limit)) {
    case STREAM_LINE_TOO_LONG:
        excess = strbuf_new(1024);
        while (stream_get_line(state->client, excess, 1024) == STREAM_LINE_TOO_LONG)
            /* discard */ ;
        strbuf_free(excess);
        break;
    case STREAM_LINE_COMPLETE:
        strbuf_truncate(line, line->len - 1);
        if (strbuf_last(line) == '\r')
            strbuf_truncate(line, line->len - 1);
        break;
    default:
        return -1;
    }
    if (memchr(line->data, 0, line->len))
        strbuf_truncate(line, strlen(line->data));
    return 0;
}

static void log_disconnect(smtpd_state *state)
{
    strbuf *text = strbuf_new(128);
    int     ok = 0;
    int     total = 0;

    for (int i = 0; i <= SMTPD_COMMAND_COUNT; i++) {
        const char *name = i == SMTPD_UNKNOWN ? "unknown" : commands[i].counter;

        if (state->total[i] == 0)
            continue;
        if (state->ok[i] == state->total[i])
            strbuf_append_printf(text, " %s=%d", name, state->ok[i]);
        else
            strbuf_append_printf(text, " %s=%d/%d", name, state->ok[i], state->total[i]);
        ok += state->ok[i];
        total += state->total[i];
    }
    if (ok == total)
        strbuf_append_printf(text, " commands=%d", total);
    else
        strbuf_append_printf(text, " commands=%d/%d", ok, total);
    msg_info("disconnect from unknown[%s]%s", state->addr->data, text->data);
    strbuf_free(text);
}

static void client_address(stream *client, strbuf *addr)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getpeername(client->fd, (struct sockaddr *) &ss, &len) < 0
        || sock_addr_text((struct sockaddr *) &ss, len, addr, NULL) < 0)
        strbuf_set(addr, "unknown");
}

static void smtpd_service(stream *client, const server_ctx *ctx)
{
    smtpd_state state = {.client = client, .where = "CONNECT"};
    strbuf *line = strbuf_new(256);

    state.addr = strbuf_new(64);
    client_address(client, state.addr);
    msg_info("connect from unknown[%s]", state.addr->data);
    stream_set_timeout(client, var_smtpd_timeout);
    reply(&state, "220 %s", var_smtpd_banner);
    while (!state.quit && stream_status(client) == 0) {
        if (read_command(&state, line) < 0) {
            if (stream_timed_out(client)) {
                msg_info("timeout after %s from unknown[%s]", state.where, state.addr->data);
                stream_clear_status(client);
                reply(&state, "421 4.4.2 %s Error: timeout exceeded", var_myhostname);
            } else {
                msg_info("lost connection after %s from unknown[%s]", state.where,
                         state.addr->data);
            }
            break;
        }
        execute(&state, line->data);
    }
    log_disconnect(&state);
    strbuf_free(line);
    strbuf_free(state.addr);
}

int main(int argc, char **argv)
{
    static const server_spec spec = {.service = smtpd_service};

    single_server_main(argc, argv, &spec);
}
