/*
 * Unit tests for smtp_reply: codes, multi-line replies, enhanced status
 * codes, and hostile input (controls, overlong and endless replies).
 */
#include "unit.h"

#include <sys/socket.h>

#include "smtp_reply.h"

static int parse(const char *text, smtp_reply *r)
{
    return smtp_reply_parse(text, strlen(text), r, 2048);
}

static void test_single_line(void **state)
{
    smtp_reply *r = smtp_reply_new();

    (void) state;
    assert_int_equal(parse("250 2.1.0 Ok\r\n", r), SMTP_REPLY_OK);
    assert_int_equal(r->code, 250);
    assert_string_equal(r->dsn, "2.1.0");
    assert_string_equal(r->text->data, "250 2.1.0 Ok");
    assert_int_equal(parse("354 End data with <CR><LF>.<CR><LF>\n", r), SMTP_REPLY_OK);
    assert_int_equal(r->code, 354);
    assert_string_equal(r->dsn, "3.0.0");
    assert_int_equal(parse("221\r\n", r), SMTP_REPLY_OK);
    assert_int_equal(r->code, 221);
    smtp_reply_free(r);
}

static void test_multi_line_and_features(void **state)
{
    smtp_reply *r = smtp_reply_new();

    (void) state;
    assert_int_equal(parse("250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 DSN\r\n",
                           r), SMTP_REPLY_OK);
    assert_int_equal(r->code, 250);
    assert_int_equal(r->lines->count, 4);
    assert_string_equal(r->lines->items[2], "SIZE 1000");
    assert_string_equal(r->text->data,
                        "250-mx.example 250-PIPELINING 250-SIZE 1000 250 DSN");
    smtp_reply_free(r);
}

static void test_dsn_extraction(void **state)
{
    char    dsn[SMTP_REPLY_DSN_MAX];

    (void) state;
    assert_true(smtp_reply_dsn_extract("5.1.1 unknown", 13, 550, dsn));
    assert_string_equal(dsn, "5.1.1");
    assert_true(smtp_reply_dsn_extract("4.123.456", 9, 451, dsn));
    assert_string_equal(dsn, "4.123.456");
    assert_false(smtp_reply_dsn_extract("4.1.1 class mismatch", 20, 550, dsn));
    assert_string_equal(dsn, "5.0.0");
    assert_false(smtp_reply_dsn_extract("5.1234.1 too long", 17, 550, dsn));
    assert_false(smtp_reply_dsn_extract("5.1.1x", 6, 550, dsn));
    assert_false(smtp_reply_dsn_extract("", 0, 421, dsn));
    assert_string_equal(dsn, "4.0.0");
}

static void test_hostile_text_is_sanitized(void **state)
{
    smtp_reply *r = smtp_reply_new();
    static const char evil[] = "550-first\0line\r\n550 bad\rInjected: x\x1b\xff\r\n";

    (void) state;
    assert_int_equal(smtp_reply_parse(evil, sizeof(evil) - 1, r, 2048), SMTP_REPLY_OK);
    assert_string_equal(r->text->data, "550-first?line 550 bad?Injected: x??");
    assert_int_equal(strlen(r->text->data), r->text->len);
    smtp_reply_free(r);
}

static void test_malformed(void **state)
{
    smtp_reply *r = smtp_reply_new();

    (void) state;
    assert_int_equal(parse("hello there\r\n", r), SMTP_REPLY_BAD);
    assert_int_equal(r->code, 0);
    assert_int_equal(parse("25 short\r\n", r), SMTP_REPLY_BAD);
    assert_int_equal(parse("250x no separator\r\n", r), SMTP_REPLY_BAD);
    assert_int_equal(parse("650 out of range\r\n", r), SMTP_REPLY_BAD);
    assert_int_equal(parse("250-first\r\nnot a reply line\r\n", r), SMTP_REPLY_BAD);
    assert_int_equal(parse("250-unterminated\r\n", r), SMTP_REPLY_IO);
    assert_int_equal(parse("250 no newline", r), SMTP_REPLY_IO);
    smtp_reply_free(r);
}

static void test_bounds(void **state)
{
    smtp_reply *r = smtp_reply_new();
    strbuf *big = strbuf_new(1 << 20);

    (void) state;
    strbuf_append_str(big, "550 ");
    for (int i = 0; i < 100000; i++)
        strbuf_append_char(big, 'A');
    strbuf_append_str(big, "\r\n");
    assert_int_equal(smtp_reply_parse(big->data, big->len, r, 2048), SMTP_REPLY_OK);
    assert_true(r->text->len <= SMTP_REPLY_TEXT_MAX);
    strbuf_reset(big);
    for (int i = 0; i < SMTP_REPLY_LINES_MAX + 5; i++)
        strbuf_append_str(big, "250-more\r\n");
    strbuf_append_str(big, "250 end\r\n");
    assert_int_equal(smtp_reply_parse(big->data, big->len, r, 2048), SMTP_REPLY_BAD);
    assert_string_equal(r->text->data, "reply with too many lines");
    strbuf_free(big);
    smtp_reply_free(r);
}

/* Over a socket: an overlong line is drained and the next reply is intact. */
static void test_stream_overlong_line(void **state)
{
    int     fds[2];
    smtp_reply *r = smtp_reply_new();
    stream *s;
    strbuf *data = strbuf_new(1 << 16);

    (void) state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    strbuf_append_str(data, "250-");
    for (int i = 0; i < 20000; i++)
        strbuf_append_char(data, 'x');
    strbuf_append_str(data, "\r\n250 done\r\n220 next\r\n");
    assert_int_equal(write(fds[1], data->data, data->len), (ssize_t) data->len);
    close(fds[1]);
    s = stream_open_fd(fds[0], 5);
    assert_int_equal(smtp_reply_read(s, r, 512), SMTP_REPLY_OK);
    assert_int_equal(r->code, 250);
    assert_string_equal(r->lines->items[1], "done");
    assert_int_equal(smtp_reply_read(s, r, 512), SMTP_REPLY_OK);
    assert_int_equal(r->code, 220);
    assert_int_equal(smtp_reply_read(s, r, 512), SMTP_REPLY_IO);
    stream_close(s);
    strbuf_free(data);
    smtp_reply_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_line),
        cmocka_unit_test(test_multi_line_and_features),
        cmocka_unit_test(test_dsn_extraction),
        cmocka_unit_test(test_hostile_text_is_sanitized),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_stream_overlong_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
