/*
 * Unit tests for the service clients (rewrite_clnt, anvil_clnt,
 * cleanup_clnt) against fake servers on real UNIX sockets in a scratch
 * queue directory, where mail_connect() looks for them.
 */
#include "unit.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "anvil_clnt.h"
#include "attr.h"
#include "bounce_clnt.h"
#include "cleanup_clnt.h"
#include "flush_clnt.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "record.h"
#include "rewrite_clnt.h"
#include "sock.h"

static char queue_root[300];

static void setup(void)
{
    snprintf(queue_root, sizeof(queue_root), "%s/clientq", unit_temp_dir());
    mkdir(queue_root, 0700);
    var_queue_directory = queue_root;
    var_ipc_timeout = 5;
    var_ipc_idle = 100;
    var_trigger_timeout = 5;
    mail_proto_set_root(queue_root);
    for (const char *const *d = (const char *const[]) {"private", "public", NULL}; *d; d++) {
        char    path[400];

        snprintf(path, sizeof(path), "%s/%s", queue_root, *d);
        mkdir(path, 0700);
    }
}

typedef void (*serve_fn)(stream *client, int connection);

/* Forks a server on class/service that handles `connections` clients. */
static pid_t fake_server(const char *class, const char *service, int connections, serve_fn serve)
{
    char    path[400];
    int     listener;
    pid_t   pid;

    snprintf(path, sizeof(path), "%s/%s/%s", queue_root, class, service);
    listener = unix_listen(path, 10, 0600);
    assert_true(listener >= 0);
    if ((pid = fork()) == 0) {
        for (int i = 0; i < connections; i++) {
            int     fd = accept(listener, NULL, NULL);
            stream *s = stream_open_fd(fd, 5);

            serve(s, i);
            stream_close(s);
        }
        _exit(0);
    }
    close(listener);
    return pid;
}

static void wait_server(pid_t pid)
{
    int     status;

    waitpid(pid, &status, 0);
    assert_int_equal(status, 0);
}

/* trivial-rewrite: first connection answers one request then hangs up. */
static void serve_rewrite(stream *s, int connection)
{
    strbuf *request = strbuf_new(16);
    strbuf *rule = strbuf_new(16);
    strbuf *address = strbuf_new(16);
    strbuf *sender = strbuf_new(16);
    attr_spec spec[] = {
        ATTR_STR("request", request), ATTR_OPT_STR("rule", rule),
        ATTR_STR("address", address), ATTR_OPT_STR("sender", sender), ATTR_END,
    };

    while (attr_scan(s, 0, spec) > 0) {
        if (strcmp(request->data, "rewrite") == 0) {
            attr_put_int(s, "flags", 0);
            strbuf_append_str(address, strcmp(rule->data, "local") == 0 ? "@origin" : "");
            attr_put_str(s, "address", address->data);
        } else {
            attr_put_int(s, "flags", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL);
            attr_put_str(s, "transport", "local");
            attr_put_str(s, "nexthop", "mx.example.test");
            attr_put_str(s, "recipient", address->data);
        }
        attr_end(s);
        if (connection == 0)
            break;
    }
    strbuf_free(request);
    strbuf_free(rule);
    strbuf_free(address);
    strbuf_free(sender);
}

static void test_rewrite_and_resolve_with_reconnect(void **state)
{
    strbuf *result = strbuf_new(16);
    resolve_reply reply;
    pid_t   pid;

    setup();
    pid = fake_server("private", "rewrite", 2, serve_rewrite);
    assert_int_equal(rewrite_clnt(REWRITE_LOCAL, "user", result), 0);
    assert_string_equal(result->data, "user@origin");
    resolve_reply_init(&reply);
    /* The server hung up after the first request: the client reconnects. */
    assert_int_equal(resolve_clnt("s@x", "user@mx.example.test", &reply), 0);
    assert_int_equal(reply.flags, RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL);
    assert_string_equal(reply.transport->data, "local");
    assert_string_equal(reply.recipient->data, "user@mx.example.test");
    assert_int_equal(rewrite_clnt(REWRITE_REMOTE, "a@b", result), 0);
    assert_string_equal(result->data, "a@b");
    rewrite_clnt_disconnect();
    wait_server(pid);
    resolve_reply_free(&reply);
    strbuf_free(result);
}

static void serve_anvil(stream *s, int connection)
{
    strbuf *request = strbuf_new(16);
    strbuf *ident = strbuf_new(16);
    attr_spec spec[] = {ATTR_STR("request", request), ATTR_STR("ident", ident), ATTR_END};
    int     count = 0;

    while (attr_scan(s, 0, spec) > 0) {
        count += strcmp(request->data, ANVIL_CONNECT) == 0;
        attr_put_int(s, "status", 0);
        attr_put_int(s, "count", count);
        attr_put_int(s, "rate", strcmp(ident->data, "smtp:192.0.2.1") == 0 ? 7 : 0);
        attr_end(s);
    }
    strbuf_free(request);
    strbuf_free(ident);
}

static void test_anvil_counts_and_unreachable(void **state)
{
    strbuf *ident = strbuf_new(16);
    int     count = -1;
    int     rate = -1;
    pid_t   pid;

    setup();
    anvil_clnt_ident(ident, "smtp", "192.0.2.1");
    assert_string_equal(ident->data, "smtp:192.0.2.1");
    assert_int_equal(anvil_clnt_request(ANVIL_CONNECT, ident->data, &count, &rate), -1);
    pid = fake_server("private", "anvil", 1, serve_anvil);
    assert_int_equal(anvil_clnt_request(ANVIL_CONNECT, ident->data, &count, &rate), 0);
    assert_int_equal(count, 1);
    assert_int_equal(rate, 7);
    assert_int_equal(anvil_clnt_request(ANVIL_CONNECT, ident->data, &count, NULL), 0);
    assert_int_equal(count, 2);
    anvil_clnt_disconnect();
    wait_server(pid);
    strbuf_free(ident);
}

/* cleanup: connection 0 queues the message; connection 1 hangs up early. */
static void serve_cleanup(stream *s, int connection)
{
    int     flags = 0;
    attr_spec spec[] = {ATTR_INT("flags", &flags), ATTR_END};
    strbuf *data = strbuf_new(32);
    int     type;
    int     records = 0;

    if (attr_scan(s, 0, spec) < 0)
        _exit(3);
    attr_put_int(s, "status", 0);
    attr_put_str(s, "queue_id", connection == 0 ? "C0FFEE01" : "C0FFEE02");
    attr_end(s);
    if (connection == 1)
        return;
    while ((type = rec_get(s, data, REC_DATA_MAX)) > 0 && type != REC_TYPE_END)
        records++;
    attr_put_int(s, "status", records == 5 && flags == CLEANUP_FLAG_FILTER ? 0
                 : CLEANUP_STAT_BAD);
    attr_put_str(s, "reason", "2.0.0 Ok");
    attr_end(s);
    strbuf_free(data);
}

static void test_cleanup_handover(void **state)
{
    strbuf *why = strbuf_new(32);
    cleanup_clnt *cl;
    const char *dsn;
    const char *text;
    pid_t   pid;

    setup();
    assert_null(cleanup_clnt_open(0, why));
    assert_non_null(strstr(why->data, "connect to cleanup service"));
    pid = fake_server("public", "cleanup", 2, serve_cleanup);
    cl = cleanup_clnt_open(CLEANUP_FLAG_FILTER, why);
    assert_non_null(cl);
    assert_string_equal(cl->queue_id, "C0FFEE01");
    rec_put_str(cl->stream, REC_TYPE_SENDER, "s@x");
    rec_put_str(cl->stream, REC_TYPE_RCPT, "r@y");
    rec_put(cl->stream, REC_TYPE_MESSAGE, "", 0);
    rec_put_str(cl->stream, REC_TYPE_LINE, "hi");
    rec_put(cl->stream, REC_TYPE_EXTRACTED, "", 0);
    rec_put(cl->stream, REC_TYPE_END, "", 0);
    assert_int_equal(cleanup_clnt_close(cl, why), CLEANUP_STAT_OK);
    assert_string_equal(why->data, "2.0.0 Ok");
    cl = cleanup_clnt_open(0, why);
    assert_non_null(cl);
    rec_put_str(cl->stream, REC_TYPE_SENDER, "s@x");
    assert_int_equal(cleanup_clnt_close(cl, why), CLEANUP_STAT_WRITE);
    assert_non_null(strstr(why->data, "lost connection"));
    wait_server(pid);
    cleanup_stat_detail(CLEANUP_STAT_SIZE | CLEANUP_STAT_WRITE, &dsn, &text);
    assert_string_equal(dsn, "4.3.0");          /* the temporary problem wins */
    cleanup_stat_detail(CLEANUP_STAT_CONT, &dsn, &text);
    assert_string_equal(dsn, "5.7.1");
    assert_string_equal(text, "message content rejected");
    strbuf_free(why);
}

static void serve_bounce(stream *s, int connection)
{
    strbuf *text[5];
    int     smtputf8 = -1;
    int     ret = -1;
    static const char *const names[] = {"request", "queue_name", "queue_id", "sender",
                                        "dsn_envid"};
    attr_spec spec[10];
    int     ok;

    for (int i = 0; i < 5; i++) {
        text[i] = strbuf_new(16);
        spec[i] = (attr_spec) ATTR_STR(names[i], text[i]);
    }
    spec[5] = (attr_spec) ATTR_OPT_STR("encoding", strbuf_new(8));
    spec[6] = (attr_spec) ATTR_INT("smtputf8", &smtputf8);
    spec[7] = (attr_spec) ATTR_INT("dsn_ret", &ret);
    spec[8] = (attr_spec) ATTR_END;
    ok = attr_scan(s, 0, spec) > 0 && strcmp(text[0]->data, BOUNCE_FLUSH) == 0
        && strcmp(text[1]->data, "incoming") == 0 && strcmp(text[2]->data, "ABCDEF99") == 0
        && strcmp(text[3]->data, "") == 0 && ret == 2;
    attr_put_int(s, "status", ok ? 0 : 1);
    attr_end(s);
}

static void test_bounce_request(void **state)
{
    bounce_message msg = {.queue_name = "incoming",.queue_id = "ABCDEF99",.sender = "",
        .dsn_ret = 2 };
    pid_t   pid;

    setup();
    assert_int_equal(bounce_clnt_request("bounce", BOUNCE_FLUSH, &msg), -1);   /* no server */
    pid = fake_server("private", "bounce", 2, serve_bounce);
    assert_int_equal(bounce_clnt_request("bounce", BOUNCE_FLUSH, &msg), 0);
    msg.dsn_ret = 1;                    /* the fake server refuses anything else */
    assert_int_equal(bounce_clnt_request("bounce", BOUNCE_FLUSH, &msg), -1);
    wait_server(pid);
}

static void serve_flush(stream *s, int connection)
{
    strbuf *request = strbuf_new(16);
    strbuf *site = strbuf_new(16);
    attr_spec spec[] = {ATTR_STR("request", request), ATTR_OPT_STR("site", site), ATTR_END};

    attr_scan(s, 0, spec);
    attr_put_int(s, "status", strcmp(site->data, "example.net") == 0 ? FLUSH_STAT_OK
                 : FLUSH_STAT_UNKNOWN);
    attr_end(s);
}

static void test_flush_request(void **state)
{
    pid_t   pid;

    setup();
    assert_int_equal(flush_clnt_send_site("example.net"), FLUSH_STAT_FAIL);
    pid = fake_server("public", "flush", 2, serve_flush);
    assert_int_equal(flush_clnt_send_site("example.net"), FLUSH_STAT_OK);
    assert_int_equal(flush_clnt_send_site("other.example"), FLUSH_STAT_UNKNOWN);
    wait_server(pid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewrite_and_resolve_with_reconnect),
        cmocka_unit_test(test_anvil_counts_and_unreachable),
        cmocka_unit_test(test_cleanup_handover),
        cmocka_unit_test(test_bounce_request),
        cmocka_unit_test(test_flush_request),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
