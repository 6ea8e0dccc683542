/*
 * libFuzzer target: SMTP/LMTP server replies as the client reads them
 * (smtp_reply), through a memory buffer and through a stream.
 *
 * The first input byte picks the line limit, the rest is what a hostile
 * server sends. Checked on every input: no crash or leak (ASan); a reply
 * that parses has a code 100..599 and a DSN of the code's class; its text
 * and every line are printable ASCII (nothing can start a log line, a
 * header or a status-log record of its own) and the text stays within
 * SMTP_REPLY_TEXT_MAX; the stream reader and the buffer reader agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smtp_reply.h"

static void check_printable(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) text[i] < 0x20 || (unsigned char) text[i] > 0x7E)
            abort();
}

static void check_reply(const smtp_reply *r, int status, size_t limit)
{
    check_printable(r->text->data, r->text->len);
    if (strlen(r->text->data) != r->text->len)
        abort();
    if (status != SMTP_REPLY_OK)
        return;
    if (r->code < 100 || r->code > 599 || r->dsn[0] != '0' + r->code / 100)
        abort();
    if (r->text->len > limit + 1 || r->text->len > SMTP_REPLY_TEXT_MAX + 1)
        abort();
    for (size_t i = 0; i < r->lines->count; i++)
        check_printable(r->lines->items[i], strlen(r->lines->items[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smtp_reply *buffered = smtp_reply_new();
    smtp_reply *streamed = smtp_reply_new();
    size_t  limit;
    int     fds[2];
    int     got_buffer;
    int     got_stream;

    if (size < 1 || size > 65536)
        goto done;
    limit = 8 + data[0] * 8;
    data++, size--;
    got_buffer = smtp_reply_parse((const char *) data, size, buffered, limit);
    check_reply(buffered, got_buffer, limit);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0) {
        stream *s;

        if (write(fds[1], data, size) == (ssize_t) size) {
            close(fds[1]);
            s = stream_open_fd(fds[0], 5);
            got_stream = smtp_reply_read(s, streamed, limit);
            check_reply(streamed, got_stream, limit);
            if (got_stream == SMTP_REPLY_OK
                && (got_buffer != SMTP_REPLY_OK || streamed->code != buffered->code))
                abort();
            stream_close(s);
        } else {
            close(fds[0]);
            close(fds[1]);
        }
    }
  done:
    smtp_reply_free(buffered);
    smtp_reply_free(streamed);
    return 0;
}
