/*
 * own_addr - the IP addresses of this machine, for "[ip]" destinations.
 *
 * A recipient domain that is an address literal is local when it names
 * one of the addresses Postern receives mail on: those of inet_interfaces
 * and of proxy_interfaces (addresses that reach us through a proxy or a
 * NAT). own_addr_new(inet_interfaces, proxy_interfaces, inet_protocols,
 * why) collects them from each list entry:
 *
 *   all              every address of every interface (getifaddrs)
 *   loopback-only    127.0.0.1 and ::1
 *   an address       192.0.2.1, 2001:db8::1, [2001:db8::1]
 *   a host name      each of its addresses (getaddrinfo: call it before
 *                    chroot, where name service may be out of reach)
 *
 * keeping the families inet_protocols enables ("all", "ipv4", "ipv6").
 * It returns NULL with the reason in `why` for a bad inet_protocols value
 * or a name that does not resolve.
 *
 * own_addr_match(own, literal) is 1 when the address literal
 * ("[192.0.2.1]", "[IPv6:2001:db8::1]", the tag in any case) names one of
 * them, 0 otherwise, also when the literal is malformed.
 *
 * Memory: own_addr_new() returns an object the caller frees with
 * own_addr_free(). Nothing logs.
 */
#ifndef POSTERN_OWN_ADDR_H
#define POSTERN_OWN_ADDR_H

#include <stddef.h>

#include "strbuf.h"

typedef struct own_addr own_addr;

own_addr *own_addr_new(const char *inet_interfaces, const char *proxy_interfaces,
                       const char *inet_protocols, strbuf *why);
int     own_addr_match(const own_addr *own, const char *literal);
size_t  own_addr_count(const own_addr *own);
void    own_addr_free(own_addr *own);

#endif
