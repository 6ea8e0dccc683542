/*
 * own_addr - the IP addresses of this machine. See own_addr.h.
 */
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "argv.h"
#include "cidr_match.h"
#include "mem.h"
#include "own_addr.h"
#include "services.h"
#include "valid_hostname.h"

struct own_addr {
    cidr_addr *items;
    size_t  count;
    size_t  cap;
    int     families;                   /* SERVICE_IPV4 | SERVICE_IPV6 */
};

static int family_bit(int family)
{
    return family == AF_INET ? SERVICE_IPV4 : family == AF_INET6 ? SERVICE_IPV6 : 0;
}

/* Adds the address of a socket address of an enabled family. */
static void add_sockaddr(own_addr *own, const struct sockaddr *sa)
{
    cidr_addr addr = {.family = sa->sa_family};

    if (!(family_bit(sa->sa_family) & own->families))
        return;
    if (sa->sa_family == AF_INET)
        memcpy(addr.bytes, &((const struct sockaddr_in *) sa)->sin_addr, 4);
    else
        memcpy(addr.bytes, &((const struct sockaddr_in6 *) sa)->sin6_addr, 16);
    if (own->count == own->cap) {
        own->cap = own->cap ? own->cap * 2 : 8;
        own->items = xreallocarray(own->items, own->cap, sizeof(*own->items));
    }
    own->items[own->count++] = addr;
}

static int add_interfaces(own_addr *own, strbuf *why)
{
    struct ifaddrs *list;

    if (getifaddrs(&list) < 0) {
        strbuf_set(why, "cannot list the network interfaces");
        return -1;
    }
    for (struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next)
        if (ifa->ifa_addr)
            add_sockaddr(own, ifa->ifa_addr);
    freeifaddrs(list);
    return 0;
}

/* Adds every address of a host name or numeric address ("[...]" allowed). */
static int add_host(own_addr *own, const char *name, const char *param, strbuf *why)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    size_t  len = strlen(name);
    char   *host = len > 2 && name[0] == '[' && name[len - 1] == ']' ?
        xstrndup(name + 1, len - 2) : xstrdup(name);
    int     status = getaddrinfo(host, NULL, &hints, &res);

    if (status != 0 || res == NULL)
        strbuf_printf(why, "%s: host not found: %s", param, name);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        add_sockaddr(own, ai->ai_addr);
    if (res)
        freeaddrinfo(res);
    free(host);
    return status != 0 || res == NULL ? -1 : 0;
}

static int add_list(own_addr *own, const char *list, const char *param, strbuf *why)
{
    argv_t *items = argv_split(list, ARGV_LIST_DELIMITERS);
    int     result = 0;

    for (size_t i = 0; i < items->count && result == 0; i++) {
        const char *item = items->items[i];

        if (strcasecmp(item, "all") == 0)
            result = add_interfaces(own, why);
        else if (strcasecmp(item, "loopback-only") == 0)
            result = add_host(own, "127.0.0.1", param, why) < 0
                || add_host(own, "::1", param, why) < 0 ? -1 : 0;
        else
            result = add_host(own, item, param, why);
    }
    argv_free(items);
    return result;
}

own_addr *own_addr_new(const char *inet_interfaces, const char *proxy_interfaces,
                       const char *inet_protocols, strbuf *why)
{
    own_addr *own = xcalloc(1, sizeof(*own));

    if (service_parse_protocols(inet_protocols, &own->families, why) < 0
        || add_list(own, inet_interfaces, "inet_interfaces", why) < 0
        || add_list(own, proxy_interfaces, "proxy_interfaces", why) < 0) {
        own_addr_free(own);
        return NULL;
    }
    return own;
}

/* The address inside "[192.0.2.1]" or "[IPv6:2001:db8::1]"; -1 if none. */
static int literal_address(const char *literal, cidr_addr *addr)
{
    size_t  len = strlen(literal);
    char   *inner;
    int     status;

    if (!valid_address_literal(literal, len))
        return -1;
    inner = strncasecmp(literal, "[IPv6:", 6) == 0 ?
        xstrndup(literal + 6, len - 7) : xstrndup(literal + 1, len - 2);
    status = cidr_addr_parse(inner, addr);
    free(inner);
    return status;
}

int     own_addr_match(const own_addr *own, const char *literal)
{
    cidr_addr addr;

    if (literal_address(literal, &addr) < 0)
        return 0;
    for (size_t i = 0; i < own->count; i++) {
        const cidr_addr *mine = &own->items[i];
        size_t  size = mine->family == AF_INET ? 4 : 16;

        if (mine->family == addr.family && memcmp(mine->bytes, addr.bytes, size) == 0)
            return 1;
    }
    return 0;
}

size_t  own_addr_count(const own_addr *own)
{
    return own->count;
}

void    own_addr_free(own_addr *own)
{
    if (own == NULL)
        return;
    free(own->items);
    free(own);
}
