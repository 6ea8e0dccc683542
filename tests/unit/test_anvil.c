/*
 * Unit tests for anvil's counter table (src/anvil/anvil_table.h), with a
 * clock of the test's own: request names, concurrent counts, each rate and
 * its window, idents that are never created, expiry (memory stays bounded
 * by recent activity), and the statistics lines and their reset.
 */
#include "unit.h"

#include <time.h>

#include "../../src/anvil/anvil_table.h"

#define T0      1795450159              /* Mon Nov 23 16:09:19 2026 UTC */
#define UNIT    60
#define IDENT   "smtp:192.0.2.1"

static anvil_counts event(anvil_table *table, anvil_event what, const char *ident, time_t now)
{
    anvil_counts counts = {-1, -1};

    anvil_table_update(table, what, ident, now, &counts);
    return counts;
}

#define assert_counts(got, want_count, want_rate) do { \
        anvil_counts got_ = (got); \
        assert_int_equal(got_.count, (want_count)); \
        assert_int_equal(got_.rate, (want_rate)); \
    } while (0)

static void test_request_names(void **state)
{
    const char *names[] = {"connect", "disconnect", "message", "recipient", "auth", "lookup"};
    const anvil_event events[] = {ANVIL_EVENT_CONNECT, ANVIL_EVENT_DISCONNECT, ANVIL_EVENT_MESSAGE,
        ANVIL_EVENT_RECIPIENT, ANVIL_EVENT_AUTH, ANVIL_EVENT_LOOKUP};
    anvil_event parsed;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(anvil_event_parse(names[i], &parsed), 0);
        assert_int_equal(parsed, events[i]);
    }
    assert_int_equal(anvil_event_parse("newtls", &parsed), -1);
    assert_int_equal(anvil_event_parse("CONNECT", &parsed), -1);
    assert_int_equal(anvil_event_parse("", &parsed), -1);
}

static void test_concurrent_connections(void **state)
{
    anvil_table *table = anvil_table_new(UNIT);

    assert_counts(event(table, ANVIL_EVENT_CONNECT, IDENT, T0), 1, 1);
    assert_counts(event(table, ANVIL_EVENT_CONNECT, IDENT, T0 + 1), 2, 2);
    assert_counts(event(table, ANVIL_EVENT_LOOKUP, IDENT, T0 + 2), 2, 2);
    assert_counts(event(table, ANVIL_EVENT_CONNECT, "smtp:192.0.2.2", T0 + 2), 1, 1);
    assert_counts(event(table, ANVIL_EVENT_DISCONNECT, IDENT, T0 + 3), 1, 2);
    assert_counts(event(table, ANVIL_EVENT_DISCONNECT, IDENT, T0 + 3), 0, 2);
    assert_counts(event(table, ANVIL_EVENT_DISCONNECT, IDENT, T0 + 3), 0, 2);     /* not below 0 */
    assert_int_equal(anvil_table_size(table), 2);
    anvil_table_free(table);
}

static void test_each_rate_counts_its_own_events(void **state)
{
    anvil_table *table = anvil_table_new(UNIT);

    event(table, ANVIL_EVENT_CONNECT, IDENT, T0);
    assert_counts(event(table, ANVIL_EVENT_MESSAGE, IDENT, T0), 1, 1);
    assert_counts(event(table, ANVIL_EVENT_MESSAGE, IDENT, T0), 1, 2);
    assert_counts(event(table, ANVIL_EVENT_RECIPIENT, IDENT, T0), 1, 1);
    assert_counts(event(table, ANVIL_EVENT_RECIPIENT, IDENT, T0), 1, 2);
    assert_counts(event(table, ANVIL_EVENT_RECIPIENT, IDENT, T0), 1, 3);
    assert_counts(event(table, ANVIL_EVENT_AUTH, IDENT, T0), 1, 1);
    assert_counts(event(table, ANVIL_EVENT_LOOKUP, IDENT, T0), 1, 1);     /* connection rate */
    anvil_table_free(table);
}

static void test_rates_start_over_each_window(void **state)
{
    anvil_table *table = anvil_table_new(UNIT);

    assert_counts(event(table, ANVIL_EVENT_CONNECT, IDENT, T0), 1, 1);
    assert_counts(event(table, ANVIL_EVENT_MESSAGE, IDENT, T0 + 10), 1, 1);
    assert_counts(event(table, ANVIL_EVENT_CONNECT, IDENT, T0 + UNIT - 1), 2, 2);
    assert_counts(event(table, ANVIL_EVENT_CONNECT, IDENT, T0 + UNIT), 3, 1);     /* new window */
    assert_counts(event(table, ANVIL_EVENT_MESSAGE, IDENT, T0 + UNIT + 1), 3, 1);
    assert_counts(event(table, ANVIL_EVENT_LOOKUP, IDENT, T0 + 3 * UNIT), 3, 0);
    /* A clock that went backwards starts a window too. */
    assert_counts(event(table, ANVIL_EVENT_CONNECT, IDENT, T0 - 100), 4, 1);
    anvil_table_free(table);
}

static void test_lookup_and_disconnect_create_nothing(void **state)
{
    anvil_table *table = anvil_table_new(UNIT);

    assert_counts(event(table, ANVIL_EVENT_LOOKUP, IDENT, T0), 0, 0);
    assert_counts(event(table, ANVIL_EVENT_DISCONNECT, IDENT, T0), 0, 0);
    assert_int_equal(anvil_table_size(table), 0);
    anvil_table_free(table);
}

static void test_idle_idents_expire(void **state)
{
    anvil_table *table = anvil_table_new(UNIT);

    event(table, ANVIL_EVENT_CONNECT, "smtp:held", T0);
    event(table, ANVIL_EVENT_CONNECT, "smtp:gone", T0);
    event(table, ANVIL_EVENT_DISCONNECT, "smtp:gone", T0 + 1);
    event(table, ANVIL_EVENT_MESSAGE, "smtp:messages-only", T0 + 30);
    assert_int_equal(anvil_table_expire(table, T0 + UNIT - 1), 3);     /* windows still open */
    assert_int_equal(anvil_table_expire(table, T0 + UNIT), 2);
    assert_counts(event(table, ANVIL_EVENT_LOOKUP, "smtp:gone", T0 + UNIT), 0, 0);
    assert_int_equal(anvil_table_expire(table, T0 + 30 + UNIT), 1);
    assert_counts(event(table, ANVIL_EVENT_LOOKUP, "smtp:held", T0 + 10 * UNIT), 1, 0);
    event(table, ANVIL_EVENT_DISCONNECT, "smtp:held", T0 + 10 * UNIT);
    assert_int_equal(anvil_table_expire(table, T0 + 11 * UNIT), 0);
    anvil_table_free(table);
}

static void test_memory_follows_recent_activity(void **state)
{
    anvil_table *table = anvil_table_new(UNIT);
    char    ident[64];

    for (int i = 0; i < 20000; i++) {
        snprintf(ident, sizeof(ident), "smtp:10.0.%d.%d", i / 256, i % 256);
        event(table, ANVIL_EVENT_CONNECT, ident, T0 + i / 1000);
        event(table, ANVIL_EVENT_DISCONNECT, ident, T0 + i / 1000);
    }
    assert_int_equal(anvil_table_size(table), 20000);
    assert_int_equal(anvil_table_expire(table, T0 + 19 + UNIT), 0);
    anvil_table_free(table);
}

static void test_statistics_lines(void **state)
{
    anvil_table *table = anvil_table_new(UNIT);
    argv_t *lines = argv_new(8);

    setenv("TZ", "UTC", 1);
    tzset();
    event(table, ANVIL_EVENT_CONNECT, IDENT, T0);
    event(table, ANVIL_EVENT_CONNECT, IDENT, T0 + 1);
    event(table, ANVIL_EVENT_CONNECT, "smtp:192.0.2.9", T0 + 2);
    event(table, ANVIL_EVENT_MESSAGE, "smtp:192.0.2.9", T0 + 3);
    event(table, ANVIL_EVENT_RECIPIENT, IDENT, T0 + 4);
    event(table, ANVIL_EVENT_AUTH, IDENT, T0 + 5);
    anvil_table_statistics(table, lines);
    assert_int_equal(lines->count, 6);
    assert_string_equal(lines->items[0],
                        "statistics: max connection rate 2/60s for (smtp:192.0.2.1) "
                        "at Nov 23 16:09:20");
    assert_string_equal(lines->items[1],
                        "statistics: max connection count 2 for (smtp:192.0.2.1) "
                        "at Nov 23 16:09:20");
    assert_string_equal(lines->items[2],
                        "statistics: max message rate 1/60s for (smtp:192.0.2.9) "
                        "at Nov 23 16:09:22");
    assert_string_equal(lines->items[3],
                        "statistics: max recipient rate 1/60s for (smtp:192.0.2.1) "
                        "at Nov 23 16:09:23");
    assert_string_equal(lines->items[4],
                        "statistics: max auth rate 1/60s for (smtp:192.0.2.1) "
                        "at Nov 23 16:09:24");
    assert_string_equal(lines->items[5], "statistics: max cache size 2 at Nov 23 16:09:21");
    argv_truncate(lines, 0);
    anvil_table_statistics(table, lines);                   /* maxima start over */
    assert_int_equal(lines->count, 0);
    event(table, ANVIL_EVENT_CONNECT, IDENT, T0 + 86400 * 10);
    anvil_table_statistics(table, lines);
    assert_int_equal(lines->count, 2);                      /* rate 1, count 3; size 2 old */
    assert_string_equal(lines->items[1],
                        "statistics: max connection count 3 for (smtp:192.0.2.1) "
                        "at Dec  3 16:09:19");
    argv_free(lines);
    anvil_table_free(table);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_names),
        cmocka_unit_test(test_concurrent_connections),
        cmocka_unit_test(test_each_rate_counts_its_own_events),
        cmocka_unit_test(test_rates_start_over_each_window),
        cmocka_unit_test(test_lookup_and_disconnect_create_nothing),
        cmocka_unit_test(test_idle_idents_expire),
        cmocka_unit_test(test_memory_follows_recent_activity),
        cmocka_unit_test(test_statistics_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
