/* Unit tests for notify_classes and the double bounce address (mail_notify.c). */
#include "unit.h"

#include "mail_notify.h"
#include "mail_params.h"

static void test_notify_classes(void **state)
{
    (void) state;
    assert_int_equal(notify_class_mask("resource, software"),
                     NOTIFY_CLASS_RESOURCE | NOTIFY_CLASS_SOFTWARE);
    /* bounce implies 2bounce; names ignore case; unknown names are ignored */
    assert_int_equal(notify_class_mask("Bounce nonsense"),
                     NOTIFY_CLASS_BOUNCE | NOTIFY_CLASS_2BOUNCE);
    assert_int_equal(notify_class_mask("2bounce,delay"), NOTIFY_CLASS_2BOUNCE | NOTIFY_CLASS_DELAY);
    assert_int_equal(notify_class_mask(""), 0);
}

static void test_double_bounce_address(void **state)
{
    strbuf *out = strbuf_new(16);

    (void) state;
    var_myhostname = "mx.example.test";
    var_double_bounce_sender = "double-bounce";
    double_bounce_address(out);
    assert_string_equal(out->data, "double-bounce@mx.example.test");
    assert_true(is_double_bounce_address("Double-Bounce@MX.example.test"));
    assert_false(is_double_bounce_address("double-bounce@other.test"));
    assert_false(is_double_bounce_address(""));
    var_double_bounce_sender = "loops@elsewhere.test";
    double_bounce_address(out);
    assert_string_equal(out->data, "loops@elsewhere.test");
    strbuf_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_classes),
        cmocka_unit_test(test_double_bounce_address),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
