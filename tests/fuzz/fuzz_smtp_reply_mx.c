/*
 * libFuzzer target: DNS MX answers as the SMTP client parses them
 * (dns_route_parse_mx): the other thing a remote party sends it.
 *
 * Checked on every input: no crash or leak (ASan); every host kept is a
 * valid host name, at most DNS_MX_MAX are kept, and they come out sorted
 * by preference.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_route.h"
#include "valid_hostname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dns_mx_list *list = dns_mx_list_new();

    if (dns_route_parse_mx(data, size, list) == 0) {
        if (list->count > DNS_MX_MAX)
            abort();
        for (size_t i = 0; i < list->count; i++) {
            if (!valid_hostname(list->items[i].host, strlen(list->items[i].host), 0))
                abort();
            if (i > 0 && list->items[i - 1].preference > list->items[i].preference)
                abort();
        }
    }
    dns_mx_list_free(list);
    return 0;
}
