/*
 * Unit tests for the cleanup conversation: a whole message through
 * cleanup_session() over a socketpair, then the committed queue file read
 * back with the strict reader. Header fixing, "sendmail -t", limits,
 * protocol errors, commit and the replies.
 */
#include "test_cleanup.h"

static void test_local_submission_fixes_headers(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    stream *s;
    char   *content;

    (void) unused;
    cleanup_test_setup();
    msg_begin(&m, LOCAL_FLAGS);
    msg_rec(&m, 'T', "1700000000.000001");
    msg_rec(&m, 'A', "submit_uid=1000");
    msg_rec(&m, 'S', "alice");
    msg_rec(&m, 'F', "Alice Smith");
    msg_rec(&m, 'R', "bob");
    msg_rec(&m, 'M', "");
    msg_lines(&m, "Subject: hi\nReturn-Path: <forged@x>\nContent-Length: 3\n\nbody\n.\n");
    msg_rec(&m, 'X', "");
    msg_rec(&m, 'E', "");
    run_cleanup(&m, &r);
    assert_int_equal(r.open_status, 0);
    assert_true(r.replied);
    assert_int_equal(r.status, 0);
    assert_int_equal(dir_count("incoming"), 1);
    s = read_queue_file("incoming", r.queue_id, &env);
    assert_string_equal(env.sender, "alice@example.test");
    assert_string_equal(env.fullname, "Alice Smith");
    assert_int_equal(env.arrival.tv_sec, 1700000000);
    assert_int_equal(env.recipient_count, 1);
    assert_string_equal(env.recipients[0].address, "bob@example.test");
    assert_string_equal(env.recipients[0].orig_rcpt, "bob");
    assert_string_equal(queue_envelope_attr(&env, "rewrite_context"), "local");
    assert_string_equal(queue_envelope_attr(&env, "submit_uid"), "1000");
    assert_int_equal(env.sizes.flags & QUEUE_FLAG_LOCAL_SUBMIT, QUEUE_FLAG_LOCAL_SUBMIT);
    content = queue_content(s, &env);
    assert_non_null(strstr(content, "Subject: hi\nMessage-Id: <20231114221320."));
    assert_non_null(strstr(content, "@mx.example.test>\nDate: Tue, 14 Nov 2023 "));
    assert_non_null(strstr(content, "\nFrom: Alice Smith <alice@example.test>\n\nbody\n.\n"));
    assert_null(strstr(content, "Return-Path"));
    assert_null(strstr(content, "Content-Length"));
    assert_non_null(strstr(log_text(), ": message-id=<20231114221320."));
    free(content);
    queue_envelope_free(&env);
    stream_close(s);
}

static void test_remote_mail_keeps_headers_as_they_are(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    stream *s;
    char   *content;

    (void) unused;
    cleanup_test_setup();
    msg_begin(&m, SMTPD_FLAGS);
    msg_rec(&m, 'A', "client_address=192.0.2.1");
    msg_rec(&m, 'A', "rewrite_context=remote");
    msg_rec(&m, 'S', "a@remote.example");
    msg_rec(&m, 'R', "bob@example.test");
    msg_rec(&m, 'M', "");
    msg_lines(&m, "Received: from x\nFrom: joe\nTo: bob\n\nbody");
    msg_rec(&m, 'X', "");
    msg_rec(&m, 'E', "");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    s = read_queue_file("incoming", r.queue_id, &env);
    content = queue_content(s, &env);
    /* remote_header_rewrite_domain is empty: no rewriting, nothing added. */
    assert_string_equal(content, "Received: from x\nFrom: joe\nTo: bob\n\nbody\n");
    assert_null(strstr(log_text(), "message-id="));
    free(content);
    queue_envelope_free(&env);
    stream_close(s);
}

static void test_remote_header_rewrite_domain(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    stream *s;
    char   *content;

    (void) unused;
    cleanup_test_setup();
    config_set_override("remote_header_rewrite_domain", "remote.example.test");
    params_load();
    msg_simple(&m, SMTPD_FLAGS, "a@remote.example", "bob@example.test",
               "From: joe\nTo: \"Bob B\" <bob>, carol@x.example\n\nbody");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    s = read_queue_file("incoming", r.queue_id, &env);
    content = queue_content(s, &env);
    assert_non_null(strstr(content, "From: joe@remote.example.test\n"
                           "To: \"Bob B\" <bob@remote.example.test>, carol@x.example\n"));
    /* Missing headers are added when headers are rewritten. */
    assert_non_null(strstr(content, "\nMessage-Id: <"));
    free(content);
    queue_envelope_free(&env);
    stream_close(s);
}

static void test_sendmail_t_extracts_and_drops_bcc(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    stream *s;
    char   *content;

    (void) unused;
    cleanup_test_setup();
    msg_begin(&m, LOCAL_FLAGS | CLEANUP_FLAG_EXTRACT);
    msg_rec(&m, 'A', "dsn_notify=2");
    msg_rec(&m, 'S', "alice");
    msg_rec(&m, 'R', "argument@example.test");
    msg_rec(&m, 'M', "");
    msg_lines(&m, "To: x@remote.example, Y <y@remote.example>\nCc: x@remote.example\n"
              "Bcc: hidden@remote.example,\n  also@remote.example\nSubject: t\n\nbody");
    msg_rec(&m, 'X', "");
    msg_rec(&m, 'E', "");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    s = read_queue_file("incoming", r.queue_id, &env);
    assert_int_equal(env.recipient_count, 5);
    assert_string_equal(env.recipients[0].address, "argument@example.test");
    assert_int_equal(env.recipients[0].dsn_notify, 0);
    assert_string_equal(env.recipients[1].address, "x@remote.example");
    assert_int_equal(env.recipients[1].dsn_notify, 2);
    assert_string_equal(env.recipients[2].address, "y@remote.example");
    assert_string_equal(env.recipients[3].address, "hidden@remote.example");
    assert_string_equal(env.recipients[4].address, "also@remote.example");
    content = queue_content(s, &env);
    assert_null(strstr(content, "Bcc"));
    assert_null(strstr(content, "hidden"));
    assert_non_null(strstr(content, "Cc: x@remote.example\nSubject: t\n"));
    free(content);
    queue_envelope_free(&env);
    stream_close(s);
}

static void test_resent_headers_take_precedence(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    stream *s;
    char   *content;

    (void) unused;
    cleanup_test_setup();
    msg_begin(&m, LOCAL_FLAGS | CLEANUP_FLAG_EXTRACT);
    msg_rec(&m, 'S', "alice");
    msg_rec(&m, 'M', "");
    msg_lines(&m, "From: orig@remote.example\nDate: x\nMessage-ID: <a@b>\nTo: old@remote.example\n"
              "Resent-To: new@remote.example\n\nbody");
    msg_rec(&m, 'X', "");
    msg_rec(&m, 'E', "");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    s = read_queue_file("incoming", r.queue_id, &env);
    assert_int_equal(env.recipient_count, 1);
    assert_string_equal(env.recipients[0].address, "new@remote.example");
    content = queue_content(s, &env);
    assert_non_null(strstr(content, "\nResent-Message-Id: <"));
    assert_non_null(strstr(content, "\nResent-Date: "));
    assert_non_null(strstr(content, "\nResent-From: alice@example.test\n"));
    assert_non_null(strstr(log_text(), ": message-id=<a@b>"));
    assert_non_null(strstr(log_text(), ": resent-message-id=<"));
    free(content);
    queue_envelope_free(&env);
    stream_close(s);
}

static void test_non_header_line_ends_the_headers(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    stream *s;
    char   *content;

    (void) unused;
    cleanup_test_setup();
    msg_simple(&m, LOCAL_FLAGS, "alice", "bob", "Subject: x\nbogus header line\n\nbody");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    s = read_queue_file("incoming", r.queue_id, &env);
    content = queue_content(s, &env);
    /* As Postfix: missing headers, then the empty line the message lacked. */
    assert_non_null(strstr(content, "\nFrom: alice@example.test\n\nbogus header line\n\nbody\n"));
    free(content);
    queue_envelope_free(&env);
    stream_close(s);
}

static void test_no_recipients(void **unused)
{
    test_msg m;
    test_result r;

    (void) unused;
    cleanup_test_setup();
    msg_simple(&m, SMTPD_FLAGS | CLEANUP_FLAG_EXTRACT, "a@b.example", "",
               "Subject: nobody\n\nbody");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_RCPT);
    assert_string_equal(r.reason, "5.1.0 No recipient addresses found in message header");
    assert_int_equal(dir_count("incoming"), 0);
}

static void test_too_many_hops(void **unused)
{
    test_msg m;
    test_result r;
    strbuf *content = strbuf_new(4096);

    (void) unused;
    cleanup_test_setup();
    for (int i = 0; i < 51; i++)
        strbuf_append_printf(content, "Received: from hop%d\n", i);
    strbuf_append_str(content, "\nbody");
    msg_simple(&m, SMTPD_FLAGS, "a@b.example", "bob@example.test", content->data);
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_HOPS);
    assert_string_equal(r.reason, "5.4.0 too many hops");
    assert_int_equal(dir_count("incoming"), 0);
    /* 50 are fine. */
    strbuf_reset(content);
    for (int i = 0; i < 50; i++)
        strbuf_append_printf(content, "Received: from hop%d\n", i);
    msg_simple(&m, SMTPD_FLAGS, "a@b.example", "bob@example.test", content->data);
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    strbuf_free(content);
}

static void test_header_size_limit_bounds_a_header(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    stream *s;
    char   *content;

    (void) unused;
    cleanup_test_setup();
    var_header_size_limit = 1000;
    msg_begin(&m, SMTPD_FLAGS);
    msg_rec(&m, 'S', "a@b.example");
    msg_rec(&m, 'R', "bob@example.test");
    msg_rec(&m, 'M', "");
    msg_rec(&m, 'L', "X-Long: start");
    for (int i = 0; i < 20000; i++)
        msg_rec(&m, 'L', "\tcontinued");
    msg_lines(&m, "Subject: after\n\nbody");
    msg_rec(&m, 'X', "");
    msg_rec(&m, 'E', "");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    s = read_queue_file("incoming", r.queue_id, &env);
    content = queue_content(s, &env);
    assert_true(strstr(content, "\nSubject: after\n") - content <= 1000);
    assert_non_null(strstr(content, "\nSubject: after\n\nbody\n"));
    free(content);
    queue_envelope_free(&env);
    stream_close(s);
}

static void test_message_size_limit(void **unused)
{
    test_msg m;
    test_result r;
    strbuf *body = strbuf_new(4096);

    (void) unused;
    cleanup_test_setup();
    var_message_size_limit = 2000;
    strbuf_append_str(body, "Subject: big\n\n");
    for (int i = 0; i < 100; i++)
        strbuf_append_str(body, "0123456789012345678901234567890123456789\n");
    msg_simple(&m, SMTPD_FLAGS, "a@b.example", "bob@example.test", body->data);
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_SIZE);
    assert_string_equal(r.reason, "5.3.4 message file too big");
    assert_int_equal(dir_count("incoming"), 0);
    strbuf_free(body);
}

static void test_long_lines_are_cut_into_pieces(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    stream *s;
    strbuf *data = strbuf_new(64);
    char    line[3000];
    int     type;
    int     pieces = 0;

    (void) unused;
    cleanup_test_setup();
    memset(line, 'a', sizeof(line) - 1);
    line[sizeof(line) - 1] = 0;
    memcpy(line, "X-Long: ", 8);
    msg_begin(&m, SMTPD_FLAGS);
    msg_rec(&m, 'S', "a@b.example");
    msg_rec(&m, 'R', "bob@example.test");
    msg_rec(&m, 'M', "");
    msg_rec_mem(&m, 'C', line, 1000);
    msg_rec(&m, 'L', line + 1000);
    msg_lines(&m, "\nbody");
    msg_rec(&m, 'X', "");
    msg_rec(&m, 'E', "");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    s = read_queue_file("incoming", r.queue_id, &env);
    assert_int_equal(queue_content_start(s, &env), 0);
    while ((type = queue_content_next(s, data)) == REC_TYPE_PARTIAL) {
        assert_int_equal(data->len, (size_t) var_line_length_limit);
        pieces++;
    }
    assert_int_equal(type, REC_TYPE_LINE);
    assert_int_equal(pieces, 1);
    assert_int_equal(data->len, sizeof(line) - 1 - (size_t) var_line_length_limit);
    assert_int_equal(env.sizes.message_size, (long) sizeof(line) + 1 + 5);
    queue_envelope_free(&env);
    stream_close(s);
    strbuf_free(data);
}

static void test_protocol_errors_are_answered(void **unused)
{
    test_msg m;
    test_result r;

    (void) unused;
    cleanup_test_setup();
    /* A V record from a client: refused, answered at the end record. */
    msg_begin(&m, SMTPD_FLAGS);
    msg_rec(&m, 'V', "x");
    msg_rec(&m, 'S', "a@b.example");
    msg_rec(&m, 'R', "bob@example.test");
    msg_rec(&m, 'M', "");
    msg_rec(&m, 'X', "");
    msg_rec(&m, 'E', "");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_BAD);
    assert_non_null(strstr(log_text(), "unexpected envelope record: record type 'V' from client"));
    /* An early end record ends the conversation at once. */
    msg_begin(&m, SMTPD_FLAGS);
    msg_rec(&m, 'S', "a@b.example");
    msg_rec(&m, 'E', "");
    run_cleanup(&m, &r);
    assert_true(r.replied);
    assert_int_equal(r.status, CLEANUP_STAT_BAD);
    /* Garbage: an unknown record type. */
    msg_begin(&m, SMTPD_FLAGS);
    msg_rec(&m, 'S', "a@b.example");
    msg_rec(&m, 'Z', "garbage");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_BAD);
    /* Control characters in an address. */
    msg_simple(&m, SMTPD_FLAGS, "a@b.example", "bob@example.test\r\nRCPT", "x");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_BAD);
    assert_int_equal(dir_count("incoming"), 0);
}

static void test_lost_client_leaves_no_file(void **unused)
{
    test_msg m;
    test_result r;
    size_t  cut;

    (void) unused;
    cleanup_test_setup();
    msg_simple(&m, SMTPD_FLAGS, "a@b.example", "bob@example.test", "Subject: x\n\nbody");
    cut = m.bytes->len - 4;
    run_cleanup_cut(&m, &r, cut);
    assert_false(r.replied);
    assert_int_equal(dir_count("incoming"), 0);
    assert_non_null(strstr(log_text(), "lost connection with the client"));
}

static void test_rewrite_service_failure_defers(void **unused)
{
    test_msg m;
    test_result r;

    (void) unused;
    cleanup_test_setup();
    fake_rewrite_fails = 1;
    msg_simple(&m, LOCAL_FLAGS, "alice", "bob carol dave", "Subject: x\n\nbody");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_DEFER);
    assert_string_equal(r.reason, "4.3.0 Temporary lookup failure");
    /* One failed call, then no more retries for this message. */
    assert_int_equal(fake_rewrite_calls, 1);
    assert_int_equal(dir_count("incoming"), 0);
}

static void test_same_address_rewritten_once_per_message(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    stream *s;
    char   *content;

    (void) unused;
    cleanup_test_setup();
    msg_simple(&m, LOCAL_FLAGS, "alice", "bob", "From: alice\nTo: bob, carol\n\nbody");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    /* alice, bob (envelope), then only carol is new in the headers. */
    assert_int_equal(fake_rewrite_calls, 3);
    s = read_queue_file("incoming", r.queue_id, &env);
    content = queue_content(s, &env);
    assert_non_null(strstr(content, "From: alice@example.test\n"));
    assert_non_null(strstr(content, "To: bob@example.test, carol@example.test\n"));
    free(content);
    queue_envelope_free(&env);
    stream_close(s);
}

static void test_cleanup_stat_and_flags(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    stream *s;

    (void) unused;
    cleanup_test_setup();
    /* CLEANUP_FLAG_HOLD: the file goes to hold/, complete. */
    msg_simple(&m, SMTPD_FLAGS | CLEANUP_FLAG_HOLD, "a@b.example", "bob@example.test", "x");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(dir_count("incoming"), 0);
    s = read_queue_file("hold", r.queue_id, &env);
    queue_envelope_free(&env);
    stream_close(s);
    /* CLEANUP_FLAG_DISCARD: accepted and dropped. */
    msg_simple(&m, SMTPD_FLAGS | CLEANUP_FLAG_DISCARD, "a@b.example", "bob@example.test", "x");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(dir_count("incoming"), 0);
    assert_int_equal(dir_count("hold"), 1);
}

static void test_duplicate_and_empty_recipients(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    stream *s;

    (void) unused;
    cleanup_test_setup();
    msg_begin(&m, SMTPD_FLAGS);
    msg_rec(&m, 'S', "");
    msg_rec(&m, 'R', "bob@example.test");
    msg_rec(&m, 'R', "bob@example.test");
    msg_rec(&m, 'N', "8");
    msg_rec(&m, 'R', "bob@example.test");
    msg_rec(&m, 'R', "");
    msg_rec(&m, 'M', "");
    msg_rec(&m, 'X', "");
    msg_rec(&m, 'O', "orig@example.test");
    msg_rec(&m, 'Q', "rfc822;orig@example.test");
    msg_rec(&m, 'R', "late@example.test");
    msg_rec(&m, 'E', "");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    s = read_queue_file("incoming", r.queue_id, &env);
    assert_string_equal(env.sender, "");
    assert_int_equal(env.recipient_count, 4);
    assert_int_equal(env.recipients[1].dsn_notify, 8);
    assert_string_equal(env.recipients[2].address, "MAILER-DAEMON@example.test");
    assert_string_equal(env.recipients[3].address, "late@example.test");
    assert_string_equal(env.recipients[3].orig_rcpt, "orig@example.test");
    assert_string_equal(env.recipients[3].dsn_orcpt, "rfc822;orig@example.test");
    queue_envelope_free(&env);
    stream_close(s);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_submission_fixes_headers),
        cmocka_unit_test(test_remote_mail_keeps_headers_as_they_are),
        cmocka_unit_test(test_remote_header_rewrite_domain),
        cmocka_unit_test(test_sendmail_t_extracts_and_drops_bcc),
        cmocka_unit_test(test_resent_headers_take_precedence),
        cmocka_unit_test(test_non_header_line_ends_the_headers),
        cmocka_unit_test(test_no_recipients),
        cmocka_unit_test(test_too_many_hops),
        cmocka_unit_test(test_header_size_limit_bounds_a_header),
        cmocka_unit_test(test_message_size_limit),
        cmocka_unit_test(test_long_lines_are_cut_into_pieces),
        cmocka_unit_test(test_protocol_errors_are_answered),
        cmocka_unit_test(test_lost_client_leaves_no_file),
        cmocka_unit_test(test_rewrite_service_failure_defers),
        cmocka_unit_test(test_same_address_rewritten_once_per_message),
        cmocka_unit_test(test_cleanup_stat_and_flags),
        cmocka_unit_test(test_duplicate_and_empty_recipients),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
