/*
 * cidr_match - IPv4 and IPv6 addresses and networks. See cidr_match.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr_match.h"

static size_t addr_length(int family)
{
    return family == AF_INET ? 4 : 16;
}

int     cidr_addr_parse(const char *text, cidr_addr *addr)
{
    memset(addr, 0, sizeof(*addr));
    if (inet_pton(AF_INET, text, addr->bytes) == 1) {
        addr->family = AF_INET;
        return 0;
    }
    if (strchr(text, ':') && inet_pton(AF_INET6, text, addr->bytes) == 1) {
        addr->family = AF_INET6;
        return 0;
    }
    return -1;
}

/* Splits "[addr]/len", "addr/len", "[addr]" or "addr" into its parts. */
static int split_network(const char *text, strbuf *addr, const char **prefix)
{
    const char *slash;

    if (*text == '[') {
        const char *close = strchr(text, ']');

        if (close == NULL || (close[1] != 0 && close[1] != '/'))
            return -1;
        strbuf_set_mem(addr, text + 1, (size_t) (close - text - 1));
        *prefix = close[1] == '/' ? close + 2 : NULL;
        return 0;
    }
    slash = strchr(text, '/');
    strbuf_set_mem(addr, text, slash ? (size_t) (slash - text) : strlen(text));
    *prefix = slash ? slash + 1 : NULL;
    return 0;
}

static int parse_prefix(const char *text, int max)
{
    long    value;
    char   *end;

    if (!isdigit((unsigned char) *text) || strlen(text) > 3)
        return -1;
    value = strtol(text, &end, 10);
    return *end == 0 && value <= max ? (int) value : -1;
}

static int host_bits_set(const cidr_net *net)
{
    size_t  len = addr_length(net->addr.family);

    for (size_t bit = (size_t) net->prefix; bit < 8 * len; bit++)
        if (net->addr.bytes[bit / 8] & (0x80 >> (bit % 8)))
            return 1;
    return 0;
}

static void clear_host_bits(cidr_net *net)
{
    size_t  len = addr_length(net->addr.family);

    for (size_t bit = (size_t) net->prefix; bit < 8 * len; bit++)
        net->addr.bytes[bit / 8] &= (unsigned char) ~(0x80 >> (bit % 8));
}

int     cidr_net_parse(const char *text, cidr_net *net, strbuf *why)
{
    strbuf *addr = strbuf_new(64);
    const char *prefix;
    int     max;

    if (split_network(text, addr, &prefix) < 0 || cidr_addr_parse(addr->data, &net->addr) < 0) {
        strbuf_printf(why, "bad address pattern: \"%s\"", text);
        strbuf_free(addr);
        return -1;
    }
    max = net->addr.family == AF_INET ? 32 : 128;
    net->prefix = prefix ? parse_prefix(prefix, max) : max;
    if (net->prefix < 0) {
        strbuf_printf(why, "bad mask length in \"%s\"", text);
        strbuf_free(addr);
        return -1;
    }
    if (host_bits_set(net)) {
        char    network[INET6_ADDRSTRLEN];

        clear_host_bits(net);
        inet_ntop(net->addr.family, net->addr.bytes, network, sizeof(network));
        strbuf_printf(why, "non-null host address bits in \"%s\", perhaps you should use "
                      "\"%s%s%s/%d\" instead", text, *text == '[' ? "[" : "", network,
                      *text == '[' ? "]" : "", net->prefix);
        strbuf_free(addr);
        return -1;
    }
    strbuf_free(addr);
    return 0;
}

int     cidr_net_match(const cidr_net *net, const cidr_addr *addr)
{
    size_t  full = (size_t) net->prefix / 8;
    int     rest = net->prefix % 8;

    if (net->addr.family != addr->family)
        return 0;
    if (memcmp(net->addr.bytes, addr->bytes, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((net->addr.bytes[full] ^ addr->bytes[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}
