/*
 * dns_route - where mail for a domain goes: MX hosts in preference order
 * and the addresses of a host, for the SMTP and LMTP clients.
 *
 *   dns_mx_list *mx = dns_mx_list_new();
 *   switch (dns_route_mx("example.com", mx, why)) ...   MX hosts, by preference
 *   dns_addr_list *al = dns_addr_list_new();
 *   dns_route_addr("mx1.example.com", DNS_LOOKUP_DNS, DNS_FAMILY_ALL, 25, al, why);
 *
 * dns_route_mx() asks the resolver (res_query, /etc/resolv.conf, the
 * jail's copy inside a chroot) for MX records and returns them sorted by
 * preference (ties in the order the server gave them). Host names in the
 * answer are checked with valid_hostname(); a bad one is skipped.
 * dns_route_addr() finds the addresses of a host: through DNS A/AAAA
 * queries (DNS_LOOKUP_DNS), the system's name service (DNS_LOOKUP_NATIVE,
 * getaddrinfo: /etc/hosts and friends), or both in that order, limited
 * to the families of inet_protocols (dns_route_families()). An IP address
 * is taken as is. Addresses are appended to the list with the port given.
 *
 * Results: DNS_ROUTE_OK; DNS_ROUTE_NOTFOUND (the name does not exist: a
 * permanent error); DNS_ROUTE_NODATA (the name exists without records of
 * that type: for MX, the host itself is the destination);
 * DNS_ROUTE_RETRY (no answer, server failure: try later);
 * DNS_ROUTE_INVALID (a name that cannot be looked up, or an answer that
 * does not parse). `why` receives Postfix's wording: "Name service error
 * for name=N type=MX: Host not found, try again". Nothing logs.
 *
 * dns_route_families("ipv4, ipv6") parses inet_protocols;
 * dns_route_host_lookup("dns, native") parses smtp_host_lookup; both
 * return 0 for a bad value.
 *
 * Routing needs what a plain record lookup does not give: MX
 * preferences, "no such name" told apart from "no such record", and
 * addresses ready to connect to (sockaddr with the port).
 * Memory: the lists own their entries; free them with their _free().
 */
#ifndef POSTERN_DNS_ROUTE_H
#define POSTERN_DNS_ROUTE_H

#include <stddef.h>
#include <sys/socket.h>

#include "strbuf.h"

#define DNS_ROUTE_OK        0
#define DNS_ROUTE_NOTFOUND  1
#define DNS_ROUTE_NODATA    2
#define DNS_ROUTE_RETRY     3
#define DNS_ROUTE_INVALID   4

#define DNS_FAMILY_IPV4  (1 << 0)
#define DNS_FAMILY_IPV6  (1 << 1)
#define DNS_FAMILY_ALL   (DNS_FAMILY_IPV4 | DNS_FAMILY_IPV6)

#define DNS_LOOKUP_DNS     (1 << 0)
#define DNS_LOOKUP_NATIVE  (1 << 1)

#define DNS_MX_MAX         100          /* MX records kept from one answer */
#define DNS_ADDR_MAX       100          /* addresses kept for one host */

typedef struct dns_mx {
    char   *host;
    int     preference;
} dns_mx;

typedef struct dns_mx_list {
    dns_mx *items;
    size_t  count;
} dns_mx_list;

typedef struct dns_addr {
    struct sockaddr_storage sa;
    socklen_t len;
    char    text[64];                   /* numeric form, as Postfix logs it */
} dns_addr;

typedef struct dns_addr_list {
    dns_addr *items;
    size_t  count;
} dns_addr_list;

dns_mx_list *dns_mx_list_new(void);
void    dns_mx_list_free(dns_mx_list *list);
dns_addr_list *dns_addr_list_new(void);
void    dns_addr_list_free(dns_addr_list *list);

int     dns_route_mx(const char *domain, dns_mx_list *list, strbuf *why);
int     dns_route_addr(const char *host, int how, int families, int port,
                        dns_addr_list *list, strbuf *why);
int     dns_route_families(const char *inet_protocols);
int     dns_route_host_lookup(const char *value);
int     dns_route_parse_mx(const unsigned char *answer, size_t len, dns_mx_list *list);

#endif
