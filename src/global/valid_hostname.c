/*
 * valid_hostname - syntax of host names, IP addresses and address literals.
 * See valid_hostname.h.
 */
#include <string.h>
#include <strings.h>

#include "mail_ctype.h"
#include "mail_utf8.h"
#include "valid_hostname.h"

/* Length of the label character at p (letter, digit, hyphen...), 0 if none. */
static size_t label_char_length(const unsigned char *p, size_t avail, int flags)
{
    if (mail_is_alnum(*p) || *p == '-')
        return 1;
    if (*p == '_' && (flags & HOSTNAME_ALLOW_UNDERSCORE))
        return 1;
    if (*p >= 0x80 && (flags & HOSTNAME_ALLOW_UTF8))
        return utf8_char_length(p, avail);
    return 0;
}

/* Checks one label [start, end); sets *numeric when it is all digits. */
static int valid_label(const unsigned char *start, const unsigned char *end,
                       int flags, int *numeric)
{
    size_t  step;

    if (start == end || end - start > HOSTNAME_MAX_LABEL)
        return 0;
    if (start[0] == '-' || end[-1] == '-')
        return 0;
    *numeric = 1;
    for (const unsigned char *p = start; p < end; p += step) {
        if ((step = label_char_length(p, (size_t) (end - p), flags)) == 0)
            return 0;
        if (!mail_is_digit(*p))
            *numeric = 0;
    }
    return 1;
}

/* Counts the labels of a valid host name, 0 when the name is invalid. */
static size_t hostname_labels(const char *name, size_t len, int flags)
{
    const unsigned char *p = (const unsigned char *) name;
    const unsigned char *end = p + len;
    size_t  labels = 0;
    int     numeric = 0;

    if ((flags & HOSTNAME_ALLOW_TRAILING_DOT) && len > 1 && name[len - 1] == '.')
        end--;
    if (len == 0 || len > HOSTNAME_MAX_LENGTH)
        return 0;
    for (;;) {
        const unsigned char *dot = memchr(p, '.', (size_t) (end - p));
        const unsigned char *label_end = dot ? dot : end;

        if (!valid_label(p, label_end, flags, &numeric))
            return 0;
        labels++;
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    return numeric ? 0 : labels;
}

int valid_hostname(const char *name, size_t len, int flags)
{
    return hostname_labels(name, len, flags) > 0;
}

int is_fqdn(const char *name, size_t len, int flags)
{
    return hostname_labels(name, len, flags) >= 2;
}

/* Parses one IPv4 octet at text[*pos]: 1-3 digits, 0-255, no leading zero. */
static int ipv4_octet(const char *text, size_t len, size_t *pos)
{
    size_t  start = *pos;
    int     value = 0;

    while (*pos < len && mail_is_digit(text[*pos]) && *pos - start < 3)
        value = value * 10 + (text[(*pos)++] - '0');
    if (*pos == start || value > 255)
        return 0;
    if (text[start] == '0' && *pos - start > 1)
        return 0;
    return 1;
}

int valid_ipv4(const char *text, size_t len)
{
    size_t  pos = 0;

    for (int octet = 0; octet < 4; octet++) {
        if (octet > 0 && (pos >= len || text[pos++] != '.'))
            return 0;
        if (!ipv4_octet(text, len, &pos))
            return 0;
    }
    return pos == len;
}

/*
 * IPv6: walk the groups left to right. Each group is 1-4 hex digits; a
 * dotted quad may stand for the last two groups; "::" may appear once and
 * must then stand for at least one zero group.
 */
int valid_ipv6(const char *text, size_t len)
{
    size_t  pos = 0;
    int     groups = 0;
    int     compressed = 0;

    if (len >= 2 && text[0] == ':' && text[1] == ':') {
        compressed = 1;
        pos = 2;
        if (pos == len)
            return 1;                           /* "::" */
    }
    for (;;) {
        size_t  start = pos;

        while (pos < len && mail_hex_value(text[pos]) >= 0 && pos - start < 5)
            pos++;
        if (pos < len && text[pos] == '.') {
            if (groups + 2 > 8 || !valid_ipv4(text + start, len - start))
                return 0;
            groups += 2;
            break;
        }
        if (pos == start || pos - start > 4)
            return 0;
        groups++;
        if (pos == len)
            break;
        if (text[pos] != ':' || groups >= 8)
            return 0;
        pos++;
        if (pos < len && text[pos] == ':') {
            if (compressed)
                return 0;
            compressed = 1;
            if (++pos == len)
                break;
        } else if (pos == len) {
            return 0;                           /* trailing single ':' */
        }
    }
    return compressed ? groups < 8 : groups == 8;
}

int valid_address_literal(const char *text, size_t len)
{
    static const char ipv6_tag[] = "IPv6:";
    const size_t tag_len = sizeof(ipv6_tag) - 1;

    if (len < 2 || text[0] != '[' || text[len - 1] != ']')
        return 0;
    text++;
    len -= 2;
    if (len > tag_len && strncasecmp(text, ipv6_tag, tag_len) == 0)
        return valid_ipv6(text + tag_len, len - tag_len);
    return valid_ipv4(text, len);
}
