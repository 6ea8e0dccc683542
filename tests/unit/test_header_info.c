/* Unit tests for header_info (names, known headers, header blocks) and mail_date. */
#include <time.h>

#include "unit.h"

#include "header_info.h"
#include "mail_date.h"

static void test_parse_name(void **state)
{
    size_t  name_len;
    size_t  value_start;

    assert_true(header_parse_name("Subject: hi", 11, &name_len, &value_start));
    assert_int_equal(name_len, 7);
    assert_int_equal(value_start, 8);
    assert_true(header_parse_name("X-Odd-Name  \t: v", 16, &name_len, &value_start));
    assert_int_equal(name_len, 10);
    assert_int_equal(value_start, 14);
    assert_true(header_parse_name("To:", 3, &name_len, &value_start));
    assert_int_equal(value_start, 3);
    assert_false(header_parse_name(": value", 7, &name_len, &value_start));
    assert_false(header_parse_name(" To: x", 6, &name_len, &value_start));
    assert_false(header_parse_name("No colon here", 13, &name_len, &value_start));
    assert_false(header_parse_name("Bad Name: x", 11, &name_len, &value_start));
    assert_false(header_parse_name("Bad\x01: x", 7, &name_len, &value_start));
    assert_false(header_parse_name("Bad\0: x", 7, &name_len, &value_start));
    assert_false(header_parse_name("Caf\xc3\xa9: x", 8, &name_len, &value_start));
    assert_false(header_parse_name("From ", 5, &name_len, &value_start));
    assert_true(header_name_valid("X-Spam_Flag!", 12));
    assert_false(header_name_valid("", 0));
    assert_false(header_name_valid("a:b", 3));
    assert_false(header_name_valid("a b", 3));
}

static void test_known_headers(void **state)
{
    const header_info *info;

    info = header_info_find("rEsEnT-tO", 9);
    assert_non_null(info);
    assert_int_equal(info->id, HEADER_RESENT_TO);
    assert_string_equal(info->name, "Resent-To");
    assert_int_equal(info->flags, HEADER_F_ADDRESS | HEADER_F_RECIPIENT | HEADER_F_RESENT);
    info = header_info_find("FROM", 4);
    assert_int_equal(info->flags, HEADER_F_ADDRESS | HEADER_F_SENDER);
    info = header_info_find("bcc", 3);
    assert_int_equal(info->flags, HEADER_F_ADDRESS | HEADER_F_RECIPIENT);
    info = header_info_find("Disposition-Notification-To", 27);
    assert_true(info->flags & HEADER_F_ADDRESS);
    assert_int_equal(header_info_find("received", 8)->id, HEADER_RECEIVED);
    assert_int_equal(header_info_find("Return-Path", 11)->flags, 0);
    assert_int_equal(header_info_find("Delivered-To", 12)->id, HEADER_DELIVERED_TO);
    assert_int_equal(header_info_find("message-id", 10)->id, HEADER_MESSAGE_ID);
    assert_int_equal(header_info_find("Date", 4)->id, HEADER_DATE);
    assert_int_equal(header_info_find("mime-version", 12)->flags, HEADER_F_MIME);
    assert_int_equal(header_info_find("Content-Type", 12)->flags, HEADER_F_MIME);
    assert_int_equal(header_info_find("content-transfer-encoding", 25)->id,
                     HEADER_CONTENT_TRANSFER_ENCODING);
    assert_null(header_info_find("X-Mailer", 8));
    assert_null(header_info_find("To", 1));                    /* prefix only */
    assert_null(header_info_find("Tox", 3));
    assert_null(header_info_find("", 0));
}

static void test_header_block(void **state)
{
    const char *text =
        "Received: from a\r\n"
        "\tby b;\r\n"
        " Mon, 1 Jan 2024\r\n"
        "Subject: hi\n"
        "X-Empty:\r\n"
        "\r\n"
        "body line\r\n";
    header_cursor cursor;
    header_field field;
    strbuf *unfolded = strbuf_new(0);

    header_cursor_init(&cursor, text, strlen(text));
    assert_int_equal(header_next(&cursor, &field), 1);
    assert_int_equal(field.lines, 3);
    assert_int_equal(field.name_len, 8);
    assert_int_equal(field.len, strlen("Received: from a\r\n\tby b;\r\n Mon, 1 Jan 2024"));
    header_unfold(unfolded, field.text, field.len);
    assert_string_equal(unfolded->data, "Received: from a\tby b; Mon, 1 Jan 2024");
    assert_int_equal(header_next(&cursor, &field), 1);
    assert_int_equal(field.len, 11);
    assert_memory_equal(field.text, "Subject: hi", 11);
    assert_int_equal(header_next(&cursor, &field), 1);
    assert_int_equal(field.value_start, 8);
    assert_int_equal(field.len, 8);
    assert_int_equal(header_next(&cursor, &field), 0);
    assert_string_equal(text + cursor.pos, "body line\r\n");
    strbuf_free(unfolded);
}

static void test_header_block_odd(void **state)
{
    const char *text = " orphan continuation\nnot a header line\nTo: x\n  y";
    header_cursor cursor;
    header_field field;

    header_cursor_init(&cursor, text, strlen(text));
    assert_int_equal(header_next(&cursor, &field), 1);
    assert_int_equal(field.name_len, 0);                /* continuation with nothing before */
    assert_int_equal(header_next(&cursor, &field), 1);
    assert_int_equal(field.name_len, 0);
    assert_int_equal(field.len, 17);
    assert_int_equal(header_next(&cursor, &field), 1);  /* last field, no final newline */
    assert_int_equal(field.len, 9);
    assert_int_equal(field.lines, 2);
    assert_int_equal(header_next(&cursor, &field), 0);
    header_cursor_init(&cursor, "", 0);
    assert_int_equal(header_next(&cursor, &field), 0);
}

static void test_many_continuation_lines(void **state)
{
    strbuf *text = strbuf_from("X-Long: start");
    header_cursor cursor;
    header_field field;

    for (int i = 0; i < 50000; i++)
        strbuf_append_str(text, "\r\n x");
    strbuf_append_str(text, "\r\n\r\n");
    header_cursor_init(&cursor, text->data, text->len);
    assert_int_equal(header_next(&cursor, &field), 1);
    assert_int_equal(field.lines, 50001);
    assert_int_equal(field.len, text->len - 4);
    assert_int_equal(header_next(&cursor, &field), 0);
    assert_int_equal(cursor.pos, text->len);
    strbuf_free(text);
}

static void test_date(void **state)
{
    strbuf *out = strbuf_new(0);
    time_t  when = 1795445349;          /* 2026-11-23 14:49:09 UTC, a Monday */

    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    mail_date_format(out, when);
    assert_string_equal(out->data, "Mon, 23 Nov 2026 15:49:09 +0100 (CET)");
    strbuf_reset(out);
    mail_date_format(out, 1783000000);  /* 2026-07-02 13:46:40 UTC: summer time */
    assert_string_equal(out->data, "Thu, 2 Jul 2026 15:46:40 +0200 (CEST)");
    setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
    tzset();
    strbuf_reset(out);
    mail_date_format(out, when);
    assert_string_equal(out->data, "Mon, 23 Nov 2026 09:49:09 -0500 (EST)");
    setenv("TZ", "IST-5:30", 1);
    tzset();
    strbuf_reset(out);
    mail_date_format(out, when);
    assert_string_equal(out->data, "Mon, 23 Nov 2026 20:19:09 +0530 (IST)");
    setenv("TZ", "<+0330>-3:30", 1);
    tzset();
    strbuf_reset(out);
    mail_date_format(out, 0);
    assert_string_equal(out->data, "Thu, 1 Jan 1970 03:30:00 +0330 (+0330)");
    setenv("TZ", "UTC0", 1);
    tzset();
    strbuf_reset(out);
    mail_date_format(out, when);
    assert_string_equal(out->data, "Mon, 23 Nov 2026 14:49:09 +0000 (UTC)");
    strbuf_free(out);
}

static void test_message_id(void **state)
{
    strbuf *out = strbuf_new(0);

    assert_int_equal(message_id_format(out, 1795445349, "C96E4A725B1", "mx.example.test"), 0);
    assert_string_equal(out->data, "<20261123144909.C96E4A725B1@mx.example.test>");
    strbuf_reset(out);
    assert_int_equal(message_id_format(out, 0, "ID", "bad host"), -1);
    assert_int_equal(message_id_format(out, 0, "ID", "host\r\nBcc: x"), -1);
    assert_int_equal(message_id_format(out, 0, "I>D", "h"), -1);
    assert_int_equal(message_id_format(out, 0, "", "h"), -1);
    assert_int_equal(message_id_format(out, 0, "ID", "h\xc3\xa9"), -1);
    assert_int_equal(out->len, 0);
    strbuf_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_name),
        cmocka_unit_test(test_known_headers),
        cmocka_unit_test(test_header_block),
        cmocka_unit_test(test_header_block_odd),
        cmocka_unit_test(test_many_continuation_lines),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_message_id),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
