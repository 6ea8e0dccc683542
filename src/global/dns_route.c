/*
 * dns_route - MX and address lookups. See dns_route.h.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "dns_route.h"
#include "mem.h"
#include "valid_hostname.h"

#define DNS_ANSWER_MAX  65536

dns_mx_list *dns_mx_list_new(void)
{
    return xcalloc(1, sizeof(dns_mx_list));
}

void dns_mx_list_free(dns_mx_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].host);
    free(list->items);
    free(list);
}

dns_addr_list *dns_addr_list_new(void)
{
    return xcalloc(1, sizeof(dns_addr_list));
}

void dns_addr_list_free(dns_addr_list *list)
{
    if (list == NULL)
        return;
    free(list->items);
    free(list);
}

static void add_mx(dns_mx_list *list, const char *host, int preference)
{
    size_t  at = list->count;

    list->items = xreallocarray(list->items, list->count + 1, sizeof(dns_mx));
    while (at > 0 && list->items[at - 1].preference > preference) {
        list->items[at] = list->items[at - 1];
        at--;
    }
    list->items[at].host = xstrdup(host);
    list->items[at].preference = preference;
    list->count++;
}

static int add_addr(dns_addr_list *list, const struct sockaddr *sa, socklen_t len, int port)
{
    dns_addr *a;

    if (list->count >= DNS_ADDR_MAX || len > sizeof(a->sa))
        return -1;
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].len == len && memcmp(&list->items[i].sa, sa, len) == 0)
            return 0;
    list->items = xreallocarray(list->items, list->count + 1, sizeof(dns_addr));
    a = &list->items[list->count++];
    memset(a, 0, sizeof(*a));
    memcpy(&a->sa, sa, len);
    a->len = len;
    if (sa->sa_family == AF_INET) {
        ((struct sockaddr_in *) &a->sa)->sin_port = htons((uint16_t) port);
        inet_ntop(AF_INET, &((struct sockaddr_in *) &a->sa)->sin_addr, a->text, sizeof(a->text));
    } else {
        ((struct sockaddr_in6 *) &a->sa)->sin6_port = htons((uint16_t) port);
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &a->sa)->sin6_addr, a->text,
                  sizeof(a->text));
    }
    return 0;
}

static const char *type_name(int type)
{
    return type == ns_t_mx ? "MX" : type == ns_t_a ? "A" : type == ns_t_aaaa ? "AAAA" : "?";
}

/* res_query() with Postfix's error texts; the answer length or -1. */
static int query(const char *name, int type, unsigned char *answer, strbuf *why, int *status)
{
    int     len;

    h_errno = 0;
    len = res_query(name, ns_c_in, type, answer, DNS_ANSWER_MAX);
    if (len >= 0) {
        *status = DNS_ROUTE_OK;
        return len;
    }
    switch (h_errno) {
    case HOST_NOT_FOUND:
        *status = DNS_ROUTE_NOTFOUND;
        strbuf_printf(why, "Name service error for name=%s type=%s: Host not found",
                      name, type_name(type));
        break;
    case NO_DATA:
        *status = DNS_ROUTE_NODATA;
        strbuf_printf(why, "Name service error for name=%s type=%s: "
                      "Host found but no data record of requested type", name, type_name(type));
        break;
    case NO_RECOVERY:
        *status = DNS_ROUTE_RETRY;
        strbuf_printf(why, "Name service error for name=%s type=%s: "
                      "Non-recoverable error", name, type_name(type));
        break;
    default:
        *status = DNS_ROUTE_RETRY;
        strbuf_printf(why, "Name service error for name=%s type=%s: "
                      "Host not found, try again", name, type_name(type));
        break;
    }
    return -1;
}

int dns_route_parse_mx(const unsigned char *answer, size_t len, dns_mx_list *list)
{
    ns_msg  msg;
    ns_rr   rr;
    char    host[NS_MAXDNAME];
    int     count;

    if (len > DNS_ANSWER_MAX || ns_initparse(answer, (int) len, &msg) < 0)
        return -1;
    count = ns_msg_count(msg, ns_s_an);
    for (int i = 0; i < count && list->count < DNS_MX_MAX; i++) {
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
            return -1;
        if (ns_rr_type(rr) != ns_t_mx || ns_rr_rdlen(rr) < 3)
            continue;
        if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2,
                      host, sizeof(host)) < 0)
            return -1;
        if (host[0] == 0 || !valid_hostname(host, strlen(host), 0))
            continue;
        add_mx(list, host, ns_get16(ns_rr_rdata(rr)));
    }
    return 0;
}

int dns_route_mx(const char *domain, dns_mx_list *list, strbuf *why)
{
    unsigned char *answer;
    int     status;
    int     len;

    strbuf_reset(why);
    if (!valid_hostname(domain, strlen(domain), 0)) {
        strbuf_printf(why, "Name service error for name=%s type=MX: invalid name", domain);
        return DNS_ROUTE_INVALID;
    }
    answer = xmalloc(DNS_ANSWER_MAX);
    if ((len = query(domain, ns_t_mx, answer, why, &status)) >= 0) {
        if (dns_route_parse_mx(answer, (size_t) len, list) < 0) {
            strbuf_printf(why, "Name service error for name=%s type=MX: malformed reply", domain);
            status = DNS_ROUTE_INVALID;
        } else if (list->count == 0) {
            strbuf_printf(why, "Name service error for name=%s type=MX: "
                          "Host found but no data record of requested type", domain);
            status = DNS_ROUTE_NODATA;
        }
    }
    free(answer);
    return status;
}

static int lookup_dns(const char *host, int type, int port, dns_addr_list *list, strbuf *why)
{
    unsigned char *answer = xmalloc(DNS_ANSWER_MAX);
    int     status;
    int     len = query(host, type, answer, why, &status);
    ns_msg  msg;
    ns_rr   rr;

    if (len >= 0 && ns_initparse(answer, len, &msg) == 0) {
        for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
            struct sockaddr_in in4 = {.sin_family = AF_INET };
            struct sockaddr_in6 in6 = {.sin6_family = AF_INET6 };

            if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || (int) ns_rr_type(rr) != type)
                continue;
            if (type == ns_t_a && ns_rr_rdlen(rr) == 4) {
                memcpy(&in4.sin_addr, ns_rr_rdata(rr), 4);
                add_addr(list, (struct sockaddr *) &in4, sizeof(in4), port);
            } else if (type == ns_t_aaaa && ns_rr_rdlen(rr) == 16) {
                memcpy(&in6.sin6_addr, ns_rr_rdata(rr), 16);
                add_addr(list, (struct sockaddr *) &in6, sizeof(in6), port);
            }
        }
    } else if (len >= 0) {
        strbuf_printf(why, "Name service error for name=%s type=%s: malformed reply",
                      host, type_name(type));
        status = DNS_ROUTE_INVALID;
    }
    free(answer);
    return status;
}

static int lookup_native(const char *host, int families, int port, dns_addr_list *list,
                         strbuf *why)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM };
    struct addrinfo *res;
    int     err;

    hints.ai_family = families == DNS_FAMILY_IPV4 ? AF_INET
        : families == DNS_FAMILY_IPV6 ? AF_INET6 : AF_UNSPEC;
    if ((err = getaddrinfo(host, NULL, &hints, &res)) != 0) {
        strbuf_printf(why, "%s: %s", host, gai_strerror(err));
        return err == EAI_NONAME ? DNS_ROUTE_NOTFOUND : err == EAI_NODATA ? DNS_ROUTE_NODATA : DNS_ROUTE_RETRY;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
            add_addr(list, ai->ai_addr, ai->ai_addrlen, port);
    freeaddrinfo(res);
    return DNS_ROUTE_OK;
}

static int numeric_address(const char *host, int port, dns_addr_list *list)
{
    struct sockaddr_in in4 = {.sin_family = AF_INET };
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6 };

    if (inet_pton(AF_INET, host, &in4.sin_addr) == 1)
        return add_addr(list, (struct sockaddr *) &in4, sizeof(in4), port) == 0;
    if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1)
        return add_addr(list, (struct sockaddr *) &in6, sizeof(in6), port) == 0;
    return 0;
}

/* Worst first: a permanent "not found" only wins when nothing needed a retry. */
static int merge_status(int have, int next)
{
    if (have == DNS_ROUTE_OK || next == DNS_ROUTE_OK)
        return DNS_ROUTE_OK;
    if (have == DNS_ROUTE_RETRY || next == DNS_ROUTE_RETRY)
        return DNS_ROUTE_RETRY;
    if (have == DNS_ROUTE_NODATA || next == DNS_ROUTE_NODATA)
        return DNS_ROUTE_NODATA;
    return next;
}

static int lookup_dns_families(const char *host, int families, int port,
                               dns_addr_list *list, strbuf *why)
{
    int     status = -1;
    strbuf *part = strbuf_new(64);

    if (families & DNS_FAMILY_IPV6) {
        status = lookup_dns(host, ns_t_aaaa, port, list, part);
        strbuf_set(why, part->data);
    }
    if (families & DNS_FAMILY_IPV4) {
        int     v4;

        strbuf_reset(part);
        v4 = lookup_dns(host, ns_t_a, port, list, part);
        if (v4 != DNS_ROUTE_OK && (status < 0 || status == DNS_ROUTE_NODATA || v4 == DNS_ROUTE_RETRY))
            strbuf_set(why, part->data);
        status = status < 0 ? v4 : merge_status(status, v4);
    }
    strbuf_free(part);
    return status;
}

int dns_route_addr(const char *host, int how, int families, int port,
                    dns_addr_list *list, strbuf *why)
{
    int     status = DNS_ROUTE_NOTFOUND;
    size_t  before = list->count;

    strbuf_reset(why);
    if (numeric_address(host, port, list))
        return DNS_ROUTE_OK;
    if (!valid_hostname(host, strlen(host), 0)) {
        strbuf_printf(why, "Name service error for name=%s type=A: invalid name", host);
        return DNS_ROUTE_INVALID;
    }
    if (how & DNS_LOOKUP_DNS)
        status = lookup_dns_families(host, families, port, list, why);
    if ((how & DNS_LOOKUP_NATIVE) && list->count == before) {
        strbuf *native_why = strbuf_new(64);
        int     native = lookup_native(host, families, port, list, native_why);

        if (!(how & DNS_LOOKUP_DNS) || native == DNS_ROUTE_OK)
            strbuf_set(why, native_why->data);
        status = (how & DNS_LOOKUP_DNS) ? merge_status(status, native) : native;
        strbuf_free(native_why);
    }
    if (status == DNS_ROUTE_OK && list->count == before) {
        strbuf_printf(why, "Name service error for name=%s type=A: "
                      "Host found but no data record of requested type", host);
        status = DNS_ROUTE_NODATA;
    }
    return status;
}

static int parse_words(const char *value, const char *const *names, const int *bits)
{
    argv_t *words = argv_split(value, ARGV_LIST_DELIMITERS);
    int     result = 0;

    for (size_t i = 0; i < words->count; i++) {
        int     known = 0;

        for (size_t n = 0; names[n]; n++)
            if (strcasecmp(words->items[i], names[n]) == 0) {
                result |= bits[n];
                known = 1;
            }
        if (!known) {
            result = 0;
            break;
        }
    }
    argv_free(words);
    return result;
}

int dns_route_families(const char *inet_protocols)
{
    static const char *const names[] = {"all", "ipv4", "ipv6", NULL};
    static const int bits[] = {DNS_FAMILY_ALL, DNS_FAMILY_IPV4, DNS_FAMILY_IPV6};

    return parse_words(inet_protocols, names, bits);
}

int dns_route_host_lookup(const char *value)
{
    static const char *const names[] = {"dns", "native", NULL};
    static const int bits[] = {DNS_LOOKUP_DNS, DNS_LOOKUP_NATIVE};

    return parse_words(value, names, bits);
}
