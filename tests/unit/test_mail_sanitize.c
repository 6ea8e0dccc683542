/* Unit tests for mail_sanitize: Received: fields, reply echoes, log addresses. */
#include "unit.h"

#include "mail_params.h"
#include "mail_sanitize.h"

static void test_printable(void **state)
{
    strbuf *out = strbuf_from("[");

    sanitize_printable(out, "helo\r\nRCPT TO:<x>\0\x7f\xc3\xa9 ok", 24);
    assert_string_equal(out->data, "[helo??RCPT TO:<x>???? ok");
    strbuf_free(out);
}

static void test_comment(void **state)
{
    strbuf *out = strbuf_from("(helo=");

    sanitize_comment(out, "evil) by mx (x\\y\r\n", 18);
    strbuf_append_char(out, ')');
    assert_string_equal(out->data, "(helo=evil\\) by mx \\(x\\\\y?" "?)");
    strbuf_free(out);
}

static void test_log_address(void **state)
{
    strbuf *out = strbuf_new(0);

    var_info_log_address_format = NULL;                 /* before params_load() */
    log_address(out, "from", "a@example.com", 13);
    strbuf_append_char(out, ' ');
    log_address(out, "to", "", 0);
    strbuf_append_char(out, ' ');
    log_address(out, "to", "john doe@example.com", 20);
    assert_string_equal(out->data, "from=<a@example.com> to=<> to=<\"john doe\"@example.com>");

    strbuf_reset(out);
    var_info_log_address_format = "internal";
    log_address(out, "to", "john doe@example.com", 20);
    assert_string_equal(out->data, "to=<john doe@example.com>");

    strbuf_reset(out);
    var_info_log_address_format = "external";
    log_address(out, "orig_to", "j\xc3\xb6rg@x\r\n\xff", 10);
    assert_string_equal(out->data, "orig_to=<j\xc3\xb6rg@x??" "?>");
    var_info_log_address_format = NULL;
    strbuf_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printable),
        cmocka_unit_test(test_comment),
        cmocka_unit_test(test_log_address),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
