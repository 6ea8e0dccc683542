/* Unit tests for services: master.cf entries resolved against main.cf. */
#include "unit.h"

#include <sys/socket.h>

#include "config.h"
#include "mail_params.h"
#include "master_cf.h"
#include "msg.h"
#include "services.h"
#include "strbuf.h"

static int setup(void **state)
{
    var_daemon_directory = "/usr/libexec/postfix";
    var_queue_directory = "/var/spool/postfix";
    var_inet_interfaces = "127.0.0.1";
    var_default_process_limit = 100;
    var_master_service_disable = "";
    msg_verbose = 0;
    return 0;
}

/* Builds a table from master.cf text, or NULL with the error in error. */
static service_table *build(const char *text, int families, strbuf *error)
{
    master_cf *mcf = master_cf_parse("/etc/p/master.cf", text, error);
    service_table *table;

    assert_non_null(mcf);
    table = service_table_build(mcf, families, error);
    master_cf_free(mcf);
    return table;
}

static const service_def *find(const service_table *table, const char *name,
                               const char *type)
{
    for (size_t i = 0; i < table->count; i++)
        if (strcmp(table->services[i]->name, name) == 0
            && strcmp(table->services[i]->type, type) == 0)
            return table->services[i];
    fail_msg("no service %s/%s", name, type);
    return NULL;
}

static void assert_argv(const argv_t *argv, const char *const *expected)
{
    size_t  i;

    for (i = 0; expected[i]; i++) {
        assert_true(i < argv->count);
        assert_string_equal(argv->items[i], expected[i]);
    }
    assert_int_equal(argv->count, i);
}

static void test_services(void **state)
{
    strbuf *error = strbuf_new(64);
    service_table *table = build(
        "smtp      inet  n - y - -  smtpd -o smtpd_banner=x extra\n"
        "pickup    unix  n - y 60 1 pickup\n"
        "qmgr      fifo  - n n 300? 0 qmgr\n"
        "postlog   unix-dgram n - n - 1 postlogd\n"
        "smtpd     pass  - - y - - smtpd\n", SERVICE_IPV4, error);
    const service_def *smtp;
    const service_def *pickup;
    const service_def *qmgr;

    assert_non_null(table);
    assert_int_equal(table->count, 5);
    assert_int_equal(table->warnings->count, 0);
    smtp = find(table, "smtp", "inet");
    assert_int_equal(smtp->kind, SERVICE_INET);
    assert_string_equal(smtp->path, "/usr/libexec/postfix/smtpd");
    assert_int_equal(smtp->maxproc, 100);
    assert_int_equal(smtp->line, 1);
    assert_int_equal(smtp->endpoint_count, 1);
    assert_string_equal(smtp->endpoints[0].key, "127.0.0.1:25");
    assert_string_equal(smtp->endpoints[0].host, "127.0.0.1");
    assert_string_equal(smtp->endpoints[0].port, "25");
    assert_int_equal(smtp->endpoints[0].family, AF_INET);
    assert_argv(smtp->argv, (const char *const[]) {
        "smtpd", "-n", "smtp", "-t", "inet", "-u", "-c", "-o", "smtpd_banner=x", "extra", NULL});
    pickup = find(table, "pickup", "unix");
    assert_string_equal(pickup->endpoints[0].key, "/var/spool/postfix/public/pickup");
    assert_string_equal(pickup->endpoints[0].path, "/var/spool/postfix/public/pickup");
    assert_int_equal(pickup->wakeup, 60);
    assert_int_equal(pickup->wakeup_conditional, 0);
    assert_int_equal(pickup->maxproc, 1);
    assert_argv(pickup->argv, (const char *const[]) {"pickup", "-t", "unix", "-u", "-c", NULL});
    qmgr = find(table, "qmgr", "fifo");
    assert_int_equal(qmgr->kind, SERVICE_FIFO);
    assert_string_equal(qmgr->endpoints[0].path, "/var/spool/postfix/private/qmgr");
    assert_int_equal(qmgr->wakeup, 300);
    assert_int_equal(qmgr->wakeup_conditional, 1);
    assert_int_equal(qmgr->maxproc, 0);
    assert_argv(qmgr->argv, (const char *const[]) {"qmgr", "-t", "fifo", NULL});
    assert_int_equal(find(table, "postlog", "unix-dgram")->kind, SERVICE_UNIX_DGRAM);
    assert_int_equal(find(table, "smtpd", "pass")->kind, SERVICE_PASS);
    service_table_free(table);
    strbuf_free(error);
}

static const service_def *single(service_table *table, const strbuf *error)
{
    if (table == NULL)
        fail_msg("build failed: %s", error->data);
    assert_int_equal(table->count, 1);
    return table->services[0];
}

static void test_inet_addresses(void **state)
{
    strbuf *error = strbuf_new(64);
    service_table *table;
    const service_def *def;

    var_inet_interfaces = "all";
    table = build("smtp inet n - n - - smtpd\n", SERVICE_IPV4 | SERVICE_IPV6, error);
    def = single(table, error);
    assert_int_equal(def->endpoint_count, 2);
    assert_string_equal(def->endpoints[0].key, "0.0.0.0:25");
    assert_string_equal(def->endpoints[0].host, "");
    assert_string_equal(def->endpoints[1].key, "[::]:25");
    assert_int_equal(def->endpoints[1].family, AF_INET6);
    assert_argv(def->argv, (const char *const[]) {
        "smtpd", "-n", "smtp", "-t", "inet", "-u", "-s", "2", NULL});
    service_table_free(table);

    var_inet_interfaces = "loopback-only";
    def = single(table = build("2525 inet n - n - - smtpd\n", SERVICE_IPV4, error), error);
    assert_int_equal(def->endpoint_count, 1);
    assert_string_equal(def->endpoints[0].key, "127.0.0.1:2525");
    service_table_free(table);

    var_inet_interfaces = "127.0.0.1, [::1], 127.0.0.1";
    def = single(table = build("submission inet n - n - - smtpd\n",
                               SERVICE_IPV4 | SERVICE_IPV6, error), error);
    assert_int_equal(def->endpoint_count, 2);
    assert_string_equal(def->endpoints[0].key, "127.0.0.1:587");
    assert_string_equal(def->endpoints[1].key, "[::1]:587");
    service_table_free(table);

    def = single(table = build("127.0.0.2:2526 inet n - n - - smtpd\n", SERVICE_IPV4, error), error);
    assert_int_equal(def->endpoint_count, 1);
    assert_string_equal(def->endpoints[0].key, "127.0.0.2:2526");
    service_table_free(table);

    def = single(table = build("[::1]:smtp inet n - n - - smtpd\n", SERVICE_IPV6, error), error);
    assert_string_equal(def->endpoints[0].key, "[::1]:25");
    service_table_free(table);

    def = single(table = build("*:2527 inet n - n - - smtpd\n", SERVICE_IPV4, error), error);
    assert_string_equal(def->endpoints[0].key, "0.0.0.0:2527");
    service_table_free(table);

    var_inet_interfaces = "localhost";
    def = single(table = build("2528 inet n - n - - smtpd\n", SERVICE_IPV4, error), error);
    assert_string_equal(def->endpoints[0].key, "127.0.0.1:2528");
    service_table_free(table);
    strbuf_free(error);
}

static void expect_error(const char *text, int families, const char *fragment)
{
    strbuf *error = strbuf_new(64);

    assert_null(build(text, families, error));
    if (strstr(error->data, fragment) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", error->data, fragment);
    strbuf_free(error);
}

static void test_errors_name_file_and_line(void **state)
{
    expect_error("pickup unix n - y 60 1 pickup\nsmtp inet n - y - - ../../bin/sh\n",
                 SERVICE_IPV4, "/etc/p/master.cf, line 2: command name \"../../bin/sh\" "
                 "must not contain \"/\"");
    expect_error("smtp inet n - y - - /usr/sbin/sendmail\n", SERVICE_IPV4,
                 "line 1: command name \"/usr/sbin/sendmail\"");
    expect_error("nosuchport inet n - y - - smtpd\n", SERVICE_IPV4,
                 "line 1: unknown service port \"nosuchport\"");
    expect_error("99999 inet n - y - - smtpd\n", SERVICE_IPV4, "unknown service port \"99999\"");
    expect_error("127.0.0.1: inet n - y - - smtpd\n", SERVICE_IPV4, "missing port");
    expect_error("[::1 inet n - y - - smtpd\n", SERVICE_IPV4, "bad inet service name");
    expect_error("[::1]:25 inet n - y - - smtpd\n", SERVICE_IPV4,
                 "\"::1\" has no address in the enabled inet_protocols");
    expect_error("../x unix n - y - - smtpd\n", SERVICE_IPV4,
                 "service name \"../x\" must not contain \"/\"");
    expect_error(".. fifo n - y - - smtpd\n", SERVICE_IPV4, "service name \"..\"");
    var_inet_interfaces = "[1.2.3";
    expect_error("smtp inet n - y - - smtpd\n", SERVICE_IPV4, "bad address \"[1.2.3\"");
    var_inet_interfaces = "";
    expect_error("smtp inet n - y - - smtpd\n", SERVICE_IPV4, "inet_interfaces is empty");
}

static void test_disable_and_warnings(void **state)
{
    strbuf *error = strbuf_new(64);
    service_table *table;

    var_master_service_disable = "inet, pickup.unix";
    msg_verbose = 2;
    table = build("smtp inet n - y 10 - smtpd\n"
                  "pickup unix n - y 60 1 pickup\n"
                  "pickup fifo n - y 60 1 pickup\n"
                  "p pass n - y 5 1 smtpd\n", SERVICE_IPV4, error);
    assert_non_null(table);
    assert_int_equal(table->count, 2);
    assert_string_equal(table->services[0]->type, "fifo");
    assert_argv(table->services[0]->argv, (const char *const[]) {
        "pickup", "-t", "fifo", "-u", "-c", "-v", "-v", NULL});
    assert_int_equal(table->services[1]->wakeup, 0);
    assert_int_equal(table->warnings->count, 1);
    assert_string_equal(table->warnings->items[0], "/etc/p/master.cf, line 4: wakeup time "
                        "is ignored for pass service \"p\"");
    service_table_free(table);
    strbuf_free(error);
}

static void test_take_ownership(void **state)
{
    strbuf *error = strbuf_new(64);
    service_table *table = build("a unix - - n - - a\nb unix - - n - - b\n", SERVICE_IPV4, error);
    service_def *taken = service_table_take(table, 1);

    assert_string_equal(taken->name, "b");
    assert_null(table->services[1]);
    service_table_free(table);
    assert_string_equal(taken->path, "/usr/libexec/postfix/b");
    service_def_free(taken);
    strbuf_free(error);
}

static void test_protocols(void **state)
{
    strbuf *why = strbuf_new(64);
    int     families;

    assert_int_equal(service_parse_protocols("all", &families, why), 0);
    assert_int_equal(families, SERVICE_IPV4 | SERVICE_IPV6);
    assert_int_equal(service_parse_protocols("ipv6, ipv4", &families, why), 0);
    assert_int_equal(families, SERVICE_IPV4 | SERVICE_IPV6);
    assert_int_equal(service_parse_protocols("ipv4", &families, why), 0);
    assert_int_equal(families, SERVICE_IPV4);
    assert_int_equal(service_parse_protocols("ipv4 ipv5", &families, why), -1);
    assert_string_equal(why->data, "bad inet_protocols value \"ipv5\"");
    assert_int_equal(service_parse_protocols("", &families, why), -1);
    strbuf_free(why);
}

/* Regression: master reloads with config_init(config_dir()). */
static void test_config_reinit_with_own_directory(void **state)
{
    unit_temp_file("main.cf", "queue_directory = /q1\n");
    config_init(unit_temp_dir());
    unit_temp_file("main.cf", "queue_directory = /q2\n");
    config_init(config_dir());
    assert_string_equal(config_dir(), unit_temp_dir());
    assert_string_equal(config_lookup_raw("queue_directory"), "/q2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_services, setup),
        cmocka_unit_test_setup(test_inet_addresses, setup),
        cmocka_unit_test_setup(test_errors_name_file_and_line, setup),
        cmocka_unit_test_setup(test_disable_and_warnings, setup),
        cmocka_unit_test_setup(test_take_ownership, setup),
        cmocka_unit_test_setup(test_protocols, setup),
        cmocka_unit_test(test_config_reinit_with_own_directory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
