/*
 * sasl_dovecot - client of Dovecot's authentication protocol, version 1.
 * See sasl_dovecot.h for the protocol, the interface and the error model.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "argv.h"
#include "mem.h"
#include "msg.h"
#include "base64.h"
#include "sasl_dovecot.h"
#include "sock.h"
#include "stream.h"

#define DOVECOT_ESCAPE  '\001'
#define DOVECOT_COMMAND_MAX 32

struct sasl_dovecot {
    char   *path;
    int     timeout;
    size_t  response_limit;
    stream *stream;                     /* NULL until connected */
    sasl_dovecot_handshake handshake;   /* the server's mechanisms */
    unsigned long next_id;
    unsigned long pending_id;           /* 0: no conversation in progress */
    strbuf *line;
    strbuf *fail_user;                  /* user= of the last FAIL, or empty */
};

static const struct mech_flag {
    const char *name;
    int     property;
} mech_flags[] = {
    {"anonymous", SASL_PROP_ANONYMOUS},
    {"plaintext", SASL_PROP_PLAINTEXT},
    {"dictionary", SASL_PROP_DICTIONARY},
    {"active", SASL_PROP_ACTIVE},
    {"forward-secrecy", SASL_PROP_FORWARD_SECRECY},
    {"mutual-auth", SASL_PROP_MUTUAL_AUTH},
    {"private", SASL_PROP_PRIVATE},
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* Fields between TABs, empty ones included. The line holds no NUL. */
static argv_t *split_fields(const char *line, size_t len)
{
    argv_t *fields = argv_new(8);
    const char *start = line;
    const char *end = line + len;
    const char *tab;

    while ((tab = memchr(start, '\t', (size_t) (end - start))) != NULL) {
        argv_add_mem(fields, start, (size_t) (tab - start));
        start = tab + 1;
    }
    argv_add_mem(fields, start, (size_t) (end - start));
    return fields;
}

int sasl_dovecot_unescape(const char *text, size_t len, strbuf *out)
{
    strbuf_reset(out);
    for (size_t i = 0; i < len; i++) {
        if (text[i] != DOVECOT_ESCAPE) {
            strbuf_append_char(out, text[i]);
            continue;
        }
        if (++i == len)
            return -1;
        switch (text[i]) {
        case '0': strbuf_append_char(out, 0); break;
        case '1': strbuf_append_char(out, DOVECOT_ESCAPE); break;
        case 't': strbuf_append_char(out, '\t'); break;
        case 'r': strbuf_append_char(out, '\r'); break;
        case 'n':
        case 'l': strbuf_append_char(out, '\n'); break;
        default: strbuf_append_char(out, text[i]); break;
        }
    }
    return 0;
}

/* Dovecot's escaping, for the values we send. */
static void append_escaped(strbuf *out, const char *text)
{
    for (; *text; text++) {
        switch (*text) {
        case DOVECOT_ESCAPE: strbuf_append_str(out, "\0011"); break;
        case '\t': strbuf_append_str(out, "\001t"); break;
        case '\r': strbuf_append_str(out, "\001r"); break;
        case '\n': strbuf_append_str(out, "\001n"); break;
        default: strbuf_append_char(out, *text); break;
        }
    }
}

static int command_name_valid(const char *name)
{
    size_t  len = strlen(name);

    if (len == 0 || len > DOVECOT_COMMAND_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isupper((unsigned char) name[i]) && name[i] != '_' && name[i] != '-')
            return 0;
    return 1;
}

static int digits_only(const char *text, size_t max_len)
{
    size_t  len = strlen(text);

    if (len == 0 || len > max_len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char) text[i]))
            return 0;
    return 1;
}

static int handshake_version(sasl_dovecot_handshake *handshake, const argv_t *fields,
                             strbuf *why)
{
    if (strcmp(fields->items[0], "VERSION") != 0) {
        strbuf_set(why, "handshake does not start with VERSION");
        return -1;
    }
    if (fields->count < 3 || !digits_only(fields->items[1], 9)
        || !digits_only(fields->items[2], 9)) {
        strbuf_set(why, "malformed VERSION line");
        return -1;
    }
    if (strcmp(fields->items[1], "1") != 0) {
        strbuf_printf(why, "unsupported protocol version %s", fields->items[1]);
        return -1;
    }
    handshake->version_seen = 1;
    return 0;
}

static int mech_properties(const argv_t *fields)
{
    int     properties = 0;

    for (size_t i = 2; i < fields->count; i++)
        for (size_t j = 0; j < COUNT(mech_flags); j++)
            if (strcmp(fields->items[i], mech_flags[j].name) == 0)
                properties |= mech_flags[j].property;
    return properties;
}

static int handshake_mech(sasl_dovecot_handshake *handshake, const argv_t *fields,
                          strbuf *why)
{
    const char *name;

    if (fields->count < 2 || !sasl_mech_name_valid(fields->items[1], strlen(fields->items[1]))) {
        strbuf_set(why, "malformed MECH line");
        return -1;
    }
    name = fields->items[1];
    for (size_t i = 0; i < handshake->mech_count; i++)
        if (strcmp(handshake->mechs[i].name, name) == 0)
            return 0;
    if (handshake->mech_count == SASL_DOVECOT_MECH_MAX) {
        strbuf_set(why, "too many mechanisms");
        return -1;
    }
    handshake->mechs[handshake->mech_count].name = xstrdup(name);
    handshake->mechs[handshake->mech_count].properties = mech_properties(fields);
    handshake->mech_count++;
    return 0;
}

static int handshake_fields(sasl_dovecot_handshake *handshake, const argv_t *fields,
                            strbuf *why)
{
    const char *command = fields->items[0];

    if (!handshake->version_seen)
        return handshake_version(handshake, fields, why);
    if (!command_name_valid(command)) {
        strbuf_set(why, "malformed command name in handshake");
        return -1;
    }
    if (strcmp(command, "VERSION") == 0) {
        strbuf_set(why, "duplicate VERSION line");
        return -1;
    }
    if (strcmp(command, "MECH") == 0)
        return handshake_mech(handshake, fields, why);
    if (strcmp(command, "DONE") == 0)
        return 1;
    return 0;                           /* SPID, CUID, COOKIE, extensions */
}

int sasl_dovecot_handshake_line(sasl_dovecot_handshake *handshake, const char *line,
                                size_t len, strbuf *why)
{
    argv_t *fields;
    int     result;

    if (++handshake->lines > SASL_DOVECOT_HANDSHAKE_MAX) {
        strbuf_set(why, "handshake too long");
        return -1;
    }
    if (len > SASL_DOVECOT_LINE_MAX || memchr(line, 0, len) != NULL) {
        strbuf_set(why, "overlong line or NUL byte in handshake");
        return -1;
    }
    fields = split_fields(line, len);
    result = handshake_fields(handshake, fields, why);
    argv_free(fields);
    return result;
}

void sasl_dovecot_handshake_free(sasl_dovecot_handshake *handshake)
{
    for (size_t i = 0; i < handshake->mech_count; i++)
        free(handshake->mechs[i].name);
    memset(handshake, 0, sizeof(*handshake));
}

static int parse_id(const char *text, unsigned long *id)
{
    if (!digits_only(text, 10))
        return -1;
    *id = strtoul(text, NULL, 10);
    return *id > UINT_MAX ? -1 : 0;
}

/* A user name goes into logs and Received: headers: no controls, bounded. */
static int user_name_valid(const strbuf *user)
{
    if (user->len == 0 || user->len > SASL_DOVECOT_USER_MAX)
        return 0;
    for (size_t i = 0; i < user->len; i++)
        if (iscntrl((unsigned char) user->data[i]))
            return 0;
    return 1;
}

static int reply_ok(const argv_t *fields, sasl_dovecot_reply *reply, strbuf *why)
{
    for (size_t i = 2; i < fields->count; i++) {
        const char *field = fields->items[i];

        if (strncmp(field, "user=", 5) != 0)
            continue;
        if (sasl_dovecot_unescape(field + 5, strlen(field + 5), reply->text) < 0
            || !user_name_valid(reply->text)) {
            strbuf_set(why, "invalid user name in OK reply");
            return -1;
        }
        return 0;
    }
    strbuf_set(why, "OK reply without user name");
    return -1;
}

static int reply_cont(const argv_t *fields, sasl_dovecot_reply *reply, strbuf *why)
{
    const char *challenge = fields->count == 3 ? fields->items[2] : NULL;
    strbuf *decoded;
    int     valid;

    if (challenge == NULL) {
        strbuf_set(why, "malformed CONT reply");
        return -1;
    }
    decoded = strbuf_new(64);
    valid = base64_decode(challenge, strlen(challenge), decoded) == 0;
    strbuf_free(decoded);
    if (!valid) {
        strbuf_set(why, "malformed base64 in CONT reply");
        return -1;
    }
    strbuf_set(reply->text, challenge);
    return 0;
}

/*
 * The reason is shown to the SMTP client and logged: controls become '?'.
 * A user name that would not be valid in an OK reply is left out.
 */
static void reply_fail(const argv_t *fields, sasl_dovecot_reply *reply)
{
    strbuf_reset(reply->text);
    for (size_t i = 2; i < fields->count; i++) {
        const char *field = fields->items[i];

        if (strcmp(field, "temp") == 0)
            reply->temporary = 1;
        else if (strncmp(field, "user=", 5) == 0 && reply->user
                 && (sasl_dovecot_unescape(field + 5, strlen(field + 5), reply->user) < 0
                     || !user_name_valid(reply->user)))
            strbuf_reset(reply->user);
        else if (strncmp(field, "reason=", 7) == 0
                 && sasl_dovecot_unescape(field + 7, strlen(field + 7), reply->text) == 0)
            for (size_t j = 0; j < reply->text->len; j++)
                if (iscntrl((unsigned char) reply->text->data[j]))
                    reply->text->data[j] = '?';
    }
}

static int parse_reply_fields(const argv_t *fields, sasl_dovecot_reply *reply, strbuf *why)
{
    const char *command = fields->items[0];

    if (fields->count < 2 || parse_id(fields->items[1], &reply->id) < 0) {
        strbuf_set(why, "malformed reply");
        return -1;
    }
    if (strcmp(command, "OK") == 0) {
        reply->type = SASL_DOVECOT_OK;
        return reply_ok(fields, reply, why);
    }
    if (strcmp(command, "CONT") == 0) {
        reply->type = SASL_DOVECOT_CONT;
        return reply_cont(fields, reply, why);
    }
    if (strcmp(command, "FAIL") == 0) {
        reply->type = SASL_DOVECOT_FAIL;
        reply_fail(fields, reply);
        return 0;
    }
    strbuf_set(why, "unexpected command");
    return -1;
}

int sasl_dovecot_parse_reply(const char *line, size_t len, sasl_dovecot_reply *reply,
                             strbuf *why)
{
    argv_t *fields;
    int     result;

    reply->temporary = 0;
    reply->id = 0;
    strbuf_reset(reply->text);
    if (reply->user)
        strbuf_reset(reply->user);
    if (len > SASL_DOVECOT_LINE_MAX || memchr(line, 0, len) != NULL) {
        strbuf_set(why, "overlong line or NUL byte");
        return -1;
    }
    fields = split_fields(line, len);
    result = parse_reply_fields(fields, reply, why);
    argv_free(fields);
    return result;
}

/* Connection management. */

sasl_dovecot *sasl_dovecot_open(const char *path, int timeout, size_t response_limit)
{
    sasl_dovecot *server = xcalloc(1, sizeof(*server));

    server->path = xstrdup(path);
    server->timeout = timeout;
    server->response_limit = response_limit;
    server->next_id = 1;
    server->line = strbuf_new(256);
    server->fail_user = strbuf_new(32);
    return server;
}

static void disconnect(sasl_dovecot *server)
{
    if (server->stream != NULL)
        stream_close(server->stream);
    server->stream = NULL;
    server->pending_id = 0;
    sasl_dovecot_handshake_free(&server->handshake);
}

/* One line without its LF into server->line; -1 with a reason. */
static int read_line(sasl_dovecot *server, strbuf *why)
{
    switch (stream_get_line(server->stream, server->line, SASL_DOVECOT_LINE_MAX + 1)) {
    case STREAM_LINE_COMPLETE:
        strbuf_truncate(server->line, server->line->len - 1);
        return 0;
    case STREAM_LINE_TOO_LONG:
        strbuf_set(why, "line too long");
        return -1;
    default:
        strbuf_set(why, stream_timed_out(server->stream) ? "timeout" : "lost connection");
        return -1;
    }
}

static int read_handshake(sasl_dovecot *server, strbuf *why)
{
    int     status = 0;

    while (status == 0) {
        if (read_line(server, why) < 0)
            return -1;
        status = sasl_dovecot_handshake_line(&server->handshake, server->line->data,
                                             server->line->len, why);
    }
    return status < 0 ? -1 : 0;
}

static int connect_server(sasl_dovecot *server, strbuf *why)
{
    int     fd;

    if (server->stream != NULL)
        return 0;
    if ((fd = unix_connect(server->path, server->timeout)) < 0) {
        strbuf_printf(why, "Connect to %s failed: %s", server->path, strerror(errno));
        msg_warn("SASL: %s", why->data);
        return -1;
    }
    server->stream = stream_open_fd(fd, server->timeout);
    if (stream_printf(server->stream, "VERSION\t1\t1\nCPID\t%ld\n", (long) getpid()) < 0
        || stream_flush(server->stream) < 0) {
        strbuf_printf(why, "cannot send handshake to %s", server->path);
    } else if (read_handshake(server, why) == 0) {
        return 0;
    }
    msg_warn("SASL: authentication server %s: %s", server->path, why->data);
    disconnect(server);
    return -1;
}

static int mech_allowed(const sasl_dovecot_mech *mech, int security_flags,
                        const sasl_filter *filter)
{
    return sasl_security_allows(security_flags, mech->properties)
        && sasl_filter_allows(filter, mech->name);
}

int sasl_dovecot_mechanisms(sasl_dovecot *server, int security_flags,
                            const sasl_filter *filter, strbuf *list, strbuf *why)
{
    strbuf_reset(list);
    if (connect_server(server, why) < 0)
        return -1;
    for (size_t i = 0; i < server->handshake.mech_count; i++) {
        const sasl_dovecot_mech *mech = &server->handshake.mechs[i];

        if (!mech_allowed(mech, security_flags, filter))
            continue;
        if (list->len)
            strbuf_append_char(list, ' ');
        strbuf_append_str(list, mech->name);
    }
    return 0;
}

static const sasl_dovecot_mech *find_mech(const sasl_dovecot *server, const char *name)
{
    for (size_t i = 0; i < server->handshake.mech_count; i++)
        if (strcasecmp(server->handshake.mechs[i].name, name) == 0)
            return &server->handshake.mechs[i];
    return NULL;
}

/* The client's base64: strict syntax, within the response limit. */
static int client_data_valid(const sasl_dovecot *server, const char *text)
{
    size_t  len = strlen(text);
    strbuf *decoded;
    int     valid;

    if (len > server->response_limit)
        return 0;
    decoded = strbuf_new(len);
    valid = base64_decode(text, len, decoded) == 0;
    explicit_bzero(decoded->data, decoded->cap);
    strbuf_free(decoded);
    return valid;
}

static enum sasl_status protocol_error(sasl_dovecot *server, const char *why, strbuf *text)
{
    msg_warn("SASL: authentication server %s: %s", server->path, why);
    strbuf_printf(text, "authentication server problem: %s", why);
    disconnect(server);
    return SASL_STATUS_TEMP;
}

static enum sasl_status read_reply(sasl_dovecot *server, strbuf *text)
{
    strbuf *why = strbuf_new(64);
    sasl_dovecot_reply reply = {.text = text,.user = server->fail_user };
    enum sasl_status status;

    if (read_line(server, why) < 0
        || sasl_dovecot_parse_reply(server->line->data, server->line->len, &reply, why) < 0) {
        status = protocol_error(server, why->data, text);
    } else if (reply.id != server->pending_id) {
        status = protocol_error(server, "reply for another request", text);
    } else if (reply.type == SASL_DOVECOT_CONT) {
        status = SASL_STATUS_CONTINUE;
    } else {
        server->pending_id = 0;
        status = reply.type == SASL_DOVECOT_OK ? SASL_STATUS_OK :
            reply.temporary ? SASL_STATUS_TEMP : SASL_STATUS_FAIL;
    }
    strbuf_free(why);
    return status;
}

static enum sasl_status send_line(sasl_dovecot *server, const strbuf *line, strbuf *text)
{
    if (stream_write(server->stream, line->data, line->len) < 0
        || stream_flush(server->stream) < 0)
        return protocol_error(server, "cannot send request", text);
    return read_reply(server, text);
}

static void append_auth_options(strbuf *line, const sasl_dovecot_request *request)
{
    strbuf_append_str(line, "\tservice=");
    append_escaped(line, request->service ? request->service : "smtp");
    strbuf_append_str(line, "\tnologin");
    if (request->local_address) {
        strbuf_append_str(line, "\tlip=");
        append_escaped(line, request->local_address);
    }
    if (request->remote_address) {
        strbuf_append_str(line, "\trip=");
        append_escaped(line, request->remote_address);
    }
    if (request->tls_active)
        strbuf_append_str(line, "\tsecured");
    if (request->tls_client_verified)
        strbuf_append_str(line, "\tvalid-client-cert");
}

static enum sasl_status send_auth(sasl_dovecot *server, const sasl_dovecot_mech *mech,
                                  const sasl_dovecot_request *request, strbuf *text)
{
    strbuf *line = strbuf_new(256);
    const char *initial = request->initial_response;
    enum sasl_status status;

    server->pending_id = server->next_id;
    server->next_id = server->next_id == UINT_MAX ? 1 : server->next_id + 1;
    strbuf_printf(line, "AUTH\t%lu\t%s", server->pending_id, mech->name);
    append_auth_options(line, request);
    if (initial != NULL) {
        strbuf_append_str(line, "\tresp=");
        strbuf_append_str(line, strcmp(initial, "=") == 0 ? "" : initial);
    }
    strbuf_append_char(line, '\n');
    status = send_line(server, line, text);
    explicit_bzero(line->data, line->cap);
    strbuf_free(line);
    return status;
}

enum sasl_status sasl_dovecot_start(sasl_dovecot *server, const sasl_dovecot_request *request,
                                    strbuf *text)
{
    const sasl_dovecot_mech *mech;
    const char *initial = request->initial_response;

    strbuf_reset(text);
    strbuf_reset(server->fail_user);
    if (server->pending_id)
        sasl_dovecot_abort(server);
    if (connect_server(server, text) < 0)
        return SASL_STATUS_TEMP;
    if ((mech = find_mech(server, request->mechanism)) == NULL
        || !mech_allowed(mech, request->security_flags, request->filter)) {
        strbuf_set(text, "Unsupported authentication mechanism");
        return SASL_STATUS_BAD_MECH;
    }
    if (initial != NULL && strcmp(initial, "=") != 0 && !client_data_valid(server, initial)) {
        strbuf_set(text, "Invalid base64 data in initial response");
        return SASL_STATUS_BAD_DATA;
    }
    return send_auth(server, mech, request, text);
}

enum sasl_status sasl_dovecot_continue(sasl_dovecot *server, const char *response, strbuf *text)
{
    strbuf *line;
    enum sasl_status status;

    strbuf_reset(text);
    if (server->pending_id == 0 || server->stream == NULL) {
        strbuf_set(text, "no authentication in progress");
        return SASL_STATUS_TEMP;
    }
    if (!client_data_valid(server, response)) {
        strbuf_set(text, "Invalid base64 data in continued response");
        return SASL_STATUS_BAD_DATA;
    }
    line = strbuf_new(strlen(response) + 32);
    strbuf_printf(line, "CONT\t%lu\t%s\n", server->pending_id, response);
    status = send_line(server, line, text);
    explicit_bzero(line->data, line->cap);
    strbuf_free(line);
    return status;
}

const char *sasl_dovecot_failed_user(const sasl_dovecot *server)
{
    return server->fail_user->len ? server->fail_user->data : NULL;
}

void sasl_dovecot_abort(sasl_dovecot *server)
{
    if (server->pending_id)
        disconnect(server);
}

void sasl_dovecot_close(sasl_dovecot *server)
{
    if (server == NULL)
        return;
    disconnect(server);
    strbuf_free(server->line);
    strbuf_free(server->fail_user);
    free(server->path);
    free(server);
}
