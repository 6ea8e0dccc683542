/*
 * Unit tests for mail_copy (mbox and pipe formats, added headers, quoting,
 * dot-stuffing, long lines in C records) and Delivered-To loop detection.
 */
#include "unit.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "mail_copy.h"
#include "mail_params.h"
#include "queue_file.h"
#include "record.h"

/* A file with the content records; returns its stream, data offset in *offset. */
static stream *content_file(const char *const *lines, long *offset)
{
    int     fd = memfd_create("content", 0);
    stream *s = stream_open_fd(fd, 0);

    rec_put_str(s, REC_TYPE_SENDER, "ignored");
    *offset = (long) stream_tell(s);
    rec_put(s, REC_TYPE_MESSAGE, "", 0);
    for (size_t i = 0; lines[i]; i++) {
        if (strncmp(lines[i], "C:", 2) == 0)
            rec_put_str(s, REC_TYPE_PARTIAL, lines[i] + 2);
        else
            rec_put_str(s, REC_TYPE_LINE, lines[i]);
    }
    rec_put(s, REC_TYPE_EXTRACTED, "", 0);
    rec_put(s, REC_TYPE_END, "", 0);
    stream_flush(s);
    return s;
}

static char *copy(stream *queue, long offset, const mail_copy_args *args, int *status)
{
    int     fd = memfd_create("out", 0);
    stream *out = stream_open_fd(fd, 0);
    strbuf *why = strbuf_new(16);
    char   *text;
    off_t   len;

    *status = mail_copy(queue, offset, out, args, why);
    len = lseek(fd, 0, SEEK_END);
    text = calloc(1, (size_t) len + 1);
    assert_int_equal(pread(fd, text, (size_t) len, 0), len);
    stream_close(out);
    strbuf_free(why);
    return text;
}

static void test_mbox_format(void **state)
{
    static const char *const lines[] = {"Subject: hi", "", "From me", ">From you", ".dot",
        "C:long ", "C:line ", "end", NULL};
    long    offset;
    stream *queue = content_file(lines, &offset);
    mail_copy_args args = {.sender = "a b@example.org",.delivered_to = "rcpt@example.test",
        .orig_rcpt = "orig@example.test",
        .flags = MAIL_COPY_MBOX | MAIL_COPY_RETURN_PATH | MAIL_COPY_DELIVERED
            | MAIL_COPY_ORIG_RCPT };
    int     status;
    char   *text = copy(queue, offset, &args, &status);

    (void) state;
    var_info_log_address_format = "external";
    assert_int_equal(status, MAIL_COPY_OK);
    assert_true(strncmp(text, "From \"a b\"@example.org  ", 24) == 0);
    assert_non_null(strstr(text, "\nReturn-Path: <\"a b\"@example.org>\n"
                           "X-Original-To: orig@example.test\n"
                           "Delivered-To: rcpt@example.test\n"
                           "Subject: hi\n\n>From me\n>From you\n.dot\nlong line end\n\n"));
    free(text);
    stream_close(queue);
}

static void test_pipe_format_dots_crlf_null_sender(void **state)
{
    static const char *const lines[] = {"X: y", "", ".leading", "From x", NULL};
    long    offset;
    stream *queue = content_file(lines, &offset);
    mail_copy_args args = {.sender = "",.eol = "\r\n",
        .flags = MAIL_COPY_FROM | MAIL_COPY_DOT | MAIL_COPY_RETURN_PATH };
    int     status;
    char   *text = copy(queue, offset, &args, &status);

    (void) state;
    assert_int_equal(status, MAIL_COPY_OK);
    assert_true(strncmp(text, "From MAILER-DAEMON  ", 20) == 0);
    assert_non_null(strstr(text, "\r\nReturn-Path: <>\r\nX: y\r\n\r\n..leading\r\nFrom x\r\n"));
    assert_null(strstr(text, ">From"));
    free(text);
    stream_close(queue);
}

static void test_control_characters_in_addresses(void **state)
{
    static const char *const lines[] = {"", NULL};
    long    offset;
    stream *queue = content_file(lines, &offset);
    mail_copy_args args = {.sender = "a\nInjected: x@example.org",
        .flags = MAIL_COPY_RETURN_PATH };
    int     status;
    char   *text = copy(queue, offset, &args, &status);

    (void) state;
    assert_null(strstr(text, "\nInjected"));
    free(text);
    stream_close(queue);
}

static void test_damaged_queue_file(void **state)
{
    static const char *const lines[] = {"a", NULL};
    long    offset;
    stream *queue = content_file(lines, &offset);
    mail_copy_args args = {.sender = "s@example.org" };
    int     status;
    char   *text;

    (void) state;
    assert_int_equal(ftruncate(queue->fd, offset + 4), 0);
    text = copy(queue, offset, &args, &status);
    assert_int_equal(status, MAIL_COPY_READ_ERROR);
    free(text);
    text = copy(queue, offset + 1, &args, &status);
    assert_int_equal(status, MAIL_COPY_READ_ERROR);
    free(text);
    stream_close(queue);
}

static void test_write_error(void **state)
{
    static const char *const lines[] = {"a", NULL};
    long    offset;
    stream *queue = content_file(lines, &offset);
    mail_copy_args args = {.sender = "s@example.org" };
    strbuf *why = strbuf_new(16);
    int     fd = open("/dev/full", O_WRONLY);
    stream *out = stream_open_fd(fd, 0);

    (void) state;
    assert_int_equal(mail_copy(queue, offset, out, &args, why), MAIL_COPY_WRITE_ERROR);
    assert_non_null(strstr(why->data, "No space left on device"));
    stream_close(out);
    strbuf_free(why);
    stream_close(queue);
}

static void test_delivered_to_detection(void **state)
{
    static const char *const lines[] = {"Received: x", "Delivered-To:  Alice@Example.Test ",
        "X-Folded: a", " Delivered-To: bob@example.test", "", "Delivered-To: carol@example.test",
        NULL};
    long    offset;
    stream *queue = content_file(lines, &offset);

    (void) state;
    assert_int_equal(mail_copy_has_delivered_to(queue, offset, "alice@example.test"), 1);
    assert_int_equal(mail_copy_has_delivered_to(queue, offset, "bob@example.test"), 0);
    assert_int_equal(mail_copy_has_delivered_to(queue, offset, "carol@example.test"), 0);
    assert_int_equal(mail_copy_has_delivered_to(queue, offset + 1, "alice@example.test"), -1);
    stream_close(queue);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mbox_format),
        cmocka_unit_test(test_pipe_format_dots_crlf_null_sender),
        cmocka_unit_test(test_control_characters_in_addresses),
        cmocka_unit_test(test_damaged_queue_file),
        cmocka_unit_test(test_write_error),
        cmocka_unit_test(test_delivered_to_detection),
    };

    var_info_log_address_format = "external";
    return cmocka_run_group_tests(tests, NULL, NULL);
}
