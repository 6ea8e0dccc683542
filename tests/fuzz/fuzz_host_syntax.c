/*
 * libFuzzer target: valid_hostname, valid_ipv4, valid_ipv6,
 * valid_address_literal, xtext and ORCPT decoding.
 *
 * Oracles: valid_ipv4/valid_ipv6 must agree with glibc's inet_pton on any
 * NUL-free input; xtext_encode output must decode to the original bytes;
 * a decoded ORCPT address never holds a control character.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "valid_hostname.h"
#include "xtext.h"

static void check_inet_pton(const uint8_t *data, size_t size)
{
    unsigned char address[16];
    char   *text;

    if (memchr(data, 0, size) != NULL)
        return;
    text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    if (valid_ipv6(text, size) != (inet_pton(AF_INET6, text, address) == 1))
        abort();
    if (valid_ipv4(text, size) != (inet_pton(AF_INET, text, address) == 1))
        abort();
    free(text);
}

static void check_xtext(const uint8_t *data, size_t size)
{
    strbuf *encoded = strbuf_new(0);
    strbuf *decoded = strbuf_new(0);
    strbuf *type = strbuf_new(0);

    xtext_encode(encoded, (const char *) data, size);
    if (xtext_decode(decoded, encoded->data, encoded->len) != 0
        || decoded->len != size || memcmp(decoded->data, data, size) != 0)
        abort();
    strbuf_reset(decoded);
    if (orcpt_decode((const char *) data, size, ORCPT_UTF8, type, decoded) == 0)
        for (size_t i = 0; i < decoded->len; i++)
            if ((unsigned char) decoded->data[i] < 0x20 || decoded->data[i] == 0x7F)
                abort();
    strbuf_free(encoded);
    strbuf_free(decoded);
    strbuf_free(type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;

    check_inet_pton(data, size);
    (void) valid_hostname(text, size, HOSTNAME_ALLOW_UNDERSCORE | HOSTNAME_ALLOW_UTF8);
    (void) is_fqdn(text, size, HOSTNAME_ALLOW_TRAILING_DOT);
    (void) valid_address_literal(text, size);
    check_xtext(data, size);
    return 0;
}
