/*
 * Unit tests for cleanup's address rewriting: canonical maps (sender,
 * recipient, common; classes; extensions; iteration), masquerading with
 * exceptions, virtual alias expansion (recursion, self reference, loops,
 * limits, failing tables) and automatic BCC recipients, through whole
 * messages and the queue files they produce.
 */
#include "test_cleanup.h"

/* Runs a message and reads its queue file; the caller frees both. */
static stream *run_and_read(test_msg *m, queue_envelope *env, char **content)
{
    test_result r;
    stream *s;

    run_cleanup(m, &r);
    if (r.status != 0)
        fail_msg("status %d reason %s log %s", r.status, r.reason, log_text());
    s = read_queue_file("incoming", r.queue_id, env);
    *content = queue_content(s, env);
    return s;
}

static void done(stream *s, queue_envelope *env, char *content)
{
    free(content);
    queue_envelope_free(env);
    stream_close(s);
}

static void reopen_tables(void)
{
    params_load();
    cleanup_tables_open();
}

static void test_canonical_maps_envelope_and_headers(void **unused)
{
    test_msg m;
    queue_envelope env;
    char   *content;
    stream *s;

    (void) unused;
    cleanup_test_setup();
    config_set_override("sender_canonical_maps",
                        "inline:{ alice@example.test=Alice.Smith@example.test }");
    config_set_override("recipient_canonical_maps", "inline:{ bob@example.test=robert }");
    config_set_override("canonical_maps", "inline:{ @old.example=@new.example }");
    config_set_override("recipient_delimiter", "+");
    reopen_tables();
    msg_simple(&m, LOCAL_FLAGS, "alice", "bob x+tag@old.example",
               "From: alice\nTo: bob, x@old.example\nCc: alice\n\nbody");
    s = run_and_read(&m, &env, &content);
    assert_string_equal(env.sender, "Alice.Smith@example.test");
    assert_string_equal(env.recipients[0].address, "robert@example.test");
    assert_string_equal(env.recipients[0].orig_rcpt, "bob");
    /* The unmatched extension is carried over ("canonical" propagation). */
    assert_string_equal(env.recipients[1].address, "x+tag@new.example");
    /* Headers: sender tables for From:, recipient tables for To:/Cc:. */
    assert_non_null(strstr(content, "From: Alice.Smith@example.test\n"
                           "To: robert@example.test, x@new.example\n"
                           "Cc: alice@example.test\n"));
    done(s, &env, content);
}

static void test_canonical_classes_and_map_ok(void **unused)
{
    test_msg m;
    queue_envelope env;
    char   *content;
    stream *s;

    (void) unused;
    cleanup_test_setup();
    config_set_override("canonical_maps", "inline:{ alice@example.test=changed@example.test }");
    config_set_override("canonical_classes", "envelope_sender");
    reopen_tables();
    msg_simple(&m, LOCAL_FLAGS, "alice", "alice", "From: alice\n\nbody");
    s = run_and_read(&m, &env, &content);
    assert_string_equal(env.sender, "changed@example.test");
    assert_string_equal(env.recipients[0].address, "alice@example.test");
    assert_non_null(strstr(content, "From: alice@example.test\n"));
    done(s, &env, content);
    /* Without CLEANUP_FLAG_MAP_OK no table applies. */
    msg_simple(&m, LOCAL_FLAGS & ~CLEANUP_FLAG_MAP_OK, "alice", "alice", "x");
    s = run_and_read(&m, &env, &content);
    assert_string_equal(env.sender, "alice@example.test");
    done(s, &env, content);
}

static void test_canonical_iteration_is_bounded(void **unused)
{
    test_msg m;
    test_result r;

    (void) unused;
    cleanup_test_setup();
    config_set_override("canonical_maps",
                        "inline:{ a@example.test=b@example.test, b@example.test=a@example.test }");
    reopen_tables();
    msg_simple(&m, LOCAL_FLAGS, "a@example.test", "x@example.test", "x");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_DEFER);
    assert_non_null(strstr(log_text(), "unreasonable canonical_maps map nesting for"));
}

static void test_masquerading(void **unused)
{
    strbuf *a = strbuf_new(32);

    (void) unused;
    cleanup_test_setup();
    config_set_override("masquerade_domains", "!keep.example.test, foo.example.test example.test");
    config_set_override("masquerade_exceptions", "root");
    reopen_tables();
    strbuf_set(a, "user@host.foo.example.test");
    assert_true(cleanup_masquerade(a));
    assert_string_equal(a->data, "user@foo.example.test");
    strbuf_set(a, "user@HOST.else.Example.Test");
    assert_true(cleanup_masquerade(a));
    assert_string_equal(a->data, "user@example.test");
    strbuf_set(a, "user@example.test");
    assert_false(cleanup_masquerade(a));
    strbuf_set(a, "user@a.keep.example.test");
    assert_false(cleanup_masquerade(a));
    strbuf_set(a, "user@notexample.test");
    assert_false(cleanup_masquerade(a));
    strbuf_set(a, "root@host.example.test");
    assert_false(cleanup_masquerade(a));
    strbuf_set(a, "user");
    assert_false(cleanup_masquerade(a));
    strbuf_free(a);
}

static void test_masquerade_classes_in_a_message(void **unused)
{
    test_msg m;
    queue_envelope env;
    char   *content;
    stream *s;

    (void) unused;
    cleanup_test_setup();
    config_set_override("masquerade_domains", "example.test");
    reopen_tables();
    msg_simple(&m, LOCAL_FLAGS, "alice@host.example.test", "bob@host.example.test",
               "From: alice@host.example.test\nTo: bob@host.example.test\n\nbody");
    s = run_and_read(&m, &env, &content);
    /* Default classes: envelope sender and headers, not envelope recipients. */
    assert_string_equal(env.sender, "alice@example.test");
    assert_string_equal(env.recipients[0].address, "bob@host.example.test");
    assert_non_null(strstr(content, "From: alice@example.test\nTo: bob@example.test\n"));
    done(s, &env, content);
}

static void test_virtual_alias_expansion(void **unused)
{
    test_msg m;
    queue_envelope env;
    char   *content;
    stream *s;

    (void) unused;
    cleanup_test_setup();
    config_set_override("virtual_alias_maps",
                        "inline:{ {team@example.test = ann, bob@remote.example, "
                        "team@example.test}, ann@example.test=ann@remote.example, "
                        "@virt.example=catch@remote.example }");
    reopen_tables();
    msg_simple(&m, LOCAL_FLAGS, "alice", "team@example.test anyone@virt.example",
               "To: team@example.test\n\nbody");
    s = run_and_read(&m, &env, &content);
    assert_int_equal(env.recipient_count, 4);
    assert_string_equal(env.recipients[0].address, "ann@remote.example");
    assert_string_equal(env.recipients[0].orig_rcpt, "team@example.test");
    assert_string_equal(env.recipients[1].address, "bob@remote.example");
    assert_string_equal(env.recipients[2].address, "team@example.test");
    assert_string_equal(env.recipients[3].address, "catch@remote.example");
    /* Virtual aliasing is for the envelope only. */
    assert_non_null(strstr(content, "To: team@example.test\n"));
    done(s, &env, content);
}

static void test_virtual_alias_loops_and_limits(void **unused)
{
    test_msg m;
    test_result r;

    (void) unused;
    cleanup_test_setup();
    config_set_override("virtual_alias_maps",
                        "inline:{ a@example.test=b@example.test, b@example.test=a@example.test, "
                        "{wide@example.test = w1@x.example, w2@x.example, w3@x.example} }");
    reopen_tables();
    msg_simple(&m, LOCAL_FLAGS, "alice", "a@example.test", "x");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_DEFER);
    assert_string_equal(r.reason, "4.6.0 Alias expansion error");
    assert_non_null(strstr(log_text(), "unreasonable virtual_alias_maps map nesting for "
                           "a@example.test -- message not accepted"));
    var_virtual_alias_expansion_limit = 2;
    msg_simple(&m, LOCAL_FLAGS, "alice", "wide@example.test", "x");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_DEFER);
    assert_non_null(strstr(log_text(), "unreasonable virtual_alias_maps map expansion size"));
}

static void test_one_resolve_per_address(void **unused)
{
    test_msg m;
    queue_envelope env;
    char   *content;
    stream *s;

    (void) unused;
    cleanup_test_setup();
    config_set_override("canonical_maps", "inline:{ x@example.test=y@example.test }");
    config_set_override("virtual_alias_maps", "inline:{ z@example.test=w@example.test }");
    reopen_tables();
    msg_simple(&m, SMTPD_FLAGS, "", "someone@example.test", "x");
    s = run_and_read(&m, &env, &content);
    assert_string_equal(env.recipients[0].address, "someone@example.test");
    assert_int_equal(fake_resolve_calls, 1);
    done(s, &env, content);
}

static void test_failing_table_defers(void **unused)
{
    test_msg m;
    test_result r;

    (void) unused;
    cleanup_test_setup();
    config_set_override("virtual_alias_maps", "fail:broken");
    reopen_tables();
    msg_simple(&m, SMTPD_FLAGS, "a@remote.example", "bob@example.test", "x");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_DEFER);
    assert_string_equal(r.reason, "4.3.0 Temporary lookup failure");
    assert_non_null(strstr(log_text(), "virtual_alias_maps map lookup problem for "
                           "bob@example.test -- message not accepted, try again later"));
    assert_int_equal(dir_count("incoming"), 0);
}

static void test_automatic_bcc(void **unused)
{
    test_msg m;
    queue_envelope env;
    char   *content;
    stream *s;

    (void) unused;
    cleanup_test_setup();
    config_set_override("always_bcc", "archive@example.test");
    config_set_override("sender_bcc_maps", "inline:{ alice@example.test=boss@example.test }");
    config_set_override("recipient_bcc_maps", "inline:{ bob@example.test=copy@example.test }");
    reopen_tables();
    msg_simple(&m, LOCAL_FLAGS, "alice", "bob", "x");
    s = run_and_read(&m, &env, &content);
    assert_int_equal(env.recipient_count, 4);
    assert_string_equal(env.recipients[0].address, "bob@example.test");
    assert_string_equal(env.recipients[1].address, "copy@example.test");
    assert_int_equal(env.recipients[1].dsn_notify, 1);
    assert_string_equal(env.recipients[2].address, "archive@example.test");
    assert_string_equal(env.recipients[3].address, "boss@example.test");
    done(s, &env, content);
    /* Not for a delivery status notification. */
    msg_begin(&m, LOCAL_FLAGS);
    msg_rec(&m, 'A', "trace_flags=1");
    msg_rec(&m, 'S', "");
    msg_rec(&m, 'R', "bob");
    msg_rec(&m, 'M', "");
    msg_rec(&m, 'X', "");
    msg_rec(&m, 'E', "");
    s = run_and_read(&m, &env, &content);
    assert_int_equal(env.recipient_count, 1);
    assert_int_equal(env.sizes.flags & QUEUE_FLAG_DSN, QUEUE_FLAG_DSN);
    done(s, &env, content);
}

static void test_addresses_are_data(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    char   *content;
    stream *s;

    (void) unused;
    cleanup_test_setup();
    msg_begin(&m, LOCAL_FLAGS);
    msg_rec(&m, 'S', ";sleep 5;");
    msg_rec(&m, 'F', "Evil\" <x@y.example>, Injected: (z");
    msg_rec(&m, 'R', "${run{/bin/true}}@example.test");
    msg_rec(&m, 'M', "");
    msg_lines(&m, "Subject: x\n\nbody");
    msg_rec(&m, 'X', "");
    msg_rec(&m, 'E', "");
    s = run_and_read(&m, &env, &content);
    assert_string_equal(env.sender, ";sleep 5;@example.test");
    assert_string_equal(env.recipients[0].address, "${run{/bin/true}}@example.test");
    /* The generated From: is one header: the name quoted, the address ours. */
    assert_non_null(strstr(content, "\nFrom: \"Evil\\\" <x@y.example>, Injected: (z\" "
                           "<\";sleep 5;\"@example.test>\n\nbody"));
    done(s, &env, content);
    /* A full name with a line break never reaches a header. */
    msg_begin(&m, LOCAL_FLAGS);
    msg_rec(&m, 'S', "alice");
    msg_rec(&m, 'F', "Alice\nInjected: yes");
    msg_rec(&m, 'R', "bob");
    msg_rec(&m, 'M', "");
    msg_rec(&m, 'X', "");
    msg_rec(&m, 'E', "");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_BAD);
    assert_int_equal(dir_count("incoming"), 1);    /* the first message only */
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_maps_envelope_and_headers),
        cmocka_unit_test(test_canonical_classes_and_map_ok),
        cmocka_unit_test(test_canonical_iteration_is_bounded),
        cmocka_unit_test(test_masquerading),
        cmocka_unit_test(test_masquerade_classes_in_a_message),
        cmocka_unit_test(test_virtual_alias_expansion),
        cmocka_unit_test(test_virtual_alias_loops_and_limits),
        cmocka_unit_test(test_one_resolve_per_address),
        cmocka_unit_test(test_failing_table_defers),
        cmocka_unit_test(test_automatic_bcc),
        cmocka_unit_test(test_addresses_are_data),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
