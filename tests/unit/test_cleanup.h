/*
 * test_cleanup.h - the harness shared by the cleanup unit tests: a scratch
 * queue directory, main.cf defaults, a fake trivial-rewrite, and one
 * cleanup conversation run over a socketpair with a forked client.
 *
 *   cleanup_test_setup()          once per test: queue, parameters, fakes,
 *                                 log file; tables reopened from var_*
 *   msg_begin(&m, flags)          builds a request: records are added with
 *   msg_rec(&m, type, text)       msg_rec(); msg_lines() adds content lines
 *   run_cleanup(&m, &result)      runs cleanup_session() and reads both
 *                                 replies (queue ID, status, reason)
 *   read_queue_file(...)          the strict reader on the committed file
 *   log_text()                    what cleanup logged in this test
 *
 * The fake rewrite appends "@example.test" to a bare local part (local
 * context) or "@remote.example.test" with remote_header_rewrite_domain;
 * the fake resolver calls example.test and mx.example.test local.
 */
#ifndef TEST_CLEANUP_H
#define TEST_CLEANUP_H

#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "attr.h"
#include "../../src/cleanup/cleanup.h"
#include "config.h"
#include "mail_params.h"
#include "msg.h"
#include "queue_envelope.h"
#include "record.h"

typedef struct test_msg {
    strbuf *bytes;                      /* the whole request as sent */
} test_msg;

typedef struct test_result {
    int     open_status;
    char    queue_id[64];
    int     status;
    char    reason[512];
    int     replied;
} test_result;

static char test_log_path[400];
static int fake_rewrite_calls;
static int fake_rewrite_fails;
static int fake_resolve_calls;

static int fake_rewrite(const char *rule, const char *address, strbuf *result)
{
    fake_rewrite_calls++;
    if (fake_rewrite_fails)
        return -1;
    strbuf_set(result, address);
    if (*address && strchr(address, '@') == NULL)
        strbuf_append_str(result, strcmp(rule, "local") == 0 ? "@example.test"
                          : "@remote.example.test");
    return 0;
}

static int fake_resolve(const char *sender, const char *address, resolve_reply *reply)
{
    const char *at = strrchr(address, '@');

    (void) sender;
    fake_resolve_calls++;
    reply->flags = RESOLVE_CLASS_DEFAULT;
    if (at && (strcasecmp(at + 1, "example.test") == 0
               || strcasecmp(at + 1, "mx.example.test") == 0))
        reply->flags = RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL;
    strbuf_set(reply->transport, "smtp");
    strbuf_set(reply->recipient, address);
    return 0;
}

static void empty_dir(const char *path)
{
    DIR    *dir = opendir(path);
    struct dirent *entry;
    char    name[600];

    if (dir == NULL) {
        mkdir(path, 0700);
        return;
    }
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        snprintf(name, sizeof(name), "%s/%s", path, entry->d_name);
        unlink(name);
    }
    closedir(dir);
}

static int dir_count(const char *path)
{
    DIR    *dir = opendir(path);
    struct dirent *entry;
    int     count = 0;

    if (dir == NULL)
        return -1;
    while ((entry = readdir(dir)) != NULL)
        count += entry->d_name[0] != '.';
    closedir(dir);
    return count;
}

/* Parameters tests change: reset to their defaults before each test. */
static const char *const test_params[] = {
    "canonical_maps", "sender_canonical_maps", "recipient_canonical_maps", "canonical_classes",
    "masquerade_domains", "masquerade_exceptions", "masquerade_classes", "virtual_alias_maps",
    "always_bcc", "sender_bcc_maps", "recipient_bcc_maps", "recipient_delimiter",
    "remote_header_rewrite_domain", "header_checks", "mime_header_checks",
    "nested_header_checks", "body_checks", "undisclosed_recipients_header",
    "always_add_missing_headers", "disable_mime_input_processing", NULL,
};

static void cleanup_test_setup(void)
{
    static int configured;
    char    conf_dir[400];
    int     fd;

    if (!configured++) {
        snprintf(conf_dir, sizeof(conf_dir), "%s/etc", unit_temp_dir());
        mkdir(conf_dir, 0700);
        unit_temp_file("etc/main.cf", "myhostname = mx.example.test\n"
                       "mydomain = example.test\nmyorigin = $mydomain\n");
        config_init(conf_dir);
        config_set_override("queue_directory", ".");
        unit_enter_queue();
        snprintf(test_log_path, sizeof(test_log_path), "%s/cleanup.log", unit_temp_dir());
        msg_open("postfix/cleanup", 0);
    }
    for (const char *const *name = test_params; *name; name++) {
        const param_def *param = param_find(*name);

        config_set_override(*name, param ? param_default_text(param) : "");
    }
    params_load();
    for (const char *const *q = (const char *const[]) {"incoming", "hold", "bounce", "private",
                                                        "public", NULL}; *q; q++)
        empty_dir(*q);
    fd = open(test_log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    assert_true(fd >= 0);
    msg_logfile_use_fd(fd);
    var_ipc_timeout = 5;
    var_trigger_timeout = 1;
    fake_rewrite_calls = fake_rewrite_fails = fake_resolve_calls = 0;
    cleanup_svc.rewrite = fake_rewrite;
    cleanup_svc.resolve = fake_resolve;
    cleanup_tables_open();
}

static const char *log_text(void)
{
    static char text[65536];
    int     fd = open(test_log_path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;

    if (fd >= 0)
        close(fd);
    text[n > 0 ? n : 0] = 0;
    return text;
}

static void msg_begin(test_msg *m, int flags)
{
    stream *s;
    int     fds[2];

    m->bytes = strbuf_new(1024);
    /* Build the flags frame with the real framing code, into a pipe. */
    assert_int_equal(pipe(fds), 0);
    s = stream_open_fd(fds[1], 5);
    attr_put_int(s, "flags", flags);
    attr_end(s);
    stream_close(s);
    {
        char    buf[256];
        ssize_t n = read(fds[0], buf, sizeof(buf));

        assert_true(n > 0);
        strbuf_append(m->bytes, buf, (size_t) n);
    }
    close(fds[0]);
}

static void msg_rec_mem(test_msg *m, int type, const char *data, size_t len)
{
    size_t  rest = len;

    strbuf_append_char(m->bytes, type);
    while (rest >= 0x80) {
        strbuf_append_char(m->bytes, (int) ((rest & 0x7f) | 0x80));
        rest >>= 7;
    }
    strbuf_append_char(m->bytes, (int) rest);
    strbuf_append(m->bytes, data, len);
}

static void msg_rec(test_msg *m, int type, const char *text)
{
    msg_rec_mem(m, type, text, strlen(text));
}

/* Content lines separated by '\n'; the text need not end with one. */
static void msg_lines(test_msg *m, const char *text)
{
    for (;;) {
        const char *nl = strchr(text, '\n');

        if (nl == NULL) {
            if (*text)
                msg_rec(m, 'L', text);
            return;
        }
        msg_rec_mem(m, 'L', text, (size_t) (nl - text));
        text = nl + 1;
    }
}

/* A whole local submission: sender, recipients ("a b c"), content. */
static void msg_simple(test_msg *m, int flags, const char *sender, const char *rcpts,
                       const char *content)
{
    argv_t *list = argv_split(rcpts, " ");

    msg_begin(m, flags);
    msg_rec(m, 'S', sender);
    for (size_t i = 0; i < list->count; i++)
        msg_rec(m, 'R', list->items[i]);
    msg_rec(m, 'M', "");
    msg_lines(m, content);
    msg_rec(m, 'X', "");
    msg_rec(m, 'E', "");
    argv_free(list);
}

static void read_reply(stream *s, test_result *r)
{
    strbuf *queue_id = strbuf_new(32);
    strbuf *reason = strbuf_new(64);
    attr_spec open_spec[] = {
        ATTR_INT("status", &r->open_status), ATTR_STR("queue_id", queue_id), ATTR_END,
    };
    attr_spec end_spec[] = {
        ATTR_INT("status", &r->status), ATTR_OPT_STR("reason", reason), ATTR_END,
    };

    r->replied = 0;
    r->status = -1;
    if (attr_scan(s, 0, open_spec) > 0) {
        snprintf(r->queue_id, sizeof(r->queue_id), "%s", queue_id->data);
        if (attr_scan(s, 0, end_spec) > 0)
            r->replied = 1;
    }
    snprintf(r->reason, sizeof(r->reason), "%s", reason->data);
    strbuf_free(queue_id);
    strbuf_free(reason);
}

/* Runs one session; `cut` > 0 closes the client after that many bytes. */
static void run_cleanup_cut(test_msg *m, test_result *r, size_t cut)
{
    int     fds[2];
    pid_t   pid;
    int     status;
    stream *server;
    stream *client;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    if ((pid = fork()) == 0) {
        size_t  len = cut ? cut : m->bytes->len;

        close(fds[1]);
        if (write(fds[0], m->bytes->data, len) != (ssize_t) len)
            _exit(1);
        if (cut)
            shutdown(fds[0], SHUT_WR);
        _exit(0);
    }
    server = stream_open_fd(fds[1], 5);
    client = stream_open_fd(fds[0], 5);
    cleanup_session(server);
    stream_close(server);
    read_reply(client, r);
    stream_close(client);
    waitpid(pid, &status, 0);
    assert_int_equal(status, 0);
    strbuf_free(m->bytes);
}

static void run_cleanup(test_msg *m, test_result *r)
{
    run_cleanup_cut(m, r, 0);
}

/* Opens a committed queue file and reads it strictly; returns the stream. */
static stream *read_queue_file(const char *queue, const char *id, queue_envelope *env)
{
    strbuf *why = strbuf_new(64);
    strbuf *path = strbuf_new(64);
    struct stat st;
    stream *s;
    int     fd;

    queue_path(path, queue, id);
    fd = open(path->data, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_mode & 07777, QUEUE_MODE_COMPLETE);
    s = stream_open_fd(fd, 0);
    if (queue_envelope_read(s, env, QUEUE_READ_CONTENT, why) < 0)
        fail_msg("queue file %s: %s", path->data, why->data);
    strbuf_free(why);
    strbuf_free(path);
    return s;
}

/* The content of a queue file as text, one line per L record. */
static char *queue_content(stream *s, const queue_envelope *env)
{
    strbuf *text = strbuf_new(1024);
    strbuf *data = strbuf_new(256);
    int     type;

    assert_int_equal(queue_content_start(s, env), 0);
    while ((type = queue_content_next(s, data)) == REC_TYPE_LINE || type == REC_TYPE_PARTIAL) {
        strbuf_append(text, data->data, data->len);
        if (type == REC_TYPE_LINE)
            strbuf_append_char(text, '\n');
    }
    assert_int_equal(type, REC_TYPE_EXTRACTED);
    strbuf_free(data);
    return strbuf_steal(text);
}

#define LOCAL_FLAGS (CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_BOUNCE | CLEANUP_FLAG_FILTER \
                     | CLEANUP_FLAG_MAP_OK)
#define SMTPD_FLAGS (CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MAP_OK)

#endif
