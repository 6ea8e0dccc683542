/*
 * base64 - strict base64 for SMTP AUTH. See base64.h.
 */
#include <string.h>

#include "base64.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const void *data, size_t len, strbuf *out)
{
    const unsigned char *in = data;
    size_t  i;

    strbuf_reserve(out, (len + 2) / 3 * 4);
    for (i = 0; i + 3 <= len; i += 3) {
        unsigned long group = (unsigned long) in[i] << 16 | (unsigned long) in[i + 1] << 8 | in[i + 2];

        strbuf_append_char(out, base64_alphabet[group >> 18 & 0x3f]);
        strbuf_append_char(out, base64_alphabet[group >> 12 & 0x3f]);
        strbuf_append_char(out, base64_alphabet[group >> 6 & 0x3f]);
        strbuf_append_char(out, base64_alphabet[group & 0x3f]);
    }
    if (len - i == 1) {
        strbuf_append_char(out, base64_alphabet[in[i] >> 2]);
        strbuf_append_char(out, base64_alphabet[(in[i] & 0x03) << 4]);
        strbuf_append_str(out, "==");
    } else if (len - i == 2) {
        strbuf_append_char(out, base64_alphabet[in[i] >> 2]);
        strbuf_append_char(out, base64_alphabet[(in[i] & 0x03) << 4 | in[i + 1] >> 4]);
        strbuf_append_char(out, base64_alphabet[(in[i + 1] & 0x0f) << 2]);
        strbuf_append_char(out, '=');
    }
}

/* The 6-bit value of an alphabet character, or -1. */
static int base64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/*
 * Decode one group of four characters, of which the last `padding` are '='.
 * Fails on a character outside the alphabet or non-zero discarded bits.
 */
static int decode_group(const unsigned char *group, int padding, strbuf *out)
{
    unsigned long bits = 0;
    unsigned char bytes[3];
    int     nbytes = 3 - padding;

    for (int i = 0; i < 4; i++) {
        int     value = i < 4 - padding ? base64_value(group[i]) : 0;

        if (value < 0)
            return -1;
        bits = bits << 6 | (unsigned long) value;
    }
    bytes[0] = (unsigned char) (bits >> 16);
    bytes[1] = (unsigned char) (bits >> 8);
    bytes[2] = (unsigned char) bits;
    if (padding == 1 && bytes[2] != 0)
        return -1;
    if (padding == 2 && (bytes[1] != 0 || bytes[2] != 0))
        return -1;
    strbuf_append(out, bytes, (size_t) nbytes);
    return 0;
}

/* How many '=' end the text (0-2), or -1 when '=' appears anywhere else. */
static int count_padding(const unsigned char *text, size_t len)
{
    int     padding = 0;

    if (len >= 1 && text[len - 1] == '=')
        padding++;
    if (len >= 2 && text[len - 2] == '=')
        padding++;
    if (memchr(text, '=', len - (size_t) padding) != NULL)
        return -1;
    return padding;
}

int base64_decode(const char *text, size_t len, strbuf *out)
{
    const unsigned char *in = (const unsigned char *) text;
    int     padding;

    strbuf_reset(out);
    if (len % 4 != 0 || (padding = count_padding(in, len)) < 0)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        int     group_padding = i + 4 == len ? padding : 0;

        if (decode_group(in + i, group_padding, out) < 0) {
            strbuf_reset(out);
            return -1;
        }
    }
    return 0;
}
