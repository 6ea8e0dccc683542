/* Unit tests for strbuf, argv and htable. */
#include "unit.h"

#include "argv.h"
#include "htable.h"
#include "strbuf.h"

static void test_append_grows_and_terminates(void **state)
{
    strbuf *sb = strbuf_new(1);

    for (int i = 0; i < 1000; i++)
        strbuf_append_str(sb, "abc");
    assert_int_equal(sb->len, 3000);
    assert_int_equal(sb->data[3000], 0);
    assert_int_equal(strlen(sb->data), 3000);
    assert_memory_equal(sb->data + 2997, "abc", 3);
    strbuf_free(sb);
}

static void test_binary_safe(void **state)
{
    strbuf *sb = strbuf_new(4);

    strbuf_append(sb, "a\0b", 3);
    strbuf_append_char(sb, 0);
    strbuf_append_char(sb, 'c');
    assert_int_equal(sb->len, 5);
    assert_memory_equal(sb->data, "a\0b\0c", 5);
    strbuf_free(sb);
}

static void test_printf_replaces_and_appends(void **state)
{
    strbuf *sb = strbuf_from("old text");

    strbuf_printf(sb, "%d-%s", 42, "x");
    assert_string_equal(sb->data, "42-x");
    strbuf_append_printf(sb, "/%0300d", 7);
    assert_int_equal(sb->len, 4 + 1 + 300);
    assert_int_equal(sb->data[sb->len - 1], '7');
    strbuf_free(sb);
}

static void test_truncate_reset_lowercase(void **state)
{
    strbuf *sb = strbuf_from("Hello World");

    strbuf_truncate(sb, 5);
    assert_string_equal(sb->data, "Hello");
    strbuf_truncate(sb, 50);            /* longer: no change */
    assert_int_equal(sb->len, 5);
    strbuf_lowercase(sb);
    assert_string_equal(sb->data, "hello");
    assert_int_equal(strbuf_last(sb), 'o');
    strbuf_reset(sb);
    assert_int_equal(sb->len, 0);
    assert_int_equal(strbuf_last(sb), -1);
    strbuf_free(sb);
}

static void test_steal(void **state)
{
    strbuf *sb = strbuf_from("mine");
    char   *text = strbuf_steal(sb);

    assert_string_equal(text, "mine");
    free(text);
}

static void test_argv_split_and_insert(void **state)
{
    argv_t *list = argv_split(" a, b,,c\td ", ARGV_LIST_DELIMITERS);

    assert_int_equal(list->count, 4);
    assert_string_equal(list->items[0], "a");
    assert_string_equal(list->items[3], "d");
    assert_null(list->items[4]);
    argv_insert(list, 0, "first");
    argv_insert(list, 99, "last");
    argv_insert(list, 2, "middle");
    assert_int_equal(list->count, 7);
    assert_string_equal(list->items[0], "first");
    assert_string_equal(list->items[1], "a");
    assert_string_equal(list->items[2], "middle");
    assert_string_equal(list->items[6], "last");
    assert_null(list->items[7]);
    assert_true(argv_contains(list, "c"));
    assert_false(argv_contains(list, "zz"));
    argv_truncate(list, 1);
    assert_int_equal(list->count, 1);
    assert_null(list->items[1]);
    argv_free(list);
}

static void test_htable_many_keys(void **state)
{
    htable *table = htable_new(1);
    char    key[32];
    argv_t *keys;

    for (long i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key%ld", i);
        htable_put(table, key, (void *) (i + 1), NULL);
    }
    assert_int_equal(table->used, 5000);
    assert_ptr_equal(htable_get(table, "key4321"), (void *) 4322);
    htable_delete(table, "key4321", NULL);
    assert_null(htable_get(table, "key4321"));
    assert_int_equal(table->used, 4999);
    htable_put(table, "key0", (void *) 99, NULL);
    assert_ptr_equal(htable_get(table, "key0"), (void *) 99);
    keys = htable_keys(table);
    assert_int_equal(keys->count, 4999);
    assert_string_equal(keys->items[0], "key0");
    argv_free(keys);
    htable_free(table, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grows_and_terminates),
        cmocka_unit_test(test_binary_safe),
        cmocka_unit_test(test_printf_replaces_and_appends),
        cmocka_unit_test(test_truncate_reset_lowercase),
        cmocka_unit_test(test_steal),
        cmocka_unit_test(test_argv_split_and_insert),
        cmocka_unit_test(test_htable_many_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
