/*
 * Unit tests for smtp_path (the MAIL FROM / RCPT TO path) and smtp_args
 * (path plus ESMTP parameters, and the Postfix reply for each failure).
 */
#include "unit.h"

#include "smtp_args.h"
#include "smtp_path.h"

typedef struct path_case {
    const char *text;
    int     flags;
    int     status;
    const char *address;                /* internal form */
    const char *local;
    const char *domain;
    int     result_flags;
} path_case;

#define NULL_OK SMTP_PATH_ALLOW_NULL
#define BR      SMTP_PATH_F_BRACKETS

static void check_path(const path_case *c)
{
    smtp_path *path = smtp_path_new();
    int     status = smtp_path_parse(path, c->text, strlen(c->text), c->flags);

    if (status != c->status)
        fail_msg("\"%s\": status %d, expected %d (%s)", c->text, status, c->status,
                 path->why ? path->why : "");
    if (status == SMTP_PATH_OK) {
        assert_string_equal(path->address->data, c->address);
        assert_string_equal(path->local->data, c->local);
        assert_string_equal(path->domain->data, c->domain);
        assert_int_equal(path->flags, c->result_flags);
    } else {
        assert_non_null(path->why);
    }
    smtp_path_free(path);
}

static void run_path_cases(const path_case *cases, size_t count)
{
    for (size_t i = 0; i < count; i++)
        check_path(&cases[i]);
}

#define RUN(cases) run_path_cases(cases, sizeof(cases) / sizeof(cases[0]))

static void test_path_basic(void **state)
{
    static const path_case cases[] = {
        {"<user@example.com>", 0, SMTP_PATH_OK, "user@example.com", "user", "example.com", BR},
        {" <user@example.com>", 0, SMTP_PATH_OK, "user@example.com", "user", "example.com", BR},
        {"<User.Name+tag@Example.COM>", 0, SMTP_PATH_OK,
         "User.Name+tag@Example.COM", "User.Name+tag", "Example.COM", BR},
        {"<>", NULL_OK, SMTP_PATH_OK, "", "", "", BR | SMTP_PATH_F_NULL},
        {"<postmaster>", 0, SMTP_PATH_OK, "postmaster", "postmaster", "",
         BR | SMTP_PATH_F_NO_DOMAIN},
        {"<\"john doe\"@example.com>", 0, SMTP_PATH_OK, "john doe@example.com",
         "john doe", "example.com", BR | SMTP_PATH_F_QUOTED},
        {"<\"a\\\"b\\\\c\"@x.org>", 0, SMTP_PATH_OK, "a\"b\\c@x.org", "a\"b\\c", "x.org",
         BR | SMTP_PATH_F_QUOTED},
        {"<user@[192.0.2.1]>", 0, SMTP_PATH_OK, "user@[192.0.2.1]", "user", "[192.0.2.1]",
         BR | SMTP_PATH_F_LITERAL},
        {"<user@[IPv6:2001:db8::1]>", 0, SMTP_PATH_OK, "user@[IPv6:2001:db8::1]", "user",
         "[IPv6:2001:db8::1]", BR | SMTP_PATH_F_LITERAL},
        {"<@a.example,@b.example:user@c.example>", 0, SMTP_PATH_OK, "user@c.example",
         "user", "c.example", BR | SMTP_PATH_F_ROUTE},
        {"<foo..bar.@docomo.example>", 0, SMTP_PATH_OK, "foo..bar.@docomo.example",
         "foo..bar.", "docomo.example", BR},
        {"<a@under_score.example>", 0, SMTP_PATH_OK, "a@under_score.example", "a",
         "under_score.example", BR},
        {"<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", 0, SMTP_PATH_OK,
         "j\xc3\xb6rg@b\xc3\xbc" "cher.example", "j\xc3\xb6rg", "b\xc3\xbc" "cher.example",
         BR | SMTP_PATH_F_UTF8},
    };

    RUN(cases);
}

static void test_path_without_brackets(void **state)
{
    static const path_case cases[] = {
        {"user@example.com", 0, SMTP_PATH_OK, "user@example.com", "user", "example.com", 0},
        {"  user@example.com  ", 0, SMTP_PATH_OK, "user@example.com", "user",
         "example.com", 0},
        {"\"john doe\"@example.com", 0, SMTP_PATH_OK, "john doe@example.com", "john doe",
         "example.com", SMTP_PATH_F_QUOTED},
        {"@a.example:user@b.example", 0, SMTP_PATH_OK, "user@b.example", "user",
         "b.example", SMTP_PATH_F_ROUTE},
        {"postmaster", 0, SMTP_PATH_OK, "postmaster", "postmaster", "",
         SMTP_PATH_F_NO_DOMAIN},
        {"user@example.com", SMTP_PATH_STRICT, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@example.com>", SMTP_PATH_STRICT, SMTP_PATH_OK, "user@example.com", "user",
         "example.com", BR},
        {"user@example.com>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"user@example.com<", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
    };

    RUN(cases);
}

static void test_path_bad(void **state)
{
    static const path_case cases[] = {
        {"", 0, SMTP_PATH_EMPTY, NULL, NULL, NULL, 0},
        {"   ", 0, SMTP_PATH_EMPTY, NULL, NULL, NULL, 0},
        {"<>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},                       /* null recipient */
        {"< >", NULL_OK, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@example.com", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@example.com>x", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@example.com >", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<@example.com>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<\"\"@example.com>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<\"open@example.com>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@example.com.>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@exa mple.com>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@-example.com>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@ex..ample.com>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@192.0.2.1>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},         /* must be a literal */
        {"<user@[192.0.2.256]>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@[192.0.2.1>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@[x-tag:foo]>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<user@[IPv6:1::2::3]>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<john doe@example.com>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<a(comment)@example.com>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"Name <a@example.com>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"Name  <a@example.com> SIZE=1", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<<a@example.com>>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<a@b@example.com>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<@a.example:>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<@a.example,b.example:u@c.example>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<@a.example;u@c.example>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<@:u@c.example>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<@[192.0.2.1]:u@c.example>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<j\xc3@x.example>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},         /* malformed UTF-8 */
        {"<j@x\xc3.example>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<\"a\\\x01\"@x.example>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
        {"<\"a\x01\"@x.example>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
    };

    RUN(cases);
}

static void test_path_control_characters(void **state)
{
    static const char *const inputs[] = {
        "<user\r@example.com>", "<user@example.com\r>", "<user\n@example.com>",
        "<user@exa\nmple.com>", "<\"us\rer\"@example.com>", "<us\ter@example.com>",
        "<user@example.com\x7f>", "<user\x1b@example.com>",
    };
    smtp_path *path = smtp_path_new();

    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        assert_int_equal(smtp_path_parse(path, inputs[i], strlen(inputs[i]), 0),
                         SMTP_PATH_BAD);
        assert_string_equal(path->why, "control character");
    }
    assert_int_equal(smtp_path_parse(path, "<user\0@example.com>", 19, 0), SMTP_PATH_BAD);
    assert_int_equal(smtp_path_parse(path, "<user@example.com\0>", 19, 0), SMTP_PATH_BAD);
    assert_int_equal(smtp_path_parse(path, "<user@example.com>\0", 19, 0), SMTP_PATH_BAD);
    smtp_path_free(path);
}

/* Hostile addresses are data: parsed exactly, never interpreted. */
static void test_path_attacks(void **state)
{
    static const path_case cases[] = {
        {"<${run{/bin/sh -c id}}@localhost>", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},   /* space: not atext */
        {"<${run{/bin/true}}@localhost>", 0, SMTP_PATH_OK, "${run{/bin/true}}@localhost",
         "${run{/bin/true}}", "localhost", BR},
        {"<\"${run{/bin/sh -c id}}\"@localhost>", 0, SMTP_PATH_OK,
         "${run{/bin/sh -c id}}@localhost", "${run{/bin/sh -c id}}", "localhost",
         BR | SMTP_PATH_F_QUOTED},
        {"<;sleep 5;>", NULL_OK, SMTP_PATH_BAD, NULL, NULL, NULL, 0},                   /* ';' not atext */
        {"<\";sleep 5;\">", NULL_OK, SMTP_PATH_OK, ";sleep 5;", ";sleep 5;", "",
         BR | SMTP_PATH_F_QUOTED | SMTP_PATH_F_NO_DOMAIN},
        {"<`id`@localhost>", 0, SMTP_PATH_OK, "`id`@localhost", "`id`", "localhost", BR},
        /* Open-relay probes: the exact local part and domain for the relay check. */
        {"<user%remote.example@us.example>", 0, SMTP_PATH_OK,
         "user%remote.example@us.example", "user%remote.example", "us.example", BR},
        {"<\"user@remote.example\"@us.example>", 0, SMTP_PATH_OK,
         "user@remote.example@us.example", "user@remote.example", "us.example",
         BR | SMTP_PATH_F_QUOTED},
        {"<@us.example:user@remote.example>", 0, SMTP_PATH_OK, "user@remote.example",
         "user", "remote.example", BR | SMTP_PATH_F_ROUTE},
        {"<remote.example!user@us.example>", 0, SMTP_PATH_OK,
         "remote.example!user@us.example", "remote.example!user", "us.example", BR},
        {"<user@[192.0.2.1]>", 0, SMTP_PATH_OK, "user@[192.0.2.1]", "user", "[192.0.2.1]",
         BR | SMTP_PATH_F_LITERAL},
        {"<user@remote.example>", 0, SMTP_PATH_OK, "user@remote.example", "user",
         "remote.example", BR},
        {"<\"user@remote.example\">", 0, SMTP_PATH_BAD, NULL, NULL, NULL, 0},
    };

    RUN(cases);
}

static void test_path_lengths(void **state)
{
    smtp_path *path = smtp_path_new();
    strbuf *text = strbuf_new(0);
    char    label[64];

    memset(label, 'a', 63);
    label[63] = 0;
    /* "<" + 64 + "@" + 63.63.61 (189 bytes) + ">" = 256 bytes: the limit. */
    strbuf_append_char(text, '<');
    for (int i = 0; i < 64; i++)
        strbuf_append_char(text, 'l');
    strbuf_append_printf(text, "@%s.%s.%.61s>", label, label, label);
    assert_int_equal(text->len, 256);
    assert_int_equal(smtp_path_parse(path, text->data, text->len, 0), SMTP_PATH_OK);
    assert_int_equal(path->domain->len, 189);
    /* One more byte in the local part: too long. */
    strbuf_printf(text, "<l%s>", path->address->data);
    assert_int_equal(text->len, 257);
    assert_int_equal(smtp_path_parse(path, text->data, text->len, 0), SMTP_PATH_BAD);
    assert_string_equal(path->why, "address too long");
    /* Without brackets the same limit applies, counted as if bracketed. */
    assert_int_equal(smtp_path_parse(path, text->data + 1, text->len - 2, 0), SMTP_PATH_BAD);
    assert_string_equal(path->why, "address too long");
    /* A long local part alone is fine (VERP, SRS): 200 bytes. */
    strbuf_set(text, "<");
    for (int i = 0; i < 200; i++)
        strbuf_append_char(text, 'v');
    strbuf_append_str(text, "@example.com>");
    assert_int_equal(smtp_path_parse(path, text->data, text->len, 0), SMTP_PATH_OK);
    /* A label over 63 bytes. */
    strbuf_printf(text, "<u@%sa.example>", label);
    assert_int_equal(smtp_path_parse(path, text->data, text->len, 0), SMTP_PATH_BAD);
    strbuf_free(text);
    smtp_path_free(path);
}

static void test_path_text_and_end(void **state)
{
    smtp_path *path = smtp_path_new();
    const char *text = " <@a.example:\"x y\"@b.example> SIZE=10";

    assert_int_equal(smtp_path_parse(path, text, strlen(text), 0), SMTP_PATH_OK);
    assert_int_equal(path->text_len, strlen("@a.example:\"x y\"@b.example"));
    assert_memory_equal(text + path->text_offset, "@a.example:\"x y\"@b.example",
                        path->text_len);
    assert_string_equal(text + path->end, " SIZE=10");
    text = "x@y.example SIZE=10";
    assert_int_equal(smtp_path_parse(path, text, strlen(text), 0), SMTP_PATH_OK);
    assert_int_equal(path->text_offset, 0);
    assert_int_equal(path->text_len, 11);
    assert_int_equal(path->end, 11);
    smtp_path_free(path);
}

/* smtp_args: path plus parameters. */

#define ALL_ON (SMTP_ARGS_DSN | SMTP_ARGS_AUTH | SMTP_ARGS_SMTPUTF8 | SMTP_ARGS_XVERP)

typedef struct args_case {
    int     kind;
    const char *text;
    int     flags;
    const char *reply;
} args_case;

static void check_args(const args_case *c)
{
    smtp_args *args = smtp_args_new();
    strbuf *reply = strbuf_new(0);

    smtp_args_parse(args, c->kind, c->text, strlen(c->text), c->flags);
    smtp_args_reply(reply, args);
    if (strcmp(reply->data, c->reply) != 0)
        fail_msg("\"%s\": reply \"%s\", expected \"%s\"", c->text, reply->data, c->reply);
    strbuf_free(reply);
    smtp_args_free(args);
}

#define MAIL SMTP_ARGS_MAIL
#define RCPT SMTP_ARGS_RCPT
#define RUN_ARGS(cases) \
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) check_args(&cases[i])

static void test_args_replies(void **state)
{
    static const args_case cases[] = {
        {MAIL, "<a@c.example.org>", ALL_ON, "250 2.1.0 Ok"},
        {RCPT, "<alice@example.test>", ALL_ON, "250 2.1.5 Ok"},
        {MAIL, "", ALL_ON, "501 5.5.4 Syntax: MAIL FROM:<address>"},
        {RCPT, " ", ALL_ON, "501 5.5.4 Syntax: RCPT TO:<address>"},
        {MAIL, "<a b@x>", ALL_ON, "501 5.1.7 Bad sender address syntax"},
        {RCPT, "<a b@x>", ALL_ON, "501 5.1.3 Bad recipient address syntax"},
        {RCPT, "<>", ALL_ON, "501 5.1.3 Bad recipient address syntax"},
        {MAIL, "<>", ALL_ON, "250 2.1.0 Ok"},
        {MAIL, "a@x.example", SMTP_ARGS_STRICT, "501 5.1.7 Bad sender address syntax"},
        {MAIL, "a@x.example", 0, "250 2.1.0 Ok"},
        {MAIL, "Name <a@x.example>", 0, "501 5.1.7 Bad sender address syntax"},
        {MAIL, "<a@c.example.org> SIZE=abc", ALL_ON, "501 5.5.4 Bad message size syntax"},
        {MAIL, "<a@c.example.org> FOO=bar", ALL_ON, "555 5.5.4 Unsupported option: FOO=bar"},
        {RCPT, "<alice@example.test> BOGUS=1", ALL_ON,
         "555 5.5.4 Unsupported option: BOGUS=1"},
        {RCPT, "<alice@example.test> NOTIFY=NEVER,SUCCESS", ALL_ON,
         "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
        {MAIL, "<a@c.example.org> BODY=8BITMIME SIZE=100", ALL_ON, "250 2.1.0 Ok"},
        {MAIL, "<a@x.example> SIZE=99999999999999999999", ALL_ON,
         "552 5.3.4 Message size exceeds file system imposed limit"},
        {MAIL, "<a@x.example> BODY=BINARYMIME", ALL_ON,
         "555 5.5.4 Unsupported option: BODY=BINARYMIME"},
        {MAIL, "<a@x.example> SIZE", ALL_ON, "555 5.5.4 Unsupported option: SIZE"},
        {MAIL, "<a@x.example> SIZE=", ALL_ON, "501 5.5.4 Bad message size syntax"},
        {MAIL, "<a@x.example> RET=FULL RET=HDRS", ALL_ON, "501 5.5.4 Bad RET parameter syntax"},
        {MAIL, "<a@x.example> RET=ALL", ALL_ON, "501 5.5.4 Bad RET parameter syntax"},
        {MAIL, "<a@x.example> RET=FULL", 0, "501 5.7.1 DSN support is disabled"},
        {RCPT, "<a@x.example> NOTIFY=SUCCESS", 0, "501 5.7.1 DSN support is disabled"},
        {MAIL, "<a@x.example> NOTIFY=SUCCESS", ALL_ON,
         "555 5.5.4 Unsupported option: NOTIFY=SUCCESS"},
        {RCPT, "<a@x.example> SIZE=1", ALL_ON, "555 5.5.4 Unsupported option: SIZE=1"},
        {MAIL, "<a@x.example> ENVID=abc ENVID=def", ALL_ON,
         "501 5.5.4 Bad ENVID parameter syntax"},
        {MAIL, "<a@x.example> AUTH=<> AUTH=<>", ALL_ON,
         "503 5.5.4 Error: multiple AUTH= options"},
        {MAIL, "<a@x.example> AUTH=<>", 0, "555 5.5.4 Unsupported option: AUTH=<>"},
        {MAIL, "<a@x.example> SMTPUTF8", 0, "555 5.5.4 Unsupported option: SMTPUTF8"},
        {MAIL, "<a@x.example> SMTPUTF8=yes", ALL_ON,
         "555 5.5.4 Unsupported option: SMTPUTF8=yes"},
        {MAIL, "<a@x.example> XVERP", 0, "555 5.5.4 Unsupported option: XVERP"},
        {MAIL, "<a@x.example> XVERP=+=", ALL_ON, "555 5.5.4 Unsupported option: XVERP=+="},
        {MAIL, "<a@x.example> XVERP=+-", ALL_ON, "250 2.1.0 Ok"},
        {MAIL, "<a@x.example> =x", ALL_ON, "555 5.5.4 Unsupported option: =x"},
        {MAIL, "<a@x.example> -X=1", ALL_ON, "555 5.5.4 Unsupported option: -X=1"},
        {MAIL, "<j\xc3\xb6rg@x.example>", ALL_ON,
         "553 5.6.7 Must declare SMTPUTF8 to send unicode address"},
        {MAIL, "<j\xc3\xb6rg@x.example> SMTPUTF8", ALL_ON, "250 2.1.0 Ok"},
        {RCPT, "<j\xc3\xb6rg@x.example>", ALL_ON,
         "553 5.6.7 Must declare SMTPUTF8 to send unicode address"},
        {RCPT, "<j\xc3\xb6rg@x.example>", ALL_ON | SMTP_ARGS_UTF8_SESSION, "250 2.1.5 Ok"},
        {MAIL, "<a@x.example> FOO=\xc3\xa9", ALL_ON, "555 5.5.4 Unsupported option: FOO=??"},
    };

    RUN_ARGS(cases);
}

/* Parameter injection (Exim CVE-2020-28026 and friends): 501, never stored. */
static void test_args_injection(void **state)
{
    static const args_case cases[] = {
        {RCPT, "<a@x.example> ORCPT=rfc822;a\r\nMAIL", ALL_ON,
         "501 5.5.4 Error: Bad ORCPT parameter syntax"},
        {RCPT, "<a@x.example> ORCPT=rfc822;a+0D+0AMAIL", ALL_ON,
         "501 5.5.4 Error: Bad ORCPT parameter syntax"},
        {RCPT, "<a@x.example> ORCPT=rfc822;a+0Ab", ALL_ON,
         "501 5.5.4 Error: Bad ORCPT parameter syntax"},
        {MAIL, "<a@x.example> ENVID=a\rb", ALL_ON, "501 5.5.4 Bad ENVID parameter syntax"},
        {MAIL, "<a@x.example> ENVID=a+0A", ALL_ON, "501 5.5.4 Bad ENVID parameter syntax"},
        {MAIL, "<a@x.example> ENVID=a+20b", ALL_ON, "501 5.5.4 Bad ENVID parameter syntax"},
        {MAIL, "<a@x.example> AUTH=a\nb", ALL_ON, "501 5.5.4 Bad AUTH parameter syntax"},
        {MAIL, "<a@x.example> AUTH=a+0D+0A", ALL_ON, "501 5.5.4 Bad AUTH parameter syntax"},
        {MAIL, "<a@x.example> RET=FULL\r", ALL_ON, "501 5.5.4 Bad RET parameter syntax"},
        {MAIL, "<a@x.example> SIZE=1\n0", ALL_ON, "501 5.5.4 Bad message size syntax"},
        {RCPT, "<a@x.example> NOTIFY=SUCCESS\r", ALL_ON,
         "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
        {MAIL, "<a@x.example> FOO=a\r\nb", ALL_ON,
         "555 5.5.4 Unsupported option: FOO=a??b"},
        {MAIL, "<a@x.example\r\n>", ALL_ON, "501 5.1.7 Bad sender address syntax"},
        {RCPT, "<${run{\\x2fbin\\x2fsh}}@localhost>", ALL_ON,
         "501 5.1.3 Bad recipient address syntax"},
    };
    smtp_args *args = smtp_args_new();

    RUN_ARGS(cases);
    /* A NUL byte inside a parameter. */
    assert_int_equal(smtp_args_parse(args, MAIL, "<a@x.example> ENVID=a\0b", 23, ALL_ON),
                     SMTP_ARGS_ERR_ENVID);
    assert_int_equal(args->envid->len, 0);
    assert_int_equal(smtp_args_parse(args, RCPT, "<a@x.example> ORCPT=rfc822;a\0b", 30, ALL_ON),
                     SMTP_ARGS_ERR_ORCPT);
    assert_int_equal(args->orcpt->len, 0);
    smtp_args_free(args);
}

static void test_args_values(void **state)
{
    smtp_args *args = smtp_args_new();
    const char *mail = "<bounce@x.example> size=12345 BODY=8bitmime RET=hdrs "
        "ENVID=QQ+2B1 AUTH=joe+40x.example SMTPUTF8 XVERP";
    const char *rcpt = "<r@y.example>  NOTIFY=failure,DELAY\tORCPT=rfc822;R+40y.example";

    assert_int_equal(smtp_args_parse(args, MAIL, mail, strlen(mail), ALL_ON), SMTP_ARGS_OK);
    assert_string_equal(args->path->address->data, "bounce@x.example");
    assert_int_equal(args->size, 12345);
    assert_int_equal(args->body, SMTP_BODY_8BITMIME);
    assert_int_equal(args->ret, DSN_RET_HDRS);
    assert_string_equal(args->envid->data, "QQ+1");
    assert_string_equal(args->auth->data, "joe@x.example");
    assert_string_equal(args->xverp->data, "");
    assert_int_equal(args->params, SMTP_PARAM_SIZE | SMTP_PARAM_BODY | SMTP_PARAM_RET
                     | SMTP_PARAM_ENVID | SMTP_PARAM_AUTH | SMTP_PARAM_SMTPUTF8
                     | SMTP_PARAM_XVERP);

    assert_int_equal(smtp_args_parse(args, RCPT, rcpt, strlen(rcpt), ALL_ON), SMTP_ARGS_OK);
    assert_int_equal(args->params, SMTP_PARAM_NOTIFY | SMTP_PARAM_ORCPT);
    assert_int_equal(args->notify, DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY);
    assert_string_equal(args->orcpt_type->data, "rfc822");
    assert_string_equal(args->orcpt->data, "R@y.example");
    assert_int_equal(args->size, 0);                    /* reset between commands */
    assert_int_equal(args->envid->len, 0);

    rcpt = "<r@y.example> ORCPT=utf-8;r\xc3\xa9@y.example";
    assert_int_equal(smtp_args_parse(args, RCPT, rcpt, strlen(rcpt), ALL_ON),
                     SMTP_ARGS_ERR_ORCPT);
    assert_int_equal(smtp_args_parse(args, RCPT, rcpt, strlen(rcpt),
                                     ALL_ON | SMTP_ARGS_UTF8_SESSION), SMTP_ARGS_OK);
    assert_string_equal(args->orcpt->data, "r\xc3\xa9@y.example");

    mail = "<a@x.example> SIZE=9223372036854775807 AUTH=<>";
    assert_int_equal(smtp_args_parse(args, MAIL, mail, strlen(mail), ALL_ON), SMTP_ARGS_OK);
    assert_int_equal(args->size, 9223372036854775807L);
    assert_int_equal(args->auth->len, 0);
    assert_true(args->params & SMTP_PARAM_AUTH);
    mail = "<a@x.example> SIZE=9223372036854775808";
    assert_int_equal(smtp_args_parse(args, MAIL, mail, strlen(mail), ALL_ON),
                     SMTP_ARGS_ERR_SIZE_OVERFLOW);
    smtp_args_free(args);
}

static void test_esmtp_param_split(void **state)
{
    const char *text = " SIZE=1  FOO  X-Y=a=b ";
    size_t  pos = 0;
    esmtp_param p;

    assert_int_equal(esmtp_param_next(text, strlen(text), &pos, 0, &p), 1);
    assert_int_equal(p.keyword_len, 4);
    assert_memory_equal(p.value, "1", 1);
    assert_int_equal(esmtp_param_next(text, strlen(text), &pos, 0, &p), 1);
    assert_int_equal(p.keyword_len, 3);
    assert_null(p.value);
    assert_int_equal(esmtp_param_next(text, strlen(text), &pos, 0, &p), -1);  /* '=' in value */
    assert_int_equal(p.text_len, 7);
    assert_int_equal(esmtp_param_next(text, strlen(text), &pos, 0, &p), 0);
    assert_true(esmtp_keyword_valid("X-Y2", 4));
    assert_false(esmtp_keyword_valid("X_Y", 3));
    assert_false(esmtp_keyword_valid("", 0));
    assert_true(esmtp_value_valid("!<>~", 4, 0));
    assert_false(esmtp_value_valid("", 0, 0));
    assert_false(esmtp_value_valid("\xc3\xa9", 2, 0));
    assert_true(esmtp_value_valid("\xc3\xa9", 2, ESMTP_PARAM_UTF8));
    assert_false(esmtp_value_valid("\xc3", 1, ESMTP_PARAM_UTF8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_basic),
        cmocka_unit_test(test_path_without_brackets),
        cmocka_unit_test(test_path_bad),
        cmocka_unit_test(test_path_control_characters),
        cmocka_unit_test(test_path_attacks),
        cmocka_unit_test(test_path_lengths),
        cmocka_unit_test(test_path_text_and_end),
        cmocka_unit_test(test_args_replies),
        cmocka_unit_test(test_args_injection),
        cmocka_unit_test(test_args_values),
        cmocka_unit_test(test_esmtp_param_split),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
