/*
 * Unit tests for cleanup's content inspection: every header_checks action,
 * the MIME classes (mime_header_checks, nested_header_checks), body_checks
 * with its size limit, Postfix's log lines, and the bounce of a rejected
 * local submission through a fake bounce service.
 */
#include "test_cleanup.h"

#include "dsn_log.h"
#include "sock.h"

static stream *run_and_read(test_msg *m, const char *queue, queue_envelope *env,
                            char **content)
{
    test_result r;
    stream *s;

    run_cleanup(m, &r);
    if (r.status != 0)
        fail_msg("status %d reason %s log %s", r.status, r.reason, log_text());
    s = read_queue_file(queue, r.queue_id, env);
    *content = queue_content(s, env);
    return s;
}

static void done(stream *s, queue_envelope *env, char *content)
{
    free(content);
    queue_envelope_free(env);
    stream_close(s);
}

static void use_table(const char *param, const char *type, const char *rules)
{
    char    spec[600];

    snprintf(spec, sizeof(spec), "%s:%s", type, unit_temp_file(param, rules));
    config_set_override(param, spec);
    params_load();
    cleanup_tables_open();
}

static void use_checks(const char *param, const char *rules)
{
    use_table(param, "regexp", rules);
}

static void smtpd_message(test_msg *m, const char *content)
{
    msg_begin(m, SMTPD_FLAGS);
    msg_rec(m, 'A', "client_name=client.example");
    msg_rec(m, 'A', "client_address=192.0.2.1");
    msg_rec(m, 'A', "helo_name=c.example");
    msg_rec(m, 'A', "protocol=ESMTP");
    msg_rec(m, 'S', "a@remote.example");
    msg_rec(m, 'R', "bob@example.test");
    msg_rec(m, 'M', "");
    msg_lines(m, content);
    msg_rec(m, 'X', "");
    msg_rec(m, 'E', "");
}

static void test_reject_over_smtp(void **unused)
{
    test_msg m;
    test_result r;

    (void) unused;
    cleanup_test_setup();
    use_checks("header_checks", "/^Subject: reject me/ REJECT go away\n"
               "/^Subject: coded/ REJECT 5.7.0 with code\n/^Subject: bare/ REJECT\n");
    smtpd_message(&m, "Subject: reject me\n\nbody");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_CONT);
    assert_string_equal(r.reason, "5.7.1 go away");
    assert_int_equal(dir_count("incoming"), 0);
    assert_non_null(strstr(log_text(), ": reject: header Subject: reject me from "
                           "client.example[192.0.2.1]; from=<a@remote.example> "
                           "to=<bob@example.test> proto=ESMTP helo=<c.example>: 5.7.1 go away\n"));
    smtpd_message(&m, "Subject: coded\n\nbody");
    run_cleanup(&m, &r);
    assert_string_equal(r.reason, "5.7.0 with code");
    smtpd_message(&m, "Subject: bare\n\nbody");
    run_cleanup(&m, &r);
    assert_string_equal(r.reason, "5.7.1 message content rejected");
    /* The daemon's next message is unaffected. */
    smtpd_message(&m, "Subject: fine\n\nbody");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
}

static void test_header_actions(void **unused)
{
    test_msg m;
    queue_envelope env;
    char   *content;
    stream *s;
    const char *log;

    (void) unused;
    cleanup_test_setup();
    use_checks("header_checks",
               "/^X-Ignore:/ IGNORE\n/^X-Strip:/ STRIP stripped it\n/^X-Warn:/ WARN careful\n"
               "/^X-Info:/ INFO noted\n/^X-Prepend:/ PREPEND X-Added: before\n"
               "/^X-Replace: (.*)/ REPLACE X-Replaced: $1\n/^X-Bcc:/ BCC spy@remote.example\n"
               "/^X-Filter:/ FILTER smtp:[127.0.0.1]:10025\n"
               "/^X-Redirect:/ REDIRECT r@remote.example\n"
               "/^X-Bad:/ FROBNICATE\n/^X-Bad2: (.*)/ PREPEND $1\n/^X-Dunno:/ DUNNO\n");
    smtpd_message(&m, "X-Ignore: a\nX-Strip: b\nX-Warn: c\nX-Info: d\nX-Prepend: e\n"
                  "X-Replace: f\nX-Bcc: g\nX-Filter: h\nX-Redirect: i\nX-Bad: j\n"
                  "X-Bad2: not a header\nX-Dunno: k\n\nbody");
    s = run_and_read(&m, "incoming", &env, &content);
    assert_string_equal(content, "X-Warn: c\nX-Info: d\nX-Added: before\nX-Prepend: e\n"
                        "X-Replaced: f\nX-Bcc: g\nX-Filter: h\nX-Redirect: i\nX-Bad: j\n"
                        "X-Bad2: not a header\nX-Dunno: k\n\nbody\n");
    assert_string_equal(queue_envelope_attr(&env, "filter"), "smtp:[127.0.0.1]:10025");
    assert_string_equal(queue_envelope_attr(&env, "redirect"), "r@remote.example");
    assert_int_equal(env.recipient_count, 2);
    assert_string_equal(env.recipients[1].address, "spy@remote.example");
    assert_int_equal(env.recipients[1].dsn_notify, 1);
    log = log_text();
    assert_non_null(strstr(log, ": strip: header X-Strip: b from client.example[192.0.2.1];"));
    assert_non_null(strstr(log, ": warning: header X-Warn: c from client.example[192.0.2.1]; "
                           "from=<a@remote.example> to=<bob@example.test> proto=ESMTP "
                           "helo=<c.example>: careful\n"));
    assert_non_null(strstr(log, ": info: header X-Info: d from"));
    assert_non_null(strstr(log, ": filter: header X-Filter: h from"));
    assert_non_null(strstr(log, ": redirect: header X-Redirect: i from"));
    assert_non_null(strstr(log, ": header_checks: unknown action: \"FROBNICATE\"\n"));
    assert_non_null(strstr(log, "is not a message header"));
    done(s, &env, content);
}

static void test_hold_discard_pass(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    char   *content;
    stream *s;

    (void) unused;
    cleanup_test_setup();
    use_checks("header_checks", "/^Subject: hold/ HOLD held for review\n"
               "/^Subject: discard/ DISCARD\n/^Subject: pass/ PASS trusted\n"
               "/^X-After:/ REJECT never seen\n");
    smtpd_message(&m, "Subject: hold\n\nbody");
    s = run_and_read(&m, "hold", &env, &content);
    assert_int_equal(dir_count("incoming"), 0);
    assert_non_null(strstr(log_text(), ": hold: header Subject: hold from "
                           "client.example[192.0.2.1];"));
    assert_non_null(strstr(log_text(), "helo=<c.example>: held for review\n"));
    done(s, &env, content);
    smtpd_message(&m, "Subject: discard\nX-After: x\n\nbody");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(dir_count("incoming"), 0);
    assert_non_null(strstr(log_text(), ": discard: header Subject: discard from"));
    smtpd_message(&m, "Subject: pass\nX-After: x\n\nbody");
    s = run_and_read(&m, "incoming", &env, &content);
    assert_non_null(strstr(log_text(), ": pass: header Subject: pass from"));
    done(s, &env, content);
}

static void test_header_checks_see_logical_headers(void **unused)
{
    test_msg m;
    test_result r;

    (void) unused;
    cleanup_test_setup();
    use_table("header_checks", "pcre", "/^Subject: one\\ntwo$/ REJECT folded\n");
    smtpd_message(&m, "Subject: one\ntwo\n\nbody");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);      /* "two" is not a continuation line */
    smtpd_message(&m, "Subject: one\n two\n\nbody");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);      /* the newline stays: the pattern wants none */
    use_table("header_checks", "pcre", "/^Subject: one\\n two$/ REJECT folded\n");
    smtpd_message(&m, "Subject: one\n two\n\nbody");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_CONT);
}

static const char mime_message[] =
    "Subject: mime\nMIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
    "preamble\n--outer\nContent-Type: text/plain\nX-Part: yes\n\npart one\n"
    "--outer\nContent-Type: message/rfc822\n\nSubject: nested\nFrom: n@x\n\nnested body\n"
    "--outer--\nepilogue\n";

static void test_mime_classes(void **unused)
{
    test_msg m;
    test_result r;

    (void) unused;
    cleanup_test_setup();
    /* header_checks sees primary non-MIME headers only. */
    use_checks("header_checks", "/^Subject: nested/ REJECT primary table\n"
               "/^Subject: mime/ WARN primary\n");
    config_set_override("mime_header_checks", "");
    config_set_override("nested_header_checks", "");
    params_load();
    cleanup_tables_open();
    smtpd_message(&m, mime_message);
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(log_text(), ": warning: header Subject: mime from"));
    /* nested_header_checks: headers of the attached message. */
    use_checks("nested_header_checks", "/^Subject: nested/ REJECT nested table\n");
    smtpd_message(&m, mime_message);
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_CONT);
    assert_string_equal(r.reason, "5.7.1 nested table");
    /* mime_header_checks: MIME headers anywhere, all part headers. */
    config_set_override("nested_header_checks", "");
    use_checks("mime_header_checks", "/^X-Part:/ REJECT part header\n");
    smtpd_message(&m, mime_message);
    run_cleanup(&m, &r);
    assert_string_equal(r.reason, "5.7.1 part header");
    use_checks("mime_header_checks", "/^Content-Type: message/ REJECT mime header\n");
    smtpd_message(&m, mime_message);
    run_cleanup(&m, &r);
    assert_string_equal(r.reason, "5.7.1 mime header");
    /* With MIME processing off, everything after the headers is body. */
    config_set_override("disable_mime_input_processing", "yes");
    use_checks("nested_header_checks", "/^Subject: nested/ REJECT nested table\n");
    smtpd_message(&m, mime_message);
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
}

static void test_body_checks(void **unused)
{
    test_msg m;
    test_result r;
    queue_envelope env;
    char   *content;
    stream *s;

    (void) unused;
    cleanup_test_setup();
    use_checks("body_checks", "/^bad line/ REJECT body says no\n/^drop me/ IGNORE\n"
               "/^--outer--/ WARN boundary seen\n/^replace (.*)/ REPLACE replaced $1\n"
               "/^late/ REJECT too late\n");
    smtpd_message(&m, "Subject: x\n\nfine\nbad line here\n");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_CONT);
    assert_string_equal(r.reason, "5.7.1 body says no");
    assert_non_null(strstr(log_text(), ": reject: body bad line here from client.example"));
    smtpd_message(&m, mime_message);
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(log_text(), ": warning: body --outer-- from"));
    smtpd_message(&m, "Subject: x\n\ndrop me\nreplace this\nkeep\n");
    s = run_and_read(&m, "incoming", &env, &content);
    assert_string_equal(content, "Subject: x\n\nreplaced this\nkeep\n");
    done(s, &env, content);
    /* body_checks_size_limit: lines past it are not inspected. */
    var_body_checks_size_limit = 20;
    smtpd_message(&m, "Subject: x\n\n0123456789\n0123456789\nlate\n");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, 0);
}

static void test_failing_check_table_defers(void **unused)
{
    test_msg m;
    test_result r;

    (void) unused;
    cleanup_test_setup();
    config_set_override("header_checks", "fail:broken");
    params_load();
    cleanup_tables_open();
    smtpd_message(&m, "Subject: x\n\nbody");
    run_cleanup(&m, &r);
    assert_int_equal(r.status, CLEANUP_STAT_DEFER);
    assert_non_null(strstr(log_text(), "header_checks map lookup problem -- message not "
                           "accepted, try again later"));
}

/* A fake bounce service: checks the request, answers `answer`. */
static pid_t fake_bounce(int answer)
{
    int     listener = unix_listen("private/bounce", 5, 0600);
    pid_t   pid;

    assert_true(listener >= 0);
    if ((pid = fork()) == 0) {
        int     fd = accept(listener, NULL, NULL);
        stream *s = stream_open_fd(fd, 5);
        strbuf *request = strbuf_new(16);
        strbuf *queue_name = strbuf_new(16);
        strbuf *queue_id = strbuf_new(16);
        strbuf *other = strbuf_new(16);
        strbuf *sender = strbuf_new(16);
        int     number;
        attr_spec spec[] = {
            ATTR_STR("request", request), ATTR_STR("queue_name", queue_name),
            ATTR_STR("queue_id", queue_id), ATTR_STR("encoding", other),
            ATTR_INT("smtputf8", &number), ATTR_STR("sender", sender),
            ATTR_STR("dsn_envid", other), ATTR_INT("dsn_ret", &number), ATTR_END,
        };
        int     ok = attr_scan(s, 0, spec) > 0 && strcmp(request->data, "flush") == 0
            && strcmp(queue_name->data, "incoming") == 0
            && strcmp(sender->data, "alice@example.test") == 0
            && access(queue_id->data, F_OK) != 0;

        /* The message is readable in incoming/ but not marked complete. */
        if (ok) {
            struct stat st;
            char    path[200];

            snprintf(path, sizeof(path), "incoming/%s", queue_id->data);
            ok = stat(path, &st) == 0 && (st.st_mode & S_IXUSR) == 0;
        }
        attr_put_int(s, "status", answer);
        attr_end(s);
        stream_close(s);
        _exit(ok ? 0 : 1);
    }
    close(listener);
    return pid;
}

static void test_local_reject_bounces(void **unused)
{
    test_msg m;
    test_result r;
    dsn_outcome_list *outcomes;
    pid_t   pid;
    int     status;

    (void) unused;
    cleanup_test_setup();
    use_checks("header_checks", "/^Subject: reject me/ REJECT go away now\n");
    pid = fake_bounce(0);
    msg_simple(&m, LOCAL_FLAGS, "alice", "bob@remote.example", "Subject: reject me\n\nbody");
    run_cleanup(&m, &r);
    waitpid(pid, &status, 0);
    unlink("private/bounce");
    assert_int_equal(status, 0);
    assert_int_equal(r.status, 0);
    assert_int_equal(dir_count("incoming"), 0);
    outcomes = dsn_log_read("bounce", r.queue_id);
    assert_int_equal(outcomes->count, 1);
    assert_string_equal(outcomes->items[0].recipient, "bob@remote.example");
    assert_string_equal(outcomes->items[0].status, "5.7.1");
    assert_string_equal(outcomes->items[0].action, "failed");
    assert_string_equal(outcomes->items[0].reason, "go away now");
    dsn_outcome_list_free(outcomes);
    assert_non_null(strstr(log_text(), ": reject: header Subject: reject me from local; "
                           "from=<alice@example.test> to=<bob@remote.example>: "
                           "5.7.1 go away now\n"));
    assert_non_null(strstr(log_text(), ": to=<bob@remote.example>, relay=none, delay="));
    assert_non_null(strstr(log_text(), "/0/0/0, dsn=5.7.1, status=bounced (go away now)\n"));
}

static void test_local_reject_without_bounce_service(void **unused)
{
    test_msg m;
    test_result r;

    (void) unused;
    cleanup_test_setup();
    use_checks("header_checks", "/^Subject: reject me/ REJECT go away now\n");
    msg_simple(&m, LOCAL_FLAGS, "alice", "bob@remote.example", "Subject: reject me\n\nbody");
    run_cleanup(&m, &r);
    /* Temporary: pickup keeps the maildrop file and tries again later. */
    assert_int_equal(r.status, CLEANUP_STAT_WRITE);
    assert_int_equal(dir_count("incoming"), 0);
    assert_int_equal(dir_count("bounce"), 0);
    /* The bounce service says "try later": the same. */
    {
        pid_t   pid = fake_bounce(1);
        int     status;

        msg_simple(&m, LOCAL_FLAGS, "alice", "bob@remote.example", "Subject: reject me\n\nx");
        run_cleanup(&m, &r);
        waitpid(pid, &status, 0);
        unlink("private/bounce");
        assert_int_equal(r.status, CLEANUP_STAT_WRITE);
        assert_int_equal(dir_count("bounce"), 0);
    }
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reject_over_smtp),
        cmocka_unit_test(test_header_actions),
        cmocka_unit_test(test_hold_discard_pass),
        cmocka_unit_test(test_header_checks_see_logical_headers),
        cmocka_unit_test(test_mime_classes),
        cmocka_unit_test(test_body_checks),
        cmocka_unit_test(test_failing_check_table_defers),
        cmocka_unit_test(test_local_reject_bounces),
        cmocka_unit_test(test_local_reject_without_bounce_service),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
