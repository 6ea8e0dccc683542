/*
 * dns_lookup - the DNS questions smtpd asks (DNS blocklists, the domains
 * of reject_unknown_*_domain), through the system resolver.
 *
 * dns_lookup(name, type, result, why) queries `name` for records of one
 * type with res_query() (so resolv.conf decides the servers; in a chroot,
 * queue_directory/etc/resolv.conf) and appends what it finds to `result`:
 *
 *   DNS_TYPE_A      dotted quads ("127.0.0.2")
 *   DNS_TYPE_AAAA   IPv6 addresses in text form
 *   DNS_TYPE_MX     exchange host names ("" for a null MX, RFC 7505)
 *   DNS_TYPE_TXT    one string per record, its character-strings joined
 *
 * Returns DNS_OK (records found), DNS_NOTFOUND (the name does not exist,
 * or has no record of that type), DNS_RETRY (no answer now: server
 * failure, timeout, unreachable server: try again later) or DNS_FAIL (a
 * name that cannot be queried, a reply that does not parse). `why` gets a
 * reason for anything but DNS_OK.
 *
 * dns_parse_reply(reply, len, type, result, why) is the reply parser on its
 * own (a fuzz target drives it): it walks the header, skips the question
 * section and takes the answer records of the wanted type and class IN,
 * checking every length against the message. Text from the network is
 * made safe here: TXT strings keep printable ASCII only (anything else
 * becomes '?') and are cut at DNS_TEXT_MAX bytes; names come from
 * dn_expand(), which refuses malformed and looping compression.
 *
 * Memory: results are appended to the caller's argv; nothing else is kept.
 * Nothing here logs.
 */
#ifndef POSTERN_DNS_LOOKUP_H
#define POSTERN_DNS_LOOKUP_H

#include <stddef.h>

#include "argv.h"
#include "strbuf.h"

#define DNS_TYPE_A      1
#define DNS_TYPE_MX     15
#define DNS_TYPE_TXT    16
#define DNS_TYPE_AAAA   28

#define DNS_TEXT_MAX    255

enum dns_status { DNS_OK, DNS_NOTFOUND, DNS_RETRY, DNS_FAIL };

int     dns_lookup(const char *name, int type, argv_t *result, strbuf *why);
int     dns_parse_reply(const unsigned char *reply, size_t len, int type, argv_t *result,
                        strbuf *why);

#endif
