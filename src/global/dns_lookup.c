/*
 * dns_lookup - the DNS questions smtpd asks. See dns_lookup.h.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>

#include "dns_lookup.h"
#include "valid_hostname.h"

#define DNS_HEADER_SIZE   12
#define DNS_REPLY_MAX     65535
#define DNS_CLASS_IN      1
#define DNS_RCODE_NXDOMAIN 3

static unsigned get16(const unsigned char *p)
{
    return (unsigned) (p[0] << 8 | p[1]);
}

/* Skips a possibly compressed name at *pos; -1 when it is malformed. */
static int skip_name(const unsigned char *msg, size_t len, size_t *pos)
{
    char    name[NS_MAXDNAME];
    int     used = dn_expand(msg, msg + len, msg + *pos, name, sizeof(name));

    if (used < 0)
        return -1;
    *pos += (size_t) used;
    return 0;
}

static void add_text(argv_t *result, const unsigned char *rdata, size_t rdlen)
{
    strbuf *text = strbuf_new(64);

    for (size_t i = 0; i < rdlen;) {
        size_t  piece = rdata[i++];

        if (piece > rdlen - i)
            piece = rdlen - i;
        for (size_t j = 0; j < piece && text->len < DNS_TEXT_MAX; j++) {
            unsigned char ch = rdata[i + j];

            strbuf_append_char(text, ch >= 0x20 && ch < 0x7F ? ch : '?');
        }
        i += piece;
    }
    argv_add(result, text->data);
    strbuf_free(text);
}

/* Converts one record's data; -1 when it does not fit its type. */
static int add_record(const unsigned char *msg, size_t rdpos, size_t rdlen, int type,
                      argv_t *result)
{
    char    text[NS_MAXDNAME];

    switch (type) {
    case DNS_TYPE_A:
        if (rdlen != 4 || inet_ntop(AF_INET, msg + rdpos, text, sizeof(text)) == NULL)
            return -1;
        break;
    case DNS_TYPE_AAAA:
        if (rdlen != 16 || inet_ntop(AF_INET6, msg + rdpos, text, sizeof(text)) == NULL)
            return -1;
        break;
    case DNS_TYPE_MX:
        if (rdlen < 3 || dn_expand(msg, msg + rdpos + rdlen, msg + rdpos + 2, text,
                                   sizeof(text)) < 0)
            return -1;
        if (text[0] && !valid_hostname(text, strlen(text), HOSTNAME_ALLOW_UNDERSCORE))
            return -1;
        break;
    case DNS_TYPE_TXT:
        add_text(result, msg + rdpos, rdlen);
        return 0;
    default:
        return -1;
    }
    argv_add(result, text);
    return 0;
}

/* Walks the answer section, from `pos`; -1 when a record is malformed. */
static int parse_answers(const unsigned char *msg, size_t len, size_t pos, unsigned count,
                         int type, argv_t *result)
{
    for (unsigned i = 0; i < count; i++) {
        unsigned rtype;
        unsigned rclass;
        size_t  rdlen;

        if (skip_name(msg, len, &pos) < 0 || len - pos < 10)
            return -1;
        rtype = get16(msg + pos);
        rclass = get16(msg + pos + 2);
        rdlen = get16(msg + pos + 8);
        pos += 10;
        if (rdlen > len - pos)
            return -1;
        if ((int) rtype == type && rclass == DNS_CLASS_IN
            && add_record(msg, pos, rdlen, type, result) < 0)
            return -1;
        pos += rdlen;
    }
    return 0;
}

int dns_parse_reply(const unsigned char *reply, size_t len, int type, argv_t *result,
                    strbuf *why)
{
    size_t  pos = DNS_HEADER_SIZE;
    size_t  before = result->count;
    unsigned questions;

    if (len < DNS_HEADER_SIZE || len > DNS_REPLY_MAX) {
        strbuf_set(why, "malformed DNS reply");
        return DNS_FAIL;
    }
    if ((reply[3] & 0x0F) == DNS_RCODE_NXDOMAIN) {
        strbuf_set(why, "Host not found");
        return DNS_NOTFOUND;
    }
    if ((reply[3] & 0x0F) != 0) {
        strbuf_set(why, "Host not found, try again");
        return DNS_RETRY;
    }
    questions = get16(reply + 4);
    for (unsigned i = 0; i < questions; i++) {
        if (skip_name(reply, len, &pos) < 0 || len - pos < 4) {
            strbuf_set(why, "malformed DNS reply");
            return DNS_FAIL;
        }
        pos += 4;
    }
    if (parse_answers(reply, len, pos, get16(reply + 6), type, result) < 0) {
        argv_truncate(result, before);
        strbuf_set(why, "malformed DNS reply");
        return DNS_FAIL;
    }
    if (result->count == before) {
        strbuf_set(why, "No address associated with name");
        return DNS_NOTFOUND;
    }
    return DNS_OK;
}

int dns_lookup(const char *name, int type, argv_t *result, strbuf *why)
{
    static unsigned char reply[DNS_REPLY_MAX];
    size_t  name_len = strlen(name);
    int     len;

    if (name_len == 0 || name_len > NS_MAXDNAME - 2
        || !valid_hostname(name, name_len, HOSTNAME_ALLOW_UNDERSCORE)) {
        strbuf_printf(why, "bad DNS query name \"%.100s\"", name);
        return DNS_FAIL;
    }
    if ((len = res_query(name, DNS_CLASS_IN, type, reply, sizeof(reply))) < 0) {
        switch (h_errno) {
        case HOST_NOT_FOUND:
            strbuf_set(why, "Host not found");
            return DNS_NOTFOUND;
        case NO_DATA:
            strbuf_set(why, "No address associated with name");
            return DNS_NOTFOUND;
        case NO_RECOVERY:
            strbuf_set(why, "Non-recoverable error");
            return DNS_FAIL;
        default:
            strbuf_set(why, "Host not found, try again");
            return DNS_RETRY;
        }
    }
    return dns_parse_reply(reply, (size_t) len, type, result, why);
}
