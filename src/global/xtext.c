/*
 * xtext - RFC 3461 xtext and the ORCPT parameter. See xtext.h.
 */
#include <string.h>
#include <strings.h>

#include "mail_ctype.h"
#include "mail_utf8.h"
#include "xtext.h"

#define ORCPT_TYPE_RFC822   "rfc822"
#define ORCPT_TYPE_UTF8     "utf-8"
#define UNICODE_REPLACEMENT 0xFFFD
#define HEXPOINT_MAX_DIGITS 6

/* xchar: printable ASCII except '+' and '='. */
static int is_xchar(unsigned char c)
{
    return c >= 33 && c <= 126 && c != '+' && c != '=';
}

/* QCHAR (RFC 6533): printable ASCII except '\', '+' and '='. */
static int is_qchar(unsigned char c)
{
    return is_xchar(c) && c != '\\';
}

/* C0 controls, DEL and C1 controls never enter a decoded address. */
static int is_control_code_point(uint32_t code_point)
{
    return code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F);
}

void xtext_encode(strbuf *out, const char *data, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";

    strbuf_reserve(out, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) data[i];

        if (is_xchar(c)) {
            strbuf_append_char(out, c);
        } else {
            strbuf_append_char(out, '+');
            strbuf_append_char(out, hex[c >> 4]);
            strbuf_append_char(out, hex[c & 0x0F]);
        }
    }
}

/* Value of the "+XX" at text[pos], or -1 when it is not one. */
static int hexchar_value(const char *text, size_t len, size_t pos)
{
    int     high;
    int     low;

    if (len - pos < 3 || text[pos] != '+')
        return -1;
    if ((high = mail_hex_value(text[pos + 1])) < 0 || (low = mail_hex_value(text[pos + 2])) < 0)
        return -1;
    return high * 16 + low;
}

int xtext_decode(strbuf *out, const char *text, size_t len)
{
    size_t  saved_len = out->len;
    int     value;

    for (size_t i = 0; i < len; i++) {
        if (text[i] == '+') {
            if ((value = hexchar_value(text, len, i)) < 0)
                goto bad;
            strbuf_append_char(out, value);
            i += 2;
        } else if (is_xchar((unsigned char) text[i])) {
            strbuf_append_char(out, text[i]);
        } else {
            goto bad;
        }
    }
    return 0;

bad:
    strbuf_truncate(out, saved_len);
    return -1;
}

int xtext_valid(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '+') {
            if (hexchar_value(text, len, i) < 0)
                return 0;
            i += 2;
        } else if (!is_xchar((unsigned char) text[i])) {
            return 0;
        }
    }
    return 1;
}

/* rfc822 type: xtext whose decoded form is printable ASCII. */
static int decode_rfc822_address(strbuf *address, const char *text, size_t len)
{
    if (xtext_decode(address, text, len) < 0)
        return -1;
    for (size_t i = 0; i < address->len; i++)
        if (!mail_is_printable((unsigned char) address->data[i]))
            return -1;
    return 0;
}

/*
 * Parses "\x{HEX}" at text[*pos] (1-6 hex digits), stores the code point and
 * moves *pos past the closing brace. Returns -1 when it is not one.
 */
static int embedded_unicode_char(const char *text, size_t len, size_t *pos,
                                 uint32_t *code_point)
{
    size_t  i = *pos;
    size_t  digits = 0;
    uint32_t value = 0;

    if (len - i < 5 || text[i] != '\\' || text[i + 1] != 'x' || text[i + 2] != '{')
        return -1;
    for (i += 3; i < len && mail_hex_value(text[i]) >= 0; i++) {
        if (++digits > HEXPOINT_MAX_DIGITS)
            return -1;
        value = value * 16 + (uint32_t) mail_hex_value(text[i]);
    }
    if (digits == 0 || i >= len || text[i] != '}')
        return -1;
    *code_point = value;
    *pos = i + 1;
    return 0;
}

/* One element of a utf-8 ORCPT: QCHAR, \x{HEX}, or (ORCPT_UTF8) raw UTF-8. */
static int decode_utf8_element(strbuf *address, const char *text, size_t len,
                               size_t *pos, int flags)
{
    const unsigned char *p = (const unsigned char *) text + *pos;
    uint32_t code_point;
    size_t  step;

    if (is_qchar(*p)) {
        strbuf_append_char(address, *p);
        *pos += 1;
        return 0;
    }
    if (*p == '\\') {
        if (embedded_unicode_char(text, len, pos, &code_point) < 0
            || is_control_code_point(code_point))
            return -1;
        return utf8_encode(address, code_point);
    }
    if (*p < 0x80 || !(flags & ORCPT_UTF8))
        return -1;
    if ((step = utf8_decode(p, len - *pos, &code_point)) == 0
        || is_control_code_point(code_point))
        return -1;
    strbuf_append(address, p, step);
    *pos += step;
    return 0;
}

static int decode_utf8_address(strbuf *address, const char *text, size_t len, int flags)
{
    size_t  pos = 0;

    while (pos < len)
        if (decode_utf8_element(address, text, len, &pos, flags) < 0)
            return -1;
    return 0;
}

static int type_is(const char *type, size_t len, const char *name)
{
    return len == strlen(name) && strncasecmp(type, name, len) == 0;
}

int orcpt_decode(const char *value, size_t len, int flags, strbuf *type, strbuf *address)
{
    const char *semicolon = memchr(value, ';', len);
    const char *text;
    size_t  type_len;
    size_t  text_len;
    int     status;

    strbuf_reset(type);
    strbuf_reset(address);
    if (len > ORCPT_MAX_LENGTH || semicolon == NULL)
        return -1;
    type_len = (size_t) (semicolon - value);
    text = semicolon + 1;
    text_len = len - type_len - 1;
    if (text_len == 0)
        return -1;
    if (type_is(value, type_len, ORCPT_TYPE_RFC822)) {
        strbuf_set(type, ORCPT_TYPE_RFC822);
        status = decode_rfc822_address(address, text, text_len);
    } else if (type_is(value, type_len, ORCPT_TYPE_UTF8)) {
        strbuf_set(type, ORCPT_TYPE_UTF8);
        status = decode_utf8_address(address, text, text_len, flags);
    } else {
        status = -1;
    }
    if (status < 0) {
        strbuf_reset(type);
        strbuf_reset(address);
    }
    return status;
}

/* utf-8-addr-xtext: QCHAR as is, everything else as \x{HEX}. */
static void encode_utf8_address(strbuf *out, const char *address, size_t len)
{
    const unsigned char *p = (const unsigned char *) address;
    uint32_t code_point;
    size_t  step;

    for (size_t i = 0; i < len; i += step) {
        if (is_qchar(p[i])) {
            strbuf_append_char(out, p[i]);
            step = 1;
            continue;
        }
        if ((step = utf8_decode(p + i, len - i, &code_point)) == 0) {
            code_point = UNICODE_REPLACEMENT;
            step = 1;
        }
        strbuf_append_printf(out, "\\x{%X}", (unsigned) code_point);
    }
}

void orcpt_encode(strbuf *out, const char *type, const char *address, size_t len)
{
    if (strcasecmp(type, ORCPT_TYPE_UTF8) == 0) {
        strbuf_append_str(out, ORCPT_TYPE_UTF8 ";");
        encode_utf8_address(out, address, len);
    } else {
        strbuf_append_str(out, ORCPT_TYPE_RFC822 ";");
        xtext_encode(out, address, len);
    }
}
