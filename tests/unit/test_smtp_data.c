/* Unit tests for smtp_data: line ends, dot-stuffing, end of DATA, smuggling. */
#include "unit.h"

#include "record.h"
#include "smtp_data.h"

/* Records as text: "L:line|C:piece|", control characters as \r \n. */
static void record(void *context, int type, const char *data, size_t len)
{
    strbuf *out = context;

    strbuf_append_printf(out, "%c:", type);
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\r')
            strbuf_append_str(out, "\\r");
        else if (data[i] == '\n')
            strbuf_append_str(out, "\\n");
        else
            strbuf_append_char(out, data[i]);
    }
    strbuf_append_char(out, '|');
}

/* Feeds `input` whole, or one byte at a time; returns the bytes used. */
static size_t run(int mode, int bare_lf, size_t limit, const char *input, size_t len,
                  int bytewise, strbuf *out, int *done, long *bare)
{
    smtp_data *d = smtp_data_new(mode, bare_lf, limit, 1, record, out);
    size_t  used = 0;

    if (bytewise) {
        while (used < len && !d->done)
            used += smtp_data_feed(d, input + used, 1);
    } else {
        used = smtp_data_feed(d, input, len);
    }
    if (mode == SMTP_DATA_RAW)
        smtp_data_finish(d);
    *done = d->done;
    *bare = d->bare_lf;
    smtp_data_free(d);
    return used;
}

/* Runs both ways and checks they agree; returns the records. */
static strbuf *both(int mode, int bare_lf, size_t limit, const char *input, size_t *used,
                    int *done, long *bare)
{
    strbuf *whole = strbuf_new(64);
    strbuf *bytes = strbuf_new(64);
    size_t  len = strlen(input);
    int     done2;
    long    bare2;
    size_t  used2;

    *used = run(mode, bare_lf, limit, input, len, 0, whole, done, bare);
    used2 = run(mode, bare_lf, limit, input, len, 1, bytes, &done2, &bare2);
    assert_string_equal(whole->data, bytes->data);
    assert_int_equal(*used, used2);
    assert_int_equal(*done, done2);
    assert_int_equal(*bare, bare2);
    strbuf_free(bytes);
    return whole;
}

static void test_plain_message(void **state)
{
    const char *input = "Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n";
    size_t  used;
    int     done;
    long    bare;
    strbuf *out = both(SMTP_DATA_DOT, SMTP_BARE_LF_NORMALIZE, 2048, input, &used, &done, &bare);

    assert_string_equal(out->data, "L:Subject: x|L:|L:body|");
    assert_true(done);
    assert_int_equal(used, strlen(input) - strlen("QUIT\r\n"));
    assert_int_equal(bare, 0);
    strbuf_free(out);
}

static void test_dot_stuffing(void **state)
{
    size_t  used;
    int     done;
    long    bare;
    strbuf *out = both(SMTP_DATA_DOT, SMTP_BARE_LF_NORMALIZE, 2048,
                       "..\r\n...x\r\n.x\r\nx.\r\n.\r\n", &used, &done, &bare);

    assert_string_equal(out->data, "L:.|L:..x|L:x|L:x.|");
    assert_true(done);
    strbuf_free(out);
}

/* Every smuggling variant of ATTACKS.md stays content; only CRLF.CRLF ends. */
static void test_smuggling_variants_normalize(void **state)
{
    static const char *const variants[] = {
        "a\n.\nMAIL FROM:<x@y>\r\n", "a\n.\r\nMAIL FROM:<x@y>\r\n",
        "a\r\n.\nMAIL FROM:<x@y>\r\n", "a\r.\rMAIL FROM:<x@y>\r\n",
        "a\r\n.\rMAIL FROM:<x@y>\r\n",
    };

    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        strbuf *input = strbuf_from(variants[i]);
        size_t  used;
        int     done;
        long    bare;
        strbuf *out;

        strbuf_append_str(input, "RCPT TO:<z@y>\r\n.\r\n");
        out = both(SMTP_DATA_DOT, SMTP_BARE_LF_NORMALIZE, 2048, input->data, &used, &done,
                   &bare);
        assert_true(done);
        assert_int_equal(used, input->len);
        assert_non_null(strstr(out->data, "MAIL FROM:<x@y>"));
        assert_non_null(strstr(out->data, "L:RCPT TO:<z@y>|"));
        strbuf_free(out);
        strbuf_free(input);
    }
}

static void test_lone_dot_kept_and_counted(void **state)
{
    size_t  used;
    int     done;
    long    bare;
    strbuf *out = both(SMTP_DATA_DOT, SMTP_BARE_LF_NORMALIZE, 2048,
                       "a\n.\nb\r\n.\r\n", &used, &done, &bare);

    assert_string_equal(out->data, "L:a|L:.|L:b|");
    assert_int_equal(bare, 2);
    strbuf_free(out);
}

static void test_bare_cr_is_content(void **state)
{
    size_t  used;
    int     done;
    long    bare;
    strbuf *out = both(SMTP_DATA_DOT, SMTP_BARE_LF_NORMALIZE, 2048, "a\rb\r\r\n\r\n.\r\n",
                       &used, &done, &bare);

    assert_string_equal(out->data, "L:a\\rb\\r|L:|");
    assert_true(done);
    strbuf_free(out);
}

/* "no": a bare LF ends lines and DATA, as old Postfix did. */
static void test_accept_mode_ends_on_bare_lf(void **state)
{
    size_t  used;
    int     done;
    long    bare;
    strbuf *out = both(SMTP_DATA_DOT, SMTP_BARE_LF_ACCEPT, 2048, "a\n.\nMAIL FROM:<x@y>\r\n",
                       &used, &done, &bare);

    assert_string_equal(out->data, "L:a|");
    assert_true(done);
    assert_int_equal(used, 4);
    strbuf_free(out);
}

static void test_reject_mode_counts(void **state)
{
    size_t  used;
    int     done;
    long    bare;
    strbuf *out = both(SMTP_DATA_DOT, SMTP_BARE_LF_REJECT, 2048, "a\nb\r\n.\r\n", &used, &done,
                       &bare);

    assert_true(done);
    assert_int_equal(bare, 1);
    strbuf_free(out);
}

/* DATA after a "DATA\n" command cannot end at once in NORMALIZE mode. */
static void test_not_at_line_start(void **state)
{
    strbuf *out = strbuf_new(16);
    smtp_data *d = smtp_data_new(SMTP_DATA_DOT, SMTP_BARE_LF_NORMALIZE, 2048, 0, record, out);

    smtp_data_feed(d, ".\r\n", 3);
    assert_false(d->done);
    smtp_data_feed(d, ".\r\n", 3);
    assert_true(d->done);
    assert_string_equal(out->data, "L:.|");
    smtp_data_free(d);
    strbuf_free(out);
}

static void test_long_lines(void **state)
{
    size_t  used;
    int     done;
    long    bare;
    strbuf *out = both(SMTP_DATA_DOT, SMTP_BARE_LF_NORMALIZE, 4, "abcdefghij\r\n.abcdefg\r\n"
                       "abc\r\r\n.\r\n", &used, &done, &bare);

    assert_string_equal(out->data, "C:abcd|C:efgh|L:ij|C:abc|C:defg|L:|C:abc\\r|L:|");
    assert_true(done);
    strbuf_free(out);
}

/* A CR at a piece boundary still pairs with the LF after it. */
static void test_cr_at_limit(void **state)
{
    size_t  used;
    int     done;
    long    bare;
    strbuf *out = both(SMTP_DATA_DOT, SMTP_BARE_LF_NORMALIZE, 3, "abc\r\n.\r\n", &used, &done,
                       &bare);

    assert_string_equal(out->data, "C:abc|L:|");
    assert_true(done);
    assert_int_equal(bare, 0);
    strbuf_free(out);
}

static void test_raw_mode(void **state)
{
    size_t  used;
    int     done;
    long    bare;
    strbuf *out = both(SMTP_DATA_RAW, SMTP_BARE_LF_NORMALIZE, 2048, "..x\r\n.\r\nlast",
                       &used, &done, &bare);

    assert_string_equal(out->data, "L:..x|L:.|L:last|");
    assert_true(done);
    strbuf_free(out);
}

static void test_mode_names(void **state)
{
    assert_int_equal(smtp_bare_lf_mode("normalize"), SMTP_BARE_LF_NORMALIZE);
    assert_int_equal(smtp_bare_lf_mode("YES"), SMTP_BARE_LF_NORMALIZE);
    assert_int_equal(smtp_bare_lf_mode("reject"), SMTP_BARE_LF_REJECT);
    assert_int_equal(smtp_bare_lf_mode("no"), SMTP_BARE_LF_ACCEPT);
    assert_int_equal(smtp_bare_lf_mode("maybe"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_message),
        cmocka_unit_test(test_dot_stuffing),
        cmocka_unit_test(test_smuggling_variants_normalize),
        cmocka_unit_test(test_lone_dot_kept_and_counted),
        cmocka_unit_test(test_bare_cr_is_content),
        cmocka_unit_test(test_accept_mode_ends_on_bare_lf),
        cmocka_unit_test(test_reject_mode_counts),
        cmocka_unit_test(test_not_at_line_start),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_cr_at_limit),
        cmocka_unit_test(test_raw_mode),
        cmocka_unit_test(test_mode_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
