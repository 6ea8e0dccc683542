/* Unit tests for the delivery status logs (defer/, bounce/, trace/). */
#include "unit.h"

#include <fcntl.h>
#include <sys/wait.h>

#include "dsn_log.h"
#include "mail_params.h"
#include "queue_file.h"

static void enter_queue(void)
{
    var_hash_queue_names = "deferred, defer";
    var_hash_queue_depth = 1;
    unit_enter_queue();
}

static dsn_outcome sample(const char *rcpt, const char *reason)
{
    dsn_outcome o = {
        .recipient = (char *) rcpt,.orig_rcpt = (char *) "",.dsn_orcpt = (char *) "rfc822;x@y",
        .dsn_notify = 4,.offset = 123,.status = (char *) "4.4.1",.action = (char *) "delayed",
        .reason = (char *) reason,.diag_type = (char *) "",.diag_text = (char *) "",
        .mta_type = (char *) "dns",.mta_name = (char *) "mx.example.net",
    };

    return o;
}

static void test_append_and_read_back(void **state)
{
    strbuf *why = strbuf_new(32);
    char    longtext[3000];
    dsn_outcome a = sample("a@example.test", "connect to mx: Connection refused");
    dsn_outcome b = sample("b@example.test", "evil\r\nstatus=sent injected");
    dsn_outcome c = sample("c@example.test", longtext);
    dsn_outcome_list *list;

    enter_queue();
    memset(longtext, 'x', sizeof(longtext) - 1);
    longtext[sizeof(longtext) - 1] = 0;
    assert_int_equal(dsn_log_append(QUEUE_DEFER, "ABCDEF123", &a, why), 0);
    assert_int_equal(dsn_log_append(QUEUE_DEFER, "ABCDEF123", &b, why), 0);
    assert_int_equal(dsn_log_append(QUEUE_DEFER, "ABCDEF123", &c, why), 0);
    assert_int_equal(access("defer/A/ABCDEF123", F_OK), 0);        /* hashed queue */
    list = dsn_log_read(QUEUE_DEFER, "ABCDEF123");
    assert_int_equal(list->count, 3);
    assert_string_equal(list->items[0].recipient, "a@example.test");
    assert_string_equal(list->items[0].reason, "connect to mx: Connection refused");
    assert_string_equal(list->items[0].status, "4.4.1");
    assert_string_equal(list->items[0].dsn_orcpt, "rfc822;x@y");
    assert_int_equal(list->items[0].offset, 123);
    assert_int_equal(list->items[0].dsn_notify, 4);
    assert_string_equal(list->items[1].reason, "evil  status=sent injected");
    assert_int_equal(strlen(list->items[2].reason), DSN_TEXT_MAX);
    dsn_outcome_list_free(list);
    strbuf_free(why);
}

static void test_missing_and_damaged_logs(void **state)
{
    dsn_outcome a = sample("a@example.test", "r");
    strbuf *why = strbuf_new(32);
    dsn_outcome_list *list;
    int     fd;

    enter_queue();
    list = dsn_log_read(QUEUE_BOUNCE, "FEDCBA987");
    assert_int_equal(list->count, 0);
    dsn_outcome_list_free(list);
    mkdir("bounce", 0700);
    assert_int_equal(dsn_log_append(QUEUE_BOUNCE, "FEDCBA987", &a, why), 0);
    fd = open("bounce/FEDCBA987", O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, "recipient=99:x\n", 15), 15);
    close(fd);
    list = dsn_log_read(QUEUE_BOUNCE, "FEDCBA987");
    assert_int_equal(list->count, 1);           /* the good part is kept */
    dsn_outcome_list_free(list);
    a.status = (char *) "9.9.9";
    assert_int_equal(dsn_log_append(QUEUE_BOUNCE, "FEDCBA987", &a, why), -1);
    a.status = (char *) "5.1.1";
    assert_int_equal(dsn_log_append(QUEUE_BOUNCE, "../x", &a, why), -1);
    strbuf_free(why);
}

static void test_concurrent_appenders_never_interleave(void **state)
{
    dsn_outcome_list *list;

    enter_queue();
    mkdir("trace", 0700);
    for (int child = 0; child < 4; child++) {
        if (fork() == 0) {
            strbuf *why = strbuf_new(32);
            char    reason[600];

            memset(reason, 'a' + child, sizeof(reason) - 1);
            reason[sizeof(reason) - 1] = 0;
            for (int i = 0; i < 200; i++) {
                dsn_outcome o = sample("r@example.test", reason);

                if (dsn_log_append(QUEUE_TRACE, "C0FFEE42", &o, why) < 0)
                    _exit(1);
            }
            _exit(0);
        }
    }
    for (int child = 0; child < 4; child++) {
        int     status;

        wait(&status);
        assert_int_equal(status, 0);
    }
    list = dsn_log_read(QUEUE_TRACE, "C0FFEE42");
    assert_int_equal(list->count, 800);
    for (size_t i = 0; i < list->count; i++)
        assert_int_equal(strspn(list->items[i].reason, (char[]) {list->items[i].reason[0], 0}),
                         599);
    dsn_outcome_list_free(list);
}

static void test_status_syntax(void **state)
{
    assert_true(dsn_status_valid("2.0.0"));
    assert_true(dsn_status_valid("5.7.1"));
    assert_true(dsn_status_valid("4.123.999"));
    assert_false(dsn_status_valid("3.0.0"));
    assert_false(dsn_status_valid("5.1"));
    assert_false(dsn_status_valid("5.1.1 "));
    assert_false(dsn_status_valid("5..1"));
    assert_false(dsn_status_valid("5.1234.1"));
    assert_false(dsn_status_valid(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_read_back),
        cmocka_unit_test(test_missing_and_damaged_logs),
        cmocka_unit_test(test_concurrent_appenders_never_interleave),
        cmocka_unit_test(test_status_syntax),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
