/*
 * test_set_eugid - switching the effective identity and back, and that a
 * repeated switch is remembered rather than redone. make check runs as
 * root (CI and the development machine); as another user set_eugid() must
 * change nothing.
 */
#include "unit.h"

#include <grp.h>
#include <sys/types.h>

#include "set_eugid.h"

#define NOBODY_ID 65534

static void assert_identity(uid_t uid, gid_t gid)
{
    gid_t   groups[4];
    int     count = getgroups(4, groups);

    assert_int_equal(geteuid(), uid);
    assert_int_equal(getegid(), gid);
    assert_int_equal(count, 1);
    assert_int_equal(groups[0], gid);
}

static void test_switch_and_back(void **unused)
{
    (void) unused;
    if (getuid() != 0) {
        uid_t   euid = geteuid();

        set_eugid(NOBODY_ID, NOBODY_ID);
        assert_int_equal(geteuid(), euid);
        return;
    }
    set_eugid(NOBODY_ID, NOBODY_ID);
    assert_identity(NOBODY_ID, NOBODY_ID);
    set_eugid(NOBODY_ID, NOBODY_ID);
    assert_identity(NOBODY_ID, NOBODY_ID);
    set_eugid(NOBODY_ID, 0);
    assert_identity(NOBODY_ID, 0);
    set_eugid(0, 0);
    assert_identity(0, 0);
    set_eugid(1, 1);
    assert_identity(1, 1);
    set_eugid(0, 0);
    assert_identity(0, 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_switch_and_back),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
