/*
 * mail_utf8 - UTF-8 well-formedness for mail syntax checks. See mail_utf8.h.
 */
#include "mail_utf8.h"

#define UTF8_MAX_CODE_POINT  0x10FFFF
#define IS_CONTINUATION(b)   (((b) & 0xC0) == 0x80)
#define IS_SURROGATE(c)      ((c) >= 0xD800 && (c) <= 0xDFFF)

size_t utf8_decode(const unsigned char *p, size_t avail, uint32_t *code_point)
{
    static const uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t  length;
    uint32_t value;

    if (avail == 0)
        return 0;
    if (p[0] < 0x80) {
        *code_point = p[0];
        return 1;
    }
    if ((p[0] & 0xE0) == 0xC0) {
        length = 2;
        value = p[0] & 0x1F;
    } else if ((p[0] & 0xF0) == 0xE0) {
        length = 3;
        value = p[0] & 0x0F;
    } else if ((p[0] & 0xF8) == 0xF0) {
        length = 4;
        value = p[0] & 0x07;
    } else {
        return 0;                               /* continuation or 0xF8-0xFF */
    }
    if (avail < length)
        return 0;
    for (size_t i = 1; i < length; i++) {
        if (!IS_CONTINUATION(p[i]))
            return 0;
        value = (value << 6) | (p[i] & 0x3F);
    }
    if (value < smallest[length] || value > UTF8_MAX_CODE_POINT || IS_SURROGATE(value))
        return 0;
    *code_point = value;
    return length;
}

size_t utf8_char_length(const unsigned char *p, size_t avail)
{
    uint32_t ignored;

    return utf8_decode(p, avail, &ignored);
}

int utf8_valid(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *) text;
    size_t  step;

    for (size_t i = 0; i < len; i += step)
        if ((step = utf8_char_length(p + i, len - i)) == 0)
            return 0;
    return 1;
}

int utf8_encode(strbuf *out, uint32_t code_point)
{
    unsigned char bytes[4];
    size_t  length;

    if (code_point > UTF8_MAX_CODE_POINT || IS_SURROGATE(code_point))
        return -1;
    if (code_point < 0x80) {
        bytes[0] = (unsigned char) code_point;
        length = 1;
    } else if (code_point < 0x800) {
        bytes[0] = (unsigned char) (0xC0 | (code_point >> 6));
        bytes[1] = (unsigned char) (0x80 | (code_point & 0x3F));
        length = 2;
    } else if (code_point < 0x10000) {
        bytes[0] = (unsigned char) (0xE0 | (code_point >> 12));
        bytes[1] = (unsigned char) (0x80 | ((code_point >> 6) & 0x3F));
        bytes[2] = (unsigned char) (0x80 | (code_point & 0x3F));
        length = 3;
    } else {
        bytes[0] = (unsigned char) (0xF0 | (code_point >> 18));
        bytes[1] = (unsigned char) (0x80 | ((code_point >> 12) & 0x3F));
        bytes[2] = (unsigned char) (0x80 | ((code_point >> 6) & 0x3F));
        bytes[3] = (unsigned char) (0x80 | (code_point & 0x3F));
        length = 4;
    }
    strbuf_append(out, bytes, length);
    return 0;
}
