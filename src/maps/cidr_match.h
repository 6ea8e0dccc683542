/*
 * cidr_match - IPv4 and IPv6 addresses and networks, parsed and compared.
 *
 * cidr_addr_parse() accepts a bare address ("192.0.2.1", "2001:db8::1"),
 * as inet_pton() does (no brackets, no leading zeros in IPv4 octets).
 * cidr_net_parse() accepts a network: an address, optionally inside
 * brackets ("[2001:db8::1]"), optionally followed by "/prefix"
 * ("10.0.0.0/8", "[2001:db8::]/32", "2001:db8::/32"). An address alone is a
 * host (/32 or /128). Host bits set below the prefix, a bad prefix length
 * or a bad address fail with a reason worded as Postfix words it.
 * cidr_net_match() is true when the address lies in the network; IPv4 and
 * IPv6 never match each other.
 */
#ifndef POSTERN_CIDR_MATCH_H
#define POSTERN_CIDR_MATCH_H

#include "strbuf.h"

typedef struct cidr_addr {
    int     family;                     /* AF_INET or AF_INET6 */
    unsigned char bytes[16];
} cidr_addr;

typedef struct cidr_net {
    cidr_addr addr;                     /* host bits are zero */
    int     prefix;
} cidr_net;

int     cidr_addr_parse(const char *text, cidr_addr *addr);
int     cidr_net_parse(const char *text, cidr_net *net, strbuf *why);
int     cidr_net_match(const cidr_net *net, const cidr_addr *addr);

#endif
