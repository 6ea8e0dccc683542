/* Unit tests for the queue manager's pure decisions (qmgr_policy.c). */
#include "unit.h"

#include "config.h"
#include "mail_params.h"
#include "../../src/qmgr/qmgr.h"

static void test_backoff_doubles_between_limits(void **state)
{
    time_t  arrival = 1000000;

    (void) state;
    assert_int_equal(qmgr_backoff(arrival, arrival + 1, 300, 4000), 300);
    assert_int_equal(qmgr_backoff(arrival, arrival + 300, 300, 4000), 300);
    assert_int_equal(qmgr_backoff(arrival, arrival + 600, 300, 4000), 600);
    assert_int_equal(qmgr_backoff(arrival, arrival + 1200, 300, 4000), 1200);
    assert_int_equal(qmgr_backoff(arrival, arrival + 90000, 300, 4000), 4000);
    /* a clock that went backwards, and a maximum below the minimum */
    assert_int_equal(qmgr_backoff(arrival, arrival - 50, 300, 4000), 300);
    assert_int_equal(qmgr_backoff(arrival, arrival + 9000, 300, 100), 300);
}

static void test_lifetime_of_notifications(void **state)
{
    (void) state;
    assert_int_equal(qmgr_lifetime("a@example.test", "double-bounce@mx", 432000, 3600), 432000);
    assert_int_equal(qmgr_lifetime("", "double-bounce@mx", 432000, 3600), 3600);
    assert_int_equal(qmgr_lifetime("Double-Bounce@MX", "double-bounce@mx", 432000, 3600), 3600);
    /* bounce_queue_lifetime never exceeds maximal_queue_lifetime */
    assert_int_equal(qmgr_lifetime("", "double-bounce@mx", 0, 3600), 0);
}

static void test_queue_names(void **state)
{
    strbuf *name = strbuf_new(32);

    (void) state;
    qmgr_queue_name(name, "MX.Example.NET", "User@Example.NET", 50);
    assert_string_equal(name->data, "mx.example.net");
    qmgr_queue_name(name, "mx.example.test", "Bob@MX.example.test", 1);
    assert_string_equal(name->data, "mx.example.test!bob@mx.example.test");
    qmgr_queue_name(name, "[192.0.2.1]:2525", "x@y", 0);
    assert_string_equal(name->data, "[192.0.2.1]:2525");
    strbuf_free(name);
}

static void test_transport_settings(void **state)
{
    (void) state;
    config_set_override("slow_destination_concurrency_limit", "3");
    config_set_override("slow_destination_rate_delay", "2m");
    config_set_override("odd_destination_recipient_limit", "many");
    config_set_override("expanded_destination_recipient_limit", "$local_destination_recipient_limit");
    assert_int_equal(qmgr_transport_setting("slow", "destination_concurrency_limit", 20), 3);
    assert_int_equal(qmgr_transport_time_setting("slow", "destination_rate_delay", 0), 120);
    assert_int_equal(qmgr_transport_setting("smtp", "destination_concurrency_limit", 20), 20);
    /* a declared per-transport default (local_destination_concurrency_limit = 2) */
    assert_int_equal(qmgr_transport_setting("local", "destination_concurrency_limit", 20), 2);
    assert_int_equal(qmgr_transport_setting("local", "destination_recipient_limit", 50), 1);
    assert_int_equal(qmgr_transport_setting("expanded", "destination_recipient_limit", 50), 1);
    /* not a number: the fallback, with a warning */
    assert_int_equal(qmgr_transport_setting("odd", "destination_recipient_limit", 50), 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_between_limits),
        cmocka_unit_test(test_lifetime_of_notifications),
        cmocka_unit_test(test_queue_names),
        cmocka_unit_test(test_transport_settings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
