/*
 * Unit tests for composing delivery status notifications
 * (src/bounce/bounce_notice.c): the RFC 3464 structure, the fields per
 * recipient, what part of the original is returned, and that hostile text
 * from logs cannot add header lines or MIME parts.
 */
#include "unit.h"

#include <fcntl.h>

#include "../../src/bounce/bounce_notice.h"
#include "dsn.h"
#include "mail_params.h"
#include "queue_file.h"
#include "record.h"

#define ORIGINAL_ID "ABCDE12345"

typedef struct original_file {
    queue_file *qf;
    queue_envelope env;
} original_file;

static void add_record(strbuf *out, int type, const char *text)
{
    size_t  len = strlen(text);

    assert_true(len < 128);
    strbuf_append_char(out, type);
    strbuf_append_char(out, (int) len);
    strbuf_append(out, text, len);
}

/* Writes a queue file whose content is the given lines; returns it open. */
static void make_original(original_file *orig, const char *const *lines, size_t count)
{
    strbuf *content = strbuf_new(256);
    strbuf *envelope = strbuf_new(256);
    strbuf *why = strbuf_new(64);
    queue_sizes sizes = {0};
    stream *s;
    int     fd;
    size_t  header_end = 0;

    var_hash_queue_names = "deferred, defer";
    var_hash_queue_depth = 1;
    unit_enter_queue();
    mkdir(QUEUE_ACTIVE, 0700);
    fd = open(QUEUE_ACTIVE "/" ORIGINAL_ID, O_RDWR | O_CREAT | O_TRUNC, 0700);
    assert_true(fd >= 0);
    s = stream_open_fd(fd, 0);
    sizes.content_offset = (long) rec_header_size(QUEUE_SIZES_LEN) + QUEUE_SIZES_LEN;
    /* envelope: T S R, then the content, then X E */
    add_record(envelope, REC_TYPE_TIME, "1700000000.000000");
    add_record(envelope, REC_TYPE_SENDER, "a@sender.test");
    add_record(envelope, REC_TYPE_RCPT, "b@rcpt.test");
    sizes.content_offset += (long) envelope->len;
    strbuf_append(content, "M\0", 2);
    for (size_t i = 0; i < count; i++) {
        add_record(content, REC_TYPE_LINE, lines[i]);
        sizes.message_size += (long) strlen(lines[i]) + 1;
        if (lines[i][0] == 0 && header_end == 0)
            header_end = content->len;
    }
    sizes.extracted_offset = sizes.content_offset + (long) content->len;
    sizes.body_offset = sizes.content_offset + (long) (header_end ? header_end : content->len);
    sizes.recipient_count = 1;
    strbuf_append(content, "X\0E\0", 4);
    assert_int_equal(queue_put_sizes(s, &sizes), 0);
    stream_write(s, envelope->data, envelope->len);
    stream_write(s, content->data, content->len);
    assert_int_equal(stream_close(s), 0);
    orig->qf = queue_file_open(QUEUE_ACTIVE, ORIGINAL_ID, O_RDONLY, why);
    assert_non_null(orig->qf);
    assert_int_equal(queue_envelope_read(orig->qf->stream, &orig->env, 0, why), 0);
    strbuf_free(content);
    strbuf_free(envelope);
    strbuf_free(why);
}

static void original_free(original_file *orig)
{
    queue_envelope_free(&orig->env);
    queue_file_close(orig->qf);
}

static void collect(void *context, const char *line, size_t len)
{
    strbuf *out = context;

    assert_null(memchr(line, '\n', len));
    assert_null(memchr(line, '\r', len));
    strbuf_append(out, line, len);
    strbuf_append_char(out, '\n');
}

static dsn_outcome outcome(const char *rcpt, const char *status, const char *reason)
{
    dsn_outcome o = {
        .recipient = (char *) rcpt,.orig_rcpt = (char *) "",.dsn_orcpt = (char *) "",
        .dsn_notify = 0,.offset = 100,.status = (char *) status,.action = (char *) "failed",
        .reason = (char *) reason,.diag_type = (char *) "",.diag_text = (char *) "",
        .mta_type = (char *) "",.mta_name = (char *) "",
    };

    return o;
}

static void setup_params(void)
{
    var_myhostname = "mx.example.test";
    var_mail_name = "Postern";
    var_bounce_size_limit = 50000;
    var_maximal_queue_lifetime = 5 * 86400;
}

static strbuf *compose(bounce_notice *n)
{
    strbuf *out = strbuf_new(4096);

    assert_int_equal(bounce_notice_compose(n, collect, out), 0);
    return out;
}

static bounce_notice notice(const dsn_outcome **list, size_t count, original_file *orig)
{
    bounce_notice n = {
        .kind = BOUNCE_KIND_FAILURE,.audience = BOUNCE_TO_SENDER,.queue_id = ORIGINAL_ID,
        .new_queue_id = "FEDCB98765",.recipient = "a@sender.test",.sender = "a@sender.test",
        .dsn_envid = "",.arrival = 1700000000,.now = 1700000100,
        .retry_until = 1700000000 + 5 * 86400,.outcomes = list,.outcome_count = count,
        .original = orig ? orig->qf->stream : NULL,.envelope = orig ? &orig->env : NULL,
    };

    return n;
}

static const char *const message_lines[] = {
    "Subject: hello", "From: a@sender.test", "", "body line one", "--not-a-boundary",
};

static void test_failure_report_structure(void **state)
{
    original_file orig;
    dsn_outcome o = outcome("b@rcpt.test", "5.1.1", "no such user");
    const dsn_outcome *list[] = {&o};
    bounce_notice n;
    strbuf *text;

    (void) state;
    setup_params();
    make_original(&orig, message_lines, 5);
    o.dsn_orcpt = (char *) "rfc822;B+2Borig@rcpt.test";
    o.mta_name = (char *) "mx.rcpt.test";
    o.diag_type = (char *) "smtp";
    o.diag_text = (char *) "550 5.1.1 no such user";
    n = notice(list, 1, &orig);
    n.dsn_envid = "envid-1";
    text = compose(&n);
    assert_non_null(strstr(text->data, "Subject: Undelivered Mail Returned to Sender\n"));
    assert_non_null(strstr(text->data, "From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\n"));
    assert_non_null(strstr(text->data, "To: a@sender.test\n"));
    assert_non_null(strstr(text->data, "Auto-Submitted: auto-replied\n"));
    assert_non_null(strstr(text->data, "Content-Type: multipart/report; report-type=delivery-status;\n"));
    assert_non_null(strstr(text->data, "Message-Id: <20231114221500.FEDCB98765@mx.example.test>\n"));
    assert_non_null(strstr(text->data, "<b@rcpt.test>: no such user\n"));
    assert_non_null(strstr(text->data, "Reporting-MTA: dns; mx.example.test\n"));
    assert_non_null(strstr(text->data, "Original-Envelope-Id: envid-1\n"));
    assert_non_null(strstr(text->data, "X-Postern-Queue-ID: " ORIGINAL_ID "\n"));
    assert_non_null(strstr(text->data, "X-Postern-Sender: rfc822; a@sender.test\n"));
    assert_non_null(strstr(text->data, "Final-Recipient: rfc822; b@rcpt.test\n"));
    assert_non_null(strstr(text->data, "Original-Recipient: rfc822;B+orig@rcpt.test\n"));
    assert_non_null(strstr(text->data, "Action: failed\nStatus: 5.1.1\n"));
    assert_non_null(strstr(text->data, "Remote-MTA: dns; mx.rcpt.test\n"));
    assert_non_null(strstr(text->data, "Diagnostic-Code: smtp; 550 5.1.1 no such user\n"));
    /* no RET: the whole message comes back */
    assert_non_null(strstr(text->data, "Content-Type: message/rfc822\n\nSubject: hello\n"));
    assert_non_null(strstr(text->data, "\nbody line one\n--not-a-boundary\n"));
    strbuf_free(text);
    original_free(&orig);
}

/* The MIME structure: three parts between one boundary, closed once. */
static void test_boundary_is_unique_and_closed(void **state)
{
    original_file orig;
    dsn_outcome o = outcome("b@rcpt.test", "5.0.0", "failed");
    const dsn_outcome *list[] = {&o};
    bounce_notice n;
    strbuf *text;
    const char *start;
    char    boundary[200];
    char    marker[210];
    int     parts = 0;

    (void) state;
    setup_params();
    make_original(&orig, message_lines, 5);
    n = notice(list, 1, &orig);
    text = compose(&n);
    start = strstr(text->data, "boundary=\"");
    assert_non_null(start);
    assert_int_equal(sscanf(start, "boundary=\"%199[^\"]\"", boundary), 1);
    assert_non_null(strstr(boundary, ORIGINAL_ID "."));
    snprintf(marker, sizeof(marker), "\n--%s\n", boundary);
    for (const char *cp = text->data; (cp = strstr(cp, marker)) != NULL; cp++)
        parts++;
    assert_int_equal(parts, 3);
    snprintf(marker, sizeof(marker), "\n--%s--\n", boundary);
    assert_non_null(strstr(text->data, marker));
    strbuf_free(text);
    original_free(&orig);
}

static void test_headers_only_when_asked_or_too_large(void **state)
{
    original_file orig;
    dsn_outcome o = outcome("b@rcpt.test", "5.0.0", "failed");
    const dsn_outcome *list[] = {&o};
    bounce_notice n;
    strbuf *text;

    (void) state;
    setup_params();
    make_original(&orig, message_lines, 5);
    n = notice(list, 1, &orig);
    n.dsn_ret = DSN_RET_HDRS;
    text = compose(&n);
    assert_non_null(strstr(text->data, "Content-Type: text/rfc822-headers\n\nSubject: hello\n"));
    assert_null(strstr(text->data, "body line one"));
    strbuf_free(text);

    var_bounce_size_limit = 10;
    n.dsn_ret = 0;
    text = compose(&n);
    assert_non_null(strstr(text->data, "Content-Type: text/rfc822-headers\n"));
    assert_null(strstr(text->data, "body line one"));
    strbuf_free(text);

    /* a double bounce gives the postmaster the whole failed notification */
    n.audience = BOUNCE_TO_POSTMASTER_DOUBLE;
    text = compose(&n);
    assert_non_null(strstr(text->data, "body line one"));
    assert_non_null(strstr(text->data, "Subject: Postmaster Copy: Undelivered Mail\n"));
    strbuf_free(text);
    original_free(&orig);
}

static void test_delay_and_success_reports(void **state)
{
    original_file orig;
    dsn_outcome o = outcome("b@rcpt.test", "4.4.1", "connect to mx: Connection refused");
    dsn_outcome s = outcome("c@rcpt.test", "2.0.0", "delivered to mailbox");
    const dsn_outcome *delayed[] = {&o};
    const dsn_outcome *delivered[] = {&s};
    bounce_notice n;
    strbuf *text;

    (void) state;
    setup_params();
    make_original(&orig, message_lines, 5);
    n = notice(delayed, 1, &orig);
    n.kind = BOUNCE_KIND_DELAY;
    text = compose(&n);
    assert_non_null(strstr(text->data, "Subject: Delayed Mail (still being retried)\n"));
    assert_non_null(strstr(text->data, "Action: delayed\nStatus: 4.4.1\n"));
    assert_non_null(strstr(text->data, "Will-Retry-Until: "));
    assert_non_null(strstr(text->data, "Diagnostic-Code: X-Postern; connect to mx: Connection refused\n"));
    assert_null(strstr(text->data, "body line one"));
    strbuf_free(text);

    s.action = (char *) "delivered";
    n = notice(delivered, 1, &orig);
    n.kind = BOUNCE_KIND_SUCCESS;
    text = compose(&n);
    assert_non_null(strstr(text->data, "Subject: Successful Mail Delivery Report\n"));
    assert_non_null(strstr(text->data, "Action: delivered\nStatus: 2.0.0\n"));
    assert_null(strstr(text->data, "body line one"));
    strbuf_free(text);
    original_free(&orig);
}

/* Reasons, diagnostics and addresses come from remote servers and users. */
static void test_hostile_text_stays_inside_its_field(void **state)
{
    dsn_outcome o = outcome("b@rcpt.test", "5.0.0", "bad\r\nSubject: forged\r\n\r\n--x");
    const dsn_outcome *list[] = {&o};
    bounce_notice n;
    strbuf *text;

    (void) state;
    setup_params();
    o.diag_type = (char *) "smtp\nX-Evil: 1";
    o.diag_text = (char *) "550\rX-Evil: 2";
    o.orig_rcpt = (char *) "orig\x01@rcpt.test";
    n = notice(list, 1, NULL);
    n.dsn_envid = "id\nX-Evil: 3";
    text = compose(&n);
    assert_null(strstr(text->data, "\nSubject: forged"));
    assert_null(strstr(text->data, "\nX-Evil"));
    assert_non_null(strstr(text->data, "bad\?\?Subject: forged\?\?\?\?--x"));
    /* without the original, the notice has two parts and is closed */
    assert_null(strstr(text->data, "message/rfc822"));
    strbuf_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failure_report_structure),
        cmocka_unit_test(test_boundary_is_unique_and_closed),
        cmocka_unit_test(test_headers_only_when_asked_or_too_large),
        cmocka_unit_test(test_delay_and_success_reports),
        cmocka_unit_test(test_hostile_text_stays_inside_its_field),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
