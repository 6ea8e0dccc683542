/*
 * Unit tests for the expansion outcomes of delivery.c (local's aliases and
 * .forward): delivery_member_sent/_bounced/_deferred log the member with
 * orig_to=, record it under its own address, and leave the request
 * recipient to delivery_done().
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

/* A queue file in active/ with two recipients. */
static void make_message(char *id, size_t id_size, long offsets[2])
{
    strbuf *why = strbuf_new(32);
    queue_file *qf = queue_file_create(QUEUE_ACTIVE, why);
    queue_sizes sizes = {0};

    assert_non_null(qf);
    snprintf(id, id_size, "%s", qf->id);
    queue_put_sizes(qf->stream, &sizes);
    rec_put_str(qf->stream, REC_TYPE_TIME, "1700000000.000000");
    rec_put_str(qf->stream, REC_TYPE_SENDER, "s@example.org");
    for (int i = 0; i < 2; i++) {
        offsets[i] = stream_tell(qf->stream);
        rec_put_str(qf->stream, REC_TYPE_RCPT, i ? "team@example.test" : "root@example.test");
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

static pid_t fork_qmgr(int fd, const char *id, const long offsets[2])
{
    pid_t   pid = fork();

    if (pid == 0) {
        static deliver_recipient rcpt[2];
        deliver_request req;
        stream *s = stream_open_fd(fd, 5);
        deliver_reply reply;

        memset(&req, 0, sizeof(req));
        req.queue_name = (char *) QUEUE_ACTIVE;
        req.queue_id = (char *) id;
        req.data_offset = 1;
        req.nexthop = req.sender = req.encoding = req.dsn_envid = (char *) "";
        req.client_name = req.client_address = req.client_protocol = (char *) "";
        req.client_helo = req.sasl_username = req.log_ident = req.rewrite_context = (char *) "";
        req.sender = (char *) "s@example.org";
        req.arrival_time.tv_sec = time(NULL);
        req.active_time = req.dispatch_time = req.arrival_time;
        for (int i = 0; i < 2; i++) {
            rcpt[i].address = (char *) (i ? "team@example.test" : "root@example.test");
            rcpt[i].orig_rcpt = (char *) (i ? "" : "root");
            rcpt[i].dsn_orcpt = (char *) "";
            rcpt[i].dsn_notify = DSN_NOTIFY_SUCCESS;
            rcpt[i].offset = offsets[i];
        }
        req.rcpt = rcpt;
        req.rcpt_count = 2;
        deliver_reply_init(&reply);
        if (deliver_request_send(s, &req) < 0 || deliver_reply_read(s, &reply) < 0)
            _exit(10);
        _exit(reply.status);
    }
    close(fd);
    return pid;
}

static void read_file(const char *path, char *text, size_t size)
{
    FILE   *fp = fopen(path, "r");

    assert_non_null(fp);
    text[fread(text, 1, size - 1, fp)] = 0;
    fclose(fp);
}

static void test_member_outcomes(void **state)
{
    char    id[64];
    long    offsets[2];
    int     pair[2];
    char    logpath[300];
    char    text[8192];
    stream *client;
    delivery *d;
    pid_t   pid;
    int     status;
    strbuf *why = strbuf_new(32);
    queue_file *qf;
    queue_envelope env;
    dsn_outcome_list *list;
    regex_t re;

    (void) state;
    var_hash_queue_names = "deferred, defer";
    var_hash_queue_depth = 1;
    var_info_log_address_format = "external";
    unit_enter_queue();
    for (const char *const *q = (const char *const[]) {"active", "defer", "bounce", "trace",
                                                        NULL}; *q; q++)
        mkdir(*q, 0700);
    make_message(id, sizeof(id), offsets);
    snprintf(logpath, sizeof(logpath), "%s/members.log", unit_temp_dir());
    msg_open("postfix/unittest", 0);
    msg_logfile_open(logpath);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    pid = fork_qmgr(pair[1], id, offsets);
    client = stream_open_fd(pair[0], 5);
    assert_non_null(d = delivery_start(client));
    /* root -> alice (sent), ghost (bounced): finished, marked by delivery_done */
    assert_int_equal(delivery_member_sent(d, 0, "alice@example.test", "local", "2.0.0",
                                          "delivered to mailbox", "delivered"), 0);
    assert_int_equal(delivery_member_bounced(d, 0, "ghost@example.test", "local", "5.1.1",
                                             "unknown user: \"ghost\""), 0);
    assert_int_equal(delivery_done(d, 0), 0);
    /* team -> bob (deferred): not marked */
    delivery_member_deferred(d, 1, "bob@example.test", "local", "4.2.0", "mailbox locked");
    assert_int_equal(delivery_finish(d, client, 0, NULL, NULL), 0);
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), DELIVER_STAT_DEFER);
    stream_close(client);
    msg_logfile_use_fd(-1);

    qf = queue_file_open(QUEUE_ACTIVE, id, O_RDONLY, why);
    assert_int_equal(queue_envelope_read(qf->stream, &env, 0, why), 0);
    assert_true(env.recipients[0].done);
    assert_false(env.recipients[1].done);
    queue_envelope_free(&env);
    queue_file_close(qf);
    list = dsn_log_read(QUEUE_TRACE, id);
    assert_int_equal(list->count, 1);
    assert_string_equal(list->items[0].recipient, "alice@example.test");
    assert_string_equal(list->items[0].orig_rcpt, "root");
    dsn_outcome_list_free(list);
    list = dsn_log_read(QUEUE_BOUNCE, id);
    assert_int_equal(list->count, 1);
    assert_string_equal(list->items[0].recipient, "ghost@example.test");
    dsn_outcome_list_free(list);
    list = dsn_log_read(QUEUE_DEFER, id);
    assert_int_equal(list->count, 1);
    assert_string_equal(list->items[0].recipient, "team@example.test");
    dsn_outcome_list_free(list);

    read_file(logpath, text, sizeof(text));
    assert_int_equal(regcomp(&re, "to=<alice@example.test>, orig_to=<root>, relay=local, .*"
                             "status=sent \\(delivered to mailbox\\)\n.*"
                             "to=<ghost@example.test>, orig_to=<root>, .*status=bounced\n?.*"
                             "to=<bob@example.test>, orig_to=<team@example.test>, .*"
                             "dsn=4.2.0, status=deferred \\(mailbox locked\\)", REG_EXTENDED), 0);
    if (regexec(&re, text, 0, NULL, 0) != 0)
        fail_msg("log lines not as expected:\n%s", text);
    regfree(&re);
    strbuf_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_outcomes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
