/*
 * fuzz_sasl_dovecot - libFuzzer target: any bytes as what Dovecot's
 * authentication server says, split into lines at LF: handshake lines
 * until DONE (or an error), then reply lines. The parsers must refuse
 * garbage with a reason, never crash, leak or accept a user name with
 * control characters (in an OK reply, or kept from a FAIL reply).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sasl_dovecot.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_no_controls(const strbuf *text)
{
    for (size_t i = 0; i < text->len; i++)
        if (iscntrl((unsigned char) text->data[i]))
            abort();
}

static void check_reply(const char *line, size_t len, strbuf *text, strbuf *why)
{
    strbuf *user = strbuf_new(16);
    sasl_dovecot_reply reply = {.text = text,.user = user };

    if (sasl_dovecot_parse_reply(line, len, &reply, why) == 0) {
        if (reply.type == SASL_DOVECOT_OK)
            check_no_controls(text);
        check_no_controls(user);
    }
    strbuf_free(user);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *cp = (const char *) data;
    const char *end = cp + size;
    sasl_dovecot_handshake handshake = {0};
    strbuf *why = strbuf_new(64);
    strbuf *text = strbuf_new(64);
    int     in_handshake = 1;

    while (cp < end) {
        const char *nl = memchr(cp, '\n', (size_t) (end - cp));
        size_t  len = (size_t) ((nl ? nl : end) - cp);

        if (in_handshake)
            in_handshake = sasl_dovecot_handshake_line(&handshake, cp, len, why) == 0;
        else
            check_reply(cp, len, text, why);
        (void) sasl_dovecot_unescape(cp, len, text);
        cp += len + (nl != NULL);
    }
    sasl_dovecot_handshake_free(&handshake);
    strbuf_free(why);
    strbuf_free(text);
    return 0;
}
