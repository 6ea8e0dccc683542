/*
 * Unit tests for the delivery request (both sides) and the agent framework
 * (delivery.c): outcomes logged, recorded in status logs and marked done.
 */
#include "unit.h"

#include <fcntl.h>
#include <regex.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "deliver_request.h"
#include "delivery.h"
#include "dsn.h"
#include "dsn_log.h"
#include "mail_params.h"
#include "msg.h"
#include "queue_envelope.h"
#include "queue_file.h"
#include "record.h"

static void setup(void)
{
    var_hash_queue_names = "deferred, defer";
    var_hash_queue_depth = 1;
    var_info_log_address_format = "external";
    unit_enter_queue();
    for (const char *const *q = (const char *const[]) {"incoming", "active", "defer",
                                                        "bounce", "trace", NULL}; *q; q++)
        mkdir(*q, 0700);
}

/* A queue file in active/ with three recipients; offsets of their records. */
static void make_message(char *id, size_t id_size, long offsets[3])
{
    strbuf *why = strbuf_new(32);
    queue_file *qf = queue_file_create(QUEUE_ACTIVE, why);
    queue_sizes sizes = {0};
    static const char *const rcpts[] = {"a@example.test", "b@example.test", "c@example.test"};

    assert_non_null(qf);
    snprintf(id, id_size, "%s", qf->id);
    queue_put_sizes(qf->stream, &sizes);
    rec_put_str(qf->stream, REC_TYPE_TIME, "1700000000.000000");
    rec_put_str(qf->stream, REC_TYPE_SENDER, "s@example.org");
    for (int i = 0; i < 3; i++) {
        offsets[i] = stream_tell(qf->stream);
        rec_put_str(qf->stream, REC_TYPE_RCPT, rcpts[i]);
    }
    sizes.content_offset = sizes.body_offset = stream_tell(qf->stream);
    rec_put(qf->stream, REC_TYPE_MESSAGE, "", 0);
    rec_put_str(qf->stream, REC_TYPE_LINE, "body");
    sizes.extracted_offset = stream_tell(qf->stream);
    sizes.message_size = 5;
    rec_put(qf->stream, REC_TYPE_EXTRACTED, "", 0);
    rec_put(qf->stream, REC_TYPE_END, "", 0);
    stream_seek(qf->stream, 0, SEEK_SET);
    queue_put_sizes(qf->stream, &sizes);
    assert_int_equal(queue_file_commit(qf, why), 0);
    strbuf_free(why);
}

static deliver_request *request_for(const char *id, const long offsets[3])
{
    static deliver_recipient rcpt[3];
    static deliver_request req;
    static const char *const addr[] = {"a@example.test", "b@example.test", "c@example.test"};

    memset(&req, 0, sizeof(req));
    req.queue_name = (char *) QUEUE_ACTIVE;
    req.queue_id = (char *) id;
    req.data_offset = 1;
    req.data_size = 5;
    req.nexthop = (char *) "example.test";
    req.sender = (char *) "s@example.org";
    req.arrival_time.tv_sec = time(NULL) - 2;
    gettimeofday(&req.active_time, NULL);
    req.dispatch_time = req.active_time;
    for (int i = 0; i < 3; i++) {
        rcpt[i].address = (char *) addr[i];
        rcpt[i].orig_rcpt = (char *) (i == 0 ? "list@example.test" : "");
        rcpt[i].dsn_orcpt = (char *) "";
        rcpt[i].dsn_notify = i == 0 ? DSN_NOTIFY_SUCCESS : 0;
        rcpt[i].offset = offsets[i];
    }
    req.rcpt = rcpt;
    req.rcpt_count = 3;
    return &req;
}

/* Forks a "qmgr" that sends req and exits with the reply status (+10 on error). */
static pid_t fork_qmgr(int fd, const deliver_request *req)
{
    pid_t   pid = fork();

    if (pid == 0) {
        stream *s = stream_open_fd(fd, 5);
        deliver_reply reply;

        deliver_reply_init(&reply);
        if (deliver_request_send(s, req) < 0 || deliver_reply_read(s, &reply) < 0)
            _exit(10);
        _exit(reply.status + (strcmp(reply.reason->data, "site down") == 0 ? 20 : 0));
    }
    close(fd);
    return pid;
}

static void test_request_round_trip(void **state)
{
    int     pair[2];
    long    offsets[3] = {100, 200, 300};
    deliver_request *sent = request_for("ABCDEF12", offsets);
    stream *agent;
    deliver_request *got;
    pid_t   pid;
    int     status;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    pid = fork_qmgr(pair[1], sent);
    agent = stream_open_fd(pair[0], 5);
    got = deliver_request_read(agent);
    assert_non_null(got);
    assert_string_equal(got->queue_id, "ABCDEF12");
    assert_string_equal(got->nexthop, "example.test");
    assert_int_equal(got->rcpt_count, 3);
    assert_string_equal(got->rcpt[2].address, "c@example.test");
    assert_string_equal(got->rcpt[0].orig_rcpt, "list@example.test");
    assert_int_equal(got->rcpt[1].offset, 200);
    assert_int_equal(got->rcpt[0].dsn_notify, DSN_NOTIFY_SUCCESS);
    assert_int_equal(got->arrival_time.tv_sec, sent->arrival_time.tv_sec);
    deliver_request_reply(agent, DELIVER_STAT_DEFER, 1, "4.4.1", "site down");
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), DELIVER_STAT_DEFER + 20);
    deliver_request_free(got);
    stream_close(agent);
}

static int read_request_from(const char *bytes, size_t len)
{
    int     pair[2];
    stream *agent;
    deliver_request *req;
    char    ready[64];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    assert_int_equal(write(pair[1], bytes, len), (ssize_t) len);
    shutdown(pair[1], SHUT_WR);
    agent = stream_open_fd(pair[0], 5);
    req = deliver_request_read(agent);
    assert_true(read(pair[1], ready, sizeof(ready)) > 0);       /* "ready" was sent */
    close(pair[1]);
    stream_close(agent);
    deliver_request_free(req);
    return req != NULL;
}

#define MAIN_FRAME(id, count, sender) \
    "queue_name=6:active\nqueue_id=" id "\nnexthop=0:\nencoding=0:\nsender=" sender \
    "\ndsn_envid=0:\nclient_name=0:\nclient_address=0:\nclient_protocol=0:\n" \
    "client_helo=0:\nsasl_username=0:\nlog_ident=0:\nrewrite_context=0:\n" \
    "arrival_time=17:1700000000.000000\nactive_time=17:1700000000.000000\n" \
    "dispatch_time=17:1700000000.000000\nflags=1:0\ndata_offset=2:10\ndata_size=1:5\n" \
    "smtputf8=1:0\ndsn_ret=1:0\nrcpt_count=" count "\n\n"
#define RCPT_FRAME "address=3:a@b\norig_rcpt=0:\ndsn_orcpt=0:\ndsn_notify=1:0\noffset=2:50\n\n"

static void test_request_reader_is_strict(void **state)
{
    static const char good[] = MAIN_FRAME("8:ABCDEF12", "1:1", "3:s@x") RCPT_FRAME;
    static const char bad_id[] = MAIN_FRAME("5:../x1", "1:1", "3:s@x") RCPT_FRAME;
    static const char no_rcpt[] = MAIN_FRAME("8:ABCDEF12", "1:2", "3:s@x") RCPT_FRAME;
    static const char huge[] = MAIN_FRAME("8:ABCDEF12", "7:9999999", "3:s@x") RCPT_FRAME;
    static const char ctrl[] = MAIN_FRAME("8:ABCDEF12", "1:1", "3:s\n@") RCPT_FRAME;

    assert_true(read_request_from(good, sizeof(good) - 1));
    assert_false(read_request_from(bad_id, sizeof(bad_id) - 1));
    assert_false(read_request_from(no_rcpt, sizeof(no_rcpt) - 1));
    assert_false(read_request_from(huge, sizeof(huge) - 1));
    assert_false(read_request_from(ctrl, sizeof(ctrl) - 1));
}

static void test_agent_outcomes(void **state)
{
    char    id[64];
    long    offsets[3];
    int     pair[2];
    char    logpath[300];
    stream *client;
    delivery *d;
    pid_t   pid;
    int     status;
    strbuf *why = strbuf_new(32);
    queue_file *qf;
    queue_envelope env;
    dsn_outcome_list *list;

    setup();
    make_message(id, sizeof(id), offsets);
    snprintf(logpath, sizeof(logpath), "%s/agent.log", unit_temp_dir());
    msg_open("postfix/unittest", 0);
    msg_set_log_hostname("mx.example.test");
    msg_logfile_open(logpath);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    pid = fork_qmgr(pair[1], request_for(id, offsets));
    client = stream_open_fd(pair[0], 5);
    assert_non_null(d = delivery_start(client));
    delivery_sent(d, 0, "local", "2.0.0", "delivered to mailbox", "delivered");
    delivery_bounced(d, 1, "local", "5.1.1", "unknown user: \"b\"", NULL);
    delivery_deferred(d, 2, "none", "4.4.1", "connect to x: refused", NULL);
    assert_int_equal(delivery_finish(d, client, 0, NULL, NULL), 0);
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), DELIVER_STAT_DEFER);
    stream_close(client);
    msg_logfile_use_fd(-1);

    qf = queue_file_open(QUEUE_ACTIVE, id, O_RDONLY, why);
    assert_int_equal(queue_envelope_read(qf->stream, &env, 0, why), 0);
    assert_true(env.recipients[0].done);
    assert_true(env.recipients[1].done);
    assert_false(env.recipients[2].done);
    queue_envelope_free(&env);
    queue_file_close(qf);
    list = dsn_log_read(QUEUE_BOUNCE, id);
    assert_int_equal(list->count, 1);
    assert_string_equal(list->items[0].recipient, "b@example.test");
    assert_string_equal(list->items[0].action, "failed");
    dsn_outcome_list_free(list);
    list = dsn_log_read(QUEUE_DEFER, id);
    assert_int_equal(list->count, 1);
    assert_string_equal(list->items[0].status, "4.4.1");
    dsn_outcome_list_free(list);
    list = dsn_log_read(QUEUE_TRACE, id);      /* NOTIFY=SUCCESS recipient */
    assert_int_equal(list->count, 1);
    assert_string_equal(list->items[0].action, "delivered");
    dsn_outcome_list_free(list);

    {
        FILE   *fp = fopen(logpath, "r");
        char    text[4096] = {0};
        regex_t re;

        assert_true(fread(text, 1, sizeof(text) - 1, fp) > 0);
        fclose(fp);
        assert_int_equal(regcomp(&re, ": [0-9A-F]+: to=<a@example.test>, orig_to=<list@example.test>, "
                                 "relay=local, delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, "
                                 "dsn=2.0.0, status=sent \\(delivered to mailbox\\)\n.*"
                                 "to=<b@example.test>, relay=local, .* dsn=5.1.1, status=bounced "
                                 "\\(unknown user: \"b\"\\)\n.*to=<c@example.test>, relay=none, .*"
                                 "dsn=4.4.1, status=deferred", REG_EXTENDED), 0);
        if (regexec(&re, text, 0, NULL, 0) != 0)
            fail_msg("log lines not as expected:\n%s", text);
        regfree(&re);
    }
    strbuf_free(why);
}

static void test_missing_queue_file_defers(void **state)
{
    long    offsets[3] = {100, 200, 300};
    int     pair[2];
    stream *client;
    pid_t   pid;
    int     status;

    setup();
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    pid = fork_qmgr(pair[1], request_for("FFFFFF01", offsets));
    client = stream_open_fd(pair[0], 5);
    assert_null(delivery_start(client));
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), DELIVER_STAT_DEFER);
    stream_close(client);
}

static void test_delay_format(void **state)
{
    static const struct {
        double  seconds;
        const char *text;
    } cases[] = {
        {0, "0"}, {0.001, "0"}, {0.05, "0.05"}, {0.5, "0.5"}, {0.123, "0.12"},
        {1.0, "1"}, {1.23, "1.2"}, {9.96, "10"}, {12.4, "12"}, {318.7, "319"},
    };
    strbuf *out = strbuf_new(16);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        strbuf_reset(out);
        delivery_format_delay(out, cases[i].seconds);
        assert_string_equal(out->data, cases[i].text);
    }
    strbuf_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_request_reader_is_strict),
        cmocka_unit_test(test_agent_outcomes),
        cmocka_unit_test(test_missing_queue_file_defers),
        cmocka_unit_test(test_delay_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
