/*
 * libFuzzer target: MAIL FROM / RCPT TO arguments (smtp_path, smtp_args).
 *
 * The first input byte picks the command and the flags, the rest is the
 * text after "FROM:" / "TO:". Checked on every input: no crash or leak
 * (ASan), the reply is one line of printable ASCII, an accepted address
 * holds no control character, and an accepted address written back in
 * external form parses again to the same internal form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail_addr.h"
#include "smtp_args.h"

static void check_printable(const strbuf *text)
{
    for (size_t i = 0; i < text->len; i++)
        if ((unsigned char) text->data[i] < 0x20 || (unsigned char) text->data[i] > 0x7E)
            abort();
}

static void check_no_controls(const strbuf *text)
{
    for (size_t i = 0; i < text->len; i++)
        if ((unsigned char) text->data[i] < 0x20 || text->data[i] == 0x7F)
            abort();
}

/* <external form> parses back to the same internal address. */
static void check_round_trip(const smtp_args *args, int flags)
{
    smtp_path *again = smtp_path_new();
    strbuf *external = strbuf_new(0);

    strbuf_append_char(external, '<');
    mail_addr_externalize(external, args->path->address->data, args->path->address->len);
    strbuf_append_char(external, '>');
    if (external->len <= SMTP_PATH_MAX_LENGTH) {
        if (smtp_path_parse(again, external->data, external->len, flags) != SMTP_PATH_OK)
            abort();
        if (strcmp(again->address->data, args->path->address->data) != 0)
            abort();
    }
    strbuf_free(external);
    smtp_path_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smtp_args *args;
    strbuf *reply;
    int     kind;
    int     flags;

    if (size < 1)
        return 0;
    kind = (data[0] & 1) ? SMTP_ARGS_RCPT : SMTP_ARGS_MAIL;
    flags = data[0] >> 1;
    args = smtp_args_new();
    reply = strbuf_new(0);
    smtp_args_parse(args, kind, (const char *) data + 1, size - 1, flags);
    smtp_args_reply(reply, args);
    check_printable(reply);
    if (args->status == SMTP_ARGS_OK) {
        check_no_controls(args->path->address);
        check_no_controls(args->envid);
        check_no_controls(args->auth);
        check_no_controls(args->orcpt);
        if (!(args->path->flags & SMTP_PATH_F_NULL))
            check_round_trip(args, SMTP_PATH_ALLOW_NULL);
    }
    strbuf_free(reply);
    smtp_args_free(args);
    return 0;
}
