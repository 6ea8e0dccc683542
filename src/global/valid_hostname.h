/*
 * valid_hostname - syntax of host names, IP addresses and address literals.
 *
 * valid_hostname(name, len, flags) accepts an RFC 1123 host name: labels of
 * letters, digits and hyphens separated by single dots; each label 1-63
 * bytes, not starting or ending with a hyphen; the whole name 1-255 bytes;
 * the last label not all digits (a name like 192.0.2.1 is an IPv4 address,
 * which mail writes as the literal [192.0.2.1]). Flags widen the alphabet:
 *
 *   HOSTNAME_ALLOW_UNDERSCORE    '_' counts as a letter. Real DNS holds such
 *                                names and Postfix accepts them.
 *   HOSTNAME_ALLOW_UTF8          well-formed UTF-8 non-ASCII characters
 *                                count as letters (U-labels, RFC 6531
 *                                SMTPUTF8 domains). Lengths stay in bytes.
 *   HOSTNAME_ALLOW_TRAILING_DOT  one final '.' (an absolute DNS name).
 *
 * is_fqdn(name, len, flags): valid_hostname() and at least two labels.
 *
 * valid_ipv4(text, len): a dotted quad, four decimal numbers 0-255 without
 * leading zeros ("010" is octal to some parsers, so it is refused).
 * valid_ipv6(text, len): the RFC 4291 text form: eight groups of 1-4 hex
 * digits, at most one "::" standing for one or more zero groups, the last
 * two groups optionally written as a dotted quad; no zone index. It accepts
 * exactly what glibc's inet_pton(AF_INET6) accepts (the fuzz target checks).
 * valid_address_literal(text, len): "[" IPv4 "]" or "[IPv6:" IPv6 "]" (the
 * tag case-insensitive), RFC 5321 section 4.1.3. General (other tag)
 * literals are refused, as Postfix refuses them.
 *
 * Inputs are counted bytes: a NUL inside makes any of them invalid. All
 * return 1 (valid) or 0; none allocates or logs.
 */
#ifndef POSTERN_VALID_HOSTNAME_H
#define POSTERN_VALID_HOSTNAME_H

#include <stddef.h>

#define HOSTNAME_MAX_LENGTH   255
#define HOSTNAME_MAX_LABEL    63

#define HOSTNAME_ALLOW_UNDERSCORE   (1 << 0)
#define HOSTNAME_ALLOW_UTF8         (1 << 1)
#define HOSTNAME_ALLOW_TRAILING_DOT (1 << 2)

int valid_hostname(const char *name, size_t len, int flags);
int is_fqdn(const char *name, size_t len, int flags);
int valid_ipv4(const char *text, size_t len);
int valid_ipv6(const char *text, size_t len);
int valid_address_literal(const char *text, size_t len);

#endif
