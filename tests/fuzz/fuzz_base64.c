/*
 * fuzz_base64 - libFuzzer target: any bytes as base64 from a peer.
 *
 * The strict decoder must never crash or over-read, and what it accepts
 * must be canonical: encoding the decoded bytes gives the input back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    strbuf *decoded = strbuf_new(64);
    strbuf *encoded = strbuf_new(64);

    if (base64_decode((const char *) data, size, decoded) == 0) {
        strbuf_reset(encoded);
        base64_encode(decoded->data, decoded->len, encoded);
        if (encoded->len != size || memcmp(encoded->data, data, size) != 0)
            abort();
    } else if (decoded->len != 0) {
        abort();
    }
    strbuf_free(decoded);
    strbuf_free(encoded);
    return 0;
}
