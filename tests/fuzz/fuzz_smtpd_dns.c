/*
 * libFuzzer target: DNS reply parsing (dns_parse_reply), which reads what
 * a DNS server or anyone spoofing one sends to smtpd's blocklist and
 * domain checks.
 *
 * The first input byte picks the record type (A, AAAA, MX, TXT); the rest
 * is the reply. Checked: no crash or leak; results only on DNS_OK; A and
 * AAAA results parse as addresses; TXT results are printable ASCII of at
 * most DNS_TEXT_MAX bytes; MX results are empty or host names without
 * control characters.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_lookup.h"

static void check_result(int type, const char *item)
{
    unsigned char addr[16];
    size_t  len = strlen(item);

    switch (type) {
    case DNS_TYPE_A:
        if (inet_pton(AF_INET, item, addr) != 1)
            abort();
        break;
    case DNS_TYPE_AAAA:
        if (inet_pton(AF_INET6, item, addr) != 1)
            abort();
        break;
    default:
        if (type == DNS_TYPE_TXT && len > DNS_TEXT_MAX)
            abort();
        for (size_t i = 0; i < len; i++)
            if ((unsigned char) item[i] < 0x20 || (unsigned char) item[i] > 0x7E)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[] = {DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_MX, DNS_TYPE_TXT};
    argv_t *result;
    strbuf *why;
    int     type;
    int     status;

    if (size < 1)
        return 0;
    type = types[data[0] % 4];
    result = argv_new(4);
    why = strbuf_new(16);
    status = dns_parse_reply(data + 1, size - 1, type, result, why);
    if (status != DNS_OK && result->count != 0)
        abort();
    for (size_t i = 0; i < result->count; i++)
        check_result(type, result->items[i]);
    argv_free(result);
    strbuf_free(why);
    return 0;
}
