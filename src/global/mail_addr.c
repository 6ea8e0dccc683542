/*
 * mail_addr - internal and external forms of a mail address. See mail_addr.h.
 */
#include <string.h>

#include "mail_addr.h"
#include "mail_ctype.h"

int mail_addr_is_atext(int ch)
{
    unsigned char c = (unsigned char) ch;

    if (c >= 0x80)
        return 1;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

void mail_addr_split(const char *addr, size_t len, mail_addr_parts *parts)
{
    const char *at = memrchr(addr, '@', len);

    parts->local = addr;
    if (at == NULL) {
        parts->local_len = len;
        parts->domain = NULL;
        parts->domain_len = 0;
    } else {
        parts->local_len = (size_t) (at - addr);
        parts->domain = at + 1;
        parts->domain_len = len - parts->local_len - 1;
    }
}

int mail_addr_is_local_part_only(const char *addr, size_t len)
{
    return memchr(addr, '@', len) == NULL;
}

int mail_addr_local_is_dot_atom(const char *local, size_t len)
{
    if (len == 0 || local[0] == '.' || local[len - 1] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (local[i] == '.') {
            if (local[i + 1] == '.')
                return 0;
        } else if (!mail_addr_is_atext(local[i])) {
            return 0;
        }
    }
    return 1;
}

/* Appends text, writing '?' for each control character. */
static void append_without_controls(strbuf *out, const char *text, size_t len)
{
    strbuf_reserve(out, len);
    for (size_t i = 0; i < len; i++)
        strbuf_append_char(out, mail_is_control((unsigned char) text[i]) ? '?' : text[i]);
}

void mail_addr_quote_local(strbuf *out, const char *local, size_t len)
{
    if (mail_addr_local_is_dot_atom(local, len)) {
        strbuf_append(out, local, len);
        return;
    }
    strbuf_reserve(out, len + 2);
    strbuf_append_char(out, '"');
    for (size_t i = 0; i < len; i++) {
        if (local[i] == '"' || local[i] == '\\')
            strbuf_append_char(out, '\\');
        strbuf_append_char(out, mail_is_control((unsigned char) local[i]) ? '?' : local[i]);
    }
    strbuf_append_char(out, '"');
}

void mail_addr_externalize(strbuf *out, const char *addr, size_t len)
{
    mail_addr_parts parts;

    if (len == 0)
        return;
    mail_addr_split(addr, len, &parts);
    mail_addr_quote_local(out, parts.local, parts.local_len);
    if (parts.domain) {
        strbuf_append_char(out, '@');
        append_without_controls(out, parts.domain, parts.domain_len);
    }
}

/* Offset of the last '@' outside double quotes, or len when there is none. */
static size_t external_split_point(const char *text, size_t len)
{
    size_t  split = len;
    int     quoted = 0;

    for (size_t i = 0; i < len; i++) {
        if (quoted && text[i] == '\\')
            i++;
        else if (text[i] == '"')
            quoted = !quoted;
        else if (!quoted && text[i] == '@')
            split = i;
    }
    return split;
}

/* Appends the unquoted local part; -1 on malformed quoting. */
static int unquote_local(strbuf *out, const char *text, size_t len)
{
    int     quoted = 0;

    for (size_t i = 0; i < len; i++) {
        if (mail_is_control((unsigned char) text[i]))
            return -1;
        if (text[i] == '"') {
            quoted = !quoted;
        } else if (text[i] == '\\') {
            if (!quoted || i + 1 >= len || mail_is_control((unsigned char) text[i + 1]))
                return -1;
            strbuf_append_char(out, text[++i]);
        } else {
            strbuf_append_char(out, text[i]);
        }
    }
    return quoted ? -1 : 0;
}

int mail_addr_unquote(strbuf *out, const char *external, size_t len)
{
    size_t  saved_len = out->len;
    size_t  split = external_split_point(external, len);

    if (unquote_local(out, external, split) < 0)
        goto bad;
    for (size_t i = split; i < len; i++)
        if (mail_is_control((unsigned char) external[i]) || external[i] == '"' || external[i] == '\\')
            goto bad;
    strbuf_append(out, external + split, len - split);
    return 0;

bad:
    strbuf_truncate(out, saved_len);
    return -1;
}

void mail_addr_lowercase_domain(strbuf *addr)
{
    mail_addr_parts parts;

    mail_addr_split(addr->data, addr->len, &parts);
    if (parts.domain == NULL)
        return;
    for (char *cp = addr->data + parts.local_len + 1; cp < addr->data + addr->len; cp++)
        if (*cp >= 'A' && *cp <= 'Z')
            *cp = (char) (*cp - 'A' + 'a');
}
