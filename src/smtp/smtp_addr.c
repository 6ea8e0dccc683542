/*
 * smtp_addr - from a next-hop to the servers to try, in order.
 *
 *   [host]:port, [host]     that host only, no MX lookup
 *   host:port, host         MX lookup (SMTP), in preference order; without
 *                           MX records the host itself; LMTP never looks
 *                           up MX records
 *   unix:/path, inet:...    LMTP only: a UNIX socket, or the rest as above
 *
 * The default port is smtp_tcp_port / lmtp_tcp_port. Addresses come from
 * smtp_host_lookup (dns, native) limited to inet_protocols, at most
 * smtp_mx_address_limit in all. With smtp_randomize_addresses, MX hosts of
 * equal preference and the addresses of one host are shuffled; with
 * smtp_address_preference ipv4 or ipv6, that family goes first among the
 * addresses of one host. A best MX host that is this host
 * (myhostname) means the mail would loop: "mail for X loops back to
 * myself"; less preferred MX hosts than this one are not tried.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail_params.h"
#include "mem.h"
#include "smtp.h"
#include "sock.h"

typedef struct nexthop {
    strbuf *host;
    int     mx;
    int     port;
    char   *unix_path;
} nexthop;

static int parse_nexthop(const char *text, nexthop *hop, smtp_failure *fail)
{
    const char *port_text = smtp_cfg.tcp_port;
    const char *rest = text;
    const char *colon;

    hop->mx = !smtp_cfg.lmtp;
    if (smtp_cfg.lmtp && strncmp(rest, "unix:", 5) == 0) {
        hop->unix_path = xstrdup(rest + 5);
        strbuf_set(hop->host, rest + 5);
        return 0;
    }
    if (smtp_cfg.lmtp && strncmp(rest, "inet:", 5) == 0)
        rest += 5;
    if (*rest == '[') {
        const char *end = strchr(rest, ']');

        if (end == NULL || (end[1] != 0 && end[1] != ':')) {
            smtp_failure_set(fail, "5.4.4", "bad next-hop syntax: %s", text);
            return -1;
        }
        strbuf_set_mem(hop->host, rest + 1, (size_t) (end - rest - 1));
        hop->mx = 0;
        if (end[1] == ':')
            port_text = end + 2;
    } else if ((colon = strrchr(rest, ':')) != NULL) {
        strbuf_set_mem(hop->host, rest, (size_t) (colon - rest));
        port_text = colon + 1;
    } else {
        strbuf_set(hop->host, rest);
    }
    if (hop->host->len == 0 || (hop->port = sock_port_number(port_text)) <= 0) {
        smtp_failure_set(fail, "5.4.4", "bad next-hop syntax: %s", text);
        return -1;
    }
    if (strncasecmp(hop->host->data, "IPv6:", 5) == 0)
        memmove(hop->host->data, hop->host->data + 5, hop->host->len - 4);
    return 0;
}

static void add_server(smtp_server_list *list, const char *name, const dns_addr *addr,
                       const char *unix_path, int port)
{
    smtp_server *server;

    list->items = xreallocarray(list->items, list->count + 1, sizeof(smtp_server));
    server = &list->items[list->count++];
    memset(server, 0, sizeof(*server));
    server->name = xstrdup(name);
    if (addr)
        server->addr = *addr;
    server->unix_path = unix_path ? xstrdup(unix_path) : NULL;
    server->port = port;
}

void smtp_server_list_free(smtp_server_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].name);
        free(list->items[i].unix_path);
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* DNS statuses to the failure Postfix reports. */
static void lookup_failure(smtp_failure *fail, int status, const strbuf *why)
{
    smtp_failure_set(fail, status == DNS_ROUTE_RETRY ? "4.4.3" : "5.4.4",
                     "Host or domain name not found. %s", why->data);
}

/* Fisher-Yates over items [from, to) of `size` bytes each. */
static void shuffle(void *items, size_t size, size_t from, size_t to)
{
    unsigned char *base = items;
    unsigned char tmp[sizeof(dns_addr) > sizeof(dns_mx) ? sizeof(dns_addr) : sizeof(dns_mx)];

    for (size_t i = to; i > from + 1; i--) {
        size_t  j = from + (size_t) random() % (i - from);

        memcpy(tmp, base + (i - 1) * size, size);
        memmove(base + (i - 1) * size, base + j * size, size);
        memcpy(base + j * size, tmp, size);
    }
}

/* The preferred family first, order otherwise kept. */
static void prefer_family(dns_addr_list *addrs, int family)
{
    size_t  next = 0;

    for (size_t i = 0; i < addrs->count; i++) {
        if (addrs->items[i].sa.ss_family == family) {
            dns_addr keep = addrs->items[i];

            memmove(&addrs->items[next + 1], &addrs->items[next], (i - next) * sizeof(dns_addr));
            addrs->items[next++] = keep;
        }
    }
}

static void order_addresses(dns_addr_list *addrs)
{
    if (smtp_cfg.randomize_addresses && addrs->count > 1)
        shuffle(addrs->items, sizeof(dns_addr), 0, addrs->count);
    if (smtp_cfg.address_preference)
        prefer_family(addrs, smtp_cfg.address_preference);
}

static void randomize_mx(dns_mx_list *mx)
{
    size_t  start = 0;

    if (!smtp_cfg.randomize_addresses)
        return;
    for (size_t i = 1; i <= mx->count; i++) {
        if (i == mx->count || mx->items[i].preference != mx->items[start].preference) {
            shuffle(mx->items, sizeof(dns_mx), start, i);
            start = i;
        }
    }
}

/* Adds the addresses of one host; its DNS status. */
static int add_host(smtp_server_list *list, const char *host, int port, size_t limit,
                    smtp_failure *fail)
{
    dns_addr_list *addrs = dns_addr_list_new();
    strbuf *why = strbuf_new(64);
    int     status = dns_route_addr(host, smtp_cfg.host_lookup, smtp_cfg.families, port,
                                     addrs, why);

    if (status != DNS_ROUTE_OK)
        lookup_failure(fail, status, why);
    order_addresses(addrs);
    for (size_t i = 0; i < addrs->count && (limit == 0 || list->count < limit); i++)
        add_server(list, host, &addrs->items[i], NULL, port);
    dns_addr_list_free(addrs);
    strbuf_free(why);
    return status;
}

static int is_myself(const char *host)
{
    return strcasecmp(host, var_myhostname) == 0;
}

/* MX hosts in preference order; -1 when the destination fails as a whole. */
static int add_mx_hosts(smtp_server_list *list, const char *domain, int port,
                        smtp_failure *fail)
{
    dns_mx_list *mx = dns_mx_list_new();
    strbuf *why = strbuf_new(64);
    size_t  limit = (size_t) smtp_cfg.mx_address_limit;
    int     status = dns_route_mx(domain, mx, why);
    int     worst = DNS_ROUTE_NOTFOUND;

    if (status == DNS_ROUTE_NODATA) {
        status = add_host(list, domain, port, limit, fail);
    } else if (status != DNS_ROUTE_OK) {
        lookup_failure(fail, status, why);
    } else if (is_myself(mx->items[0].host)) {
        smtp_failure_set(fail, "5.4.6", "mail for %s loops back to myself", domain);
        status = DNS_ROUTE_INVALID;
    } else {
        randomize_mx(mx);
        for (size_t i = 0; i < mx->count && (limit == 0 || list->count < limit); i++) {
            int     one;

            if (is_myself(mx->items[i].host))
                break;
            one = add_host(list, mx->items[i].host, port, limit, fail);
            if (one == DNS_ROUTE_RETRY)
                worst = DNS_ROUTE_RETRY;
        }
        status = list->count ? DNS_ROUTE_OK : worst;
    }
    dns_mx_list_free(mx);
    strbuf_free(why);
    return status;
}

/* Fills `list`; 0, or -1 with the failure for every recipient in `fail`. */
int smtp_find_servers(const char *nexthop_text, smtp_server_list *list, smtp_failure *fail)
{
    nexthop hop = {.host = strbuf_new(64) };
    int     status;

    if (parse_nexthop(nexthop_text, &hop, fail) < 0) {
        strbuf_free(hop.host);
        return -1;
    }
    if (hop.unix_path) {
        add_server(list, hop.unix_path, NULL, hop.unix_path, 0);
        status = DNS_ROUTE_OK;
    } else if (hop.mx) {
        status = add_mx_hosts(list, hop.host->data, hop.port, fail);
    } else {
        status = add_host(list, hop.host->data, hop.port, (size_t) smtp_cfg.mx_address_limit,
                          fail);
    }
    strbuf_free(hop.host);
    free(hop.unix_path);
    return status == DNS_ROUTE_OK && list->count ? 0 : -1;
}
