/* Unit tests for listing queue directories at any hash depth (queue_scan.c). */
#include "unit.h"

#include <fcntl.h>

#include "argv.h"
#include "queue_scan.h"

static void touch(const char *path)
{
    int     fd = open(path, O_WRONLY | O_CREAT, 0600);

    assert_true(fd >= 0);
    close(fd);
}

static void test_scan_every_depth(void **state)
{
    argv_t *ids = argv_new(4);

    (void) state;
    unit_enter_queue();
    mkdir("deferred", 0700);
    mkdir("deferred/A", 0700);
    mkdir("deferred/A/B", 0700);
    mkdir("deferred/notahashdir", 0700);
    touch("deferred/A/ABCDEF1");
    touch("deferred/A/B/AB12345");
    touch("deferred/C0FFEE1");                  /* left by hash_queue_depth = 0 */
    touch("deferred/tmp.123.456.0");            /* not a queue ID */
    touch("deferred/notahashdir/DEADBEEF");     /* not a hash directory */
    assert_int_equal(symlink("/", "deferred/F"), 0);     /* never followed */
    assert_int_equal(queue_scan("deferred", ids), 0);
    assert_int_equal(ids->count, 3);
    assert_true(argv_contains(ids, "ABCDEF1"));
    assert_true(argv_contains(ids, "AB12345"));
    assert_true(argv_contains(ids, "C0FFEE1"));
    argv_free(ids);
    ids = argv_new(4);
    assert_int_equal(queue_scan("nosuchqueue", ids), -1);
    argv_free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_every_depth),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
