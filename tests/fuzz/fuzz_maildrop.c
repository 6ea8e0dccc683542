/*
 * fuzz_maildrop - libFuzzer target: any bytes as a maildrop file, and as
 * postdrop's input from sendmail.
 *
 * The record reader and the maildrop rules (maildrop.h) must refuse damage
 * with a reason, never crash, hang or leak. Oracles: a file the rules
 * accept ends with E and has a sender; recipients or extraction were
 * present before M; the arrival time is in range.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "maildrop.h"
#include "record.h"
#include "stream.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_stream(const uint8_t *data, size_t size, int flags)
{
    FILE   *fp = tmpfile();
    stream *s;
    strbuf *rec = strbuf_new(64);
    strbuf *why = strbuf_new(64);
    maildrop_check check;
    int     type;
    int     ok = 1;
    int     saw_message = 0;

    if (fp == NULL)
        abort();
    if (size && fwrite(data, 1, size, fp) != size)
        abort();
    fflush(fp);
    rewind(fp);
    s = stream_open_fd(dup(fileno(fp)), 0);
    fclose(fp);
    maildrop_check_init(&check, flags);
    while (ok && (type = rec_get(s, rec, REC_DATA_MAX)) >= 0) {
        ok = maildrop_check_record(&check, type, rec, why) == 0;
        if (ok && type == REC_TYPE_MESSAGE) {
            saw_message = 1;
            if (check.recipients == 0 && !check.extract)
                abort();
        }
    }
    if (ok && type == REC_EOF && maildrop_check_end(&check, why) == 0) {
        if (!saw_message || check.sender == NULL || check.arrival.tv_usec > 999999
            || check.arrival.tv_usec < 0)
            abort();
    }
    maildrop_check_free(&check);
    stream_close(s);
    strbuf_free(rec);
    strbuf_free(why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_stream(data, size, 0);
    check_stream(data, size, MAILDROP_INPUT);
    return 0;
}
