/* Unit tests for the master.cf reader. */
#include "unit.h"

#include "master_cf.h"
#include "strbuf.h"

static master_cf *parse(const char *text, strbuf *error)
{
    return master_cf_parse("/etc/x/master.cf", text, error);
}

static void test_good_file(void **state)
{
    strbuf *error = strbuf_new(64);
    master_cf *mcf = parse("# service table\n"
                           "smtp      inet  n       -       y       -       -       smtpd\n"
                           "  -o smtpd_banner=x\n"
                           "  -o { smtpd_client_restrictions = permit_mynetworks, reject }\n"
                           "pickup    unix  n       -       y       60      1       pickup\n"
                           "qmgr      unix  n       -       n       300?    1       qmgr\n"
                           "127.0.0.1:2525 inet n   -       n       -       10      smtpd\n",
                           error);

    assert_non_null(mcf);
    assert_int_equal(mcf->count, 4);
    const master_service *smtp = master_cf_find(mcf, "smtp", "inet");
    assert_non_null(smtp);
    assert_int_equal(smtp->private_socket, 0);
    assert_int_equal(smtp->unprivileged, 1);
    assert_int_equal(smtp->chroot, 1);
    assert_int_equal(smtp->maxproc, MASTER_MAXPROC_DEFAULT);
    assert_int_equal(smtp->line, 2);
    assert_string_equal(smtp->command->items[0], "smtpd");
    assert_int_equal(smtp->overrides->count, 2);
    assert_string_equal(smtp->overrides->items[0], "smtpd_banner=x");
    assert_string_equal(smtp->overrides->items[1],
                        "smtpd_client_restrictions = permit_mynetworks, reject");
    const master_service *pickup = master_cf_find(mcf, "pickup", NULL);
    assert_int_equal(pickup->wakeup, 60);
    assert_int_equal(pickup->wakeup_only_when_used, 0);
    assert_int_equal(pickup->maxproc, 1);
    const master_service *qmgr = master_cf_find(mcf, "qmgr", "unix");
    assert_int_equal(qmgr->wakeup, 300);
    assert_int_equal(qmgr->wakeup_only_when_used, 1);
    assert_int_equal(qmgr->chroot, 0);
    assert_non_null(master_cf_find(mcf, "127.0.0.1:2525", "inet"));
    assert_null(master_cf_find(mcf, "smtp", "unix"));
    master_cf_free(mcf);
    strbuf_free(error);
}

static void expect_error(const char *text, const char *fragment)
{
    strbuf *error = strbuf_new(64);

    assert_null(parse(text, error));
    if (strstr(error->data, fragment) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", error->data, fragment);
    strbuf_free(error);
}

static void test_errors_name_file_and_line(void **state)
{
    expect_error("# c\nsmtp inet n - y\n", "/etc/x/master.cf, line 2: bad field count");
    expect_error("smtp bogus n - y - - smtpd\n", "line 1: invalid type field \"bogus\"");
    expect_error("a unix n - y - - a\nsmtp inet x - y - - smtpd\n",
                 "line 2: invalid private field \"x\"");
    expect_error("smtp inet n q y - - smtpd\n", "invalid unpriv field \"q\"");
    expect_error("smtp inet n - yes - - smtpd\n", "invalid chroot field \"yes\"");
    expect_error("smtp inet n - y ab - smtpd\n", "invalid wakeup field \"ab\"");
    expect_error("smtp inet n - y 10! - smtpd\n", "invalid wakeup field \"10!\"");
    expect_error("smtp inet n - y - x1 smtpd\n", "invalid maxproc field \"x1\"");
    expect_error("smtp inet n - y - - smtpd -o\n", "missing value after -o");
    expect_error("smtp inet n - y - - smtpd -o novalue\n", "bad -o argument");
    expect_error("smtp inet n - y - - smtpd\n\nsmtp inet n - y - - smtpd\n",
                 "line 3: duplicate service \"smtp/inet\"");
    expect_error("  smtp inet n - y - - smtpd\n", "line 1: logical line must not start");
    expect_error("smtp inet n - y - - smtpd -o { a=b\n", "missing '}'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_errors_name_file_and_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
