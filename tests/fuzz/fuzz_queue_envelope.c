/*
 * fuzz_queue_envelope - libFuzzer target: any bytes as a queue file.
 *
 * The strict envelope reader (with the content walk) must refuse damage
 * with a reason, never crash, hang or leak; content iteration must stop.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "queue_envelope.h"
#include "record.h"
#include "stream.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE   *fp = tmpfile();
    stream *s;
    strbuf *why = strbuf_new(64);
    strbuf *line = strbuf_new(64);
    queue_envelope env;

    if (fp == NULL)
        abort();
    if (size && fwrite(data, 1, size, fp) != size)
        abort();
    fflush(fp);
    s = stream_open_fd(dup(fileno(fp)), 0);
    fclose(fp);
    if (queue_envelope_read(s, &env, QUEUE_READ_CONTENT, why) == 0) {
        int     type = queue_content_start(s, &env) == 0 ? REC_TYPE_LINE : -1;

        while (type == REC_TYPE_LINE || type == REC_TYPE_PARTIAL)
            type = queue_content_next(s, line);
        queue_envelope_free(&env);
    }
    stream_close(s);
    strbuf_free(why);
    strbuf_free(line);
    return 0;
}
