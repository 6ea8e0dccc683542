/*
 * libFuzzer target: composing a delivery status notification
 * (src/bounce/bounce_notice.c) from hostile status log text.
 *
 * The input is split at NUL bytes into the recipient, the original
 * recipient, the ORCPT, the reason, the diagnostic type and text, the remote
 * MTA, the sender and the ENVID of one outcome (missing fields are empty);
 * the first byte picks the kind and audience. Checked on every input: no
 * crash or leak; every line handed out is free of CR, LF and NUL; the
 * header ends at the first empty line and every header line is a field
 * or a continuation; the MIME boundary line occurs exactly twice (two
 * parts, no original) and the closing boundary once, at the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/bounce/bounce_notice.h"
#include "mail_params.h"
#include "strbuf.h"

#define FIELDS 9

typedef struct check {
    strbuf *boundary;
    int     in_header;
    int     opens;
    int     closes;
    int     lines_after_close;
} check;

static void line(void *context, const char *text, size_t len)
{
    check  *c = context;

    if (memchr(text, '\r', len) || memchr(text, '\n', len) || memchr(text, 0, len))
        abort();
    if (c->closes)
        c->lines_after_close++;
    if (c->in_header) {
        if (len == 0) {
            c->in_header = 0;
            return;
        }
        if (text[0] != '\t' && memchr(text, ':', len) == NULL)
            abort();
        if (len > 10 && strncmp(text, "\tboundary=\"", 11) == 0)
            strbuf_set_mem(c->boundary, text + 11, len - 12);
        return;
    }
    if (c->boundary->len && len == c->boundary->len + 2 && strncmp(text, "--", 2) == 0
        && memcmp(text + 2, c->boundary->data, c->boundary->len) == 0)
        c->opens++;
    if (c->boundary->len && len == c->boundary->len + 4 && strncmp(text, "--", 2) == 0
        && memcmp(text + 2, c->boundary->data, c->boundary->len) == 0
        && strcmp(text + len - 2, "--") == 0)
        c->closes++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *copy;
    const char *field[FIELDS] = {"", "", "", "", "", "", "", "", ""};
    size_t  count = 0;
    dsn_outcome o;
    const dsn_outcome *list[1] = {&o};
    bounce_notice n;
    check   c = {.in_header = 1 };
    int     mode;

    if (size < 1)
        return 0;
    var_myhostname = "mx.example.test";
    var_mail_name = "Postern";
    var_bounce_size_limit = 50000;
    mode = data[0];
    copy = malloc(size);
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = 0;
    for (char *cp = copy; count < FIELDS && cp <= copy + size - 1; cp += strlen(cp) + 1)
        field[count++] = cp;
    o = (dsn_outcome) {
        .recipient = (char *) field[0],.orig_rcpt = (char *) field[1],
        .dsn_orcpt = (char *) field[2],.reason = (char *) field[3],
        .diag_type = (char *) field[4],.diag_text = (char *) field[5],
        .mta_name = (char *) field[6],.mta_type = (char *) "",.status = (char *) "5.1.1",
        .action = (char *) "failed",.dsn_notify = 0,.offset = 100,
    };
    n = (bounce_notice) {
        .kind = (bounce_kind) (mode % 3),.audience = (bounce_audience) ((mode / 3) % 3),
        .queue_id = "ABCDEF12345",.new_queue_id = "12345ABCDEF",.recipient = field[7],
        .sender = field[7],.dsn_envid = field[8],.arrival = 1700000000,.now = 1700000100,
        .retry_until = 1700432000,.outcomes = list,.outcome_count = 1,
    };
    c.boundary = strbuf_new(64);
    bounce_notice_compose(&n, line, &c);
    if (c.boundary->len == 0 || c.opens != 2 || c.closes != 1 || c.lines_after_close != 0)
        abort();
    strbuf_free(c.boundary);
    free(copy);
    return 0;
}
