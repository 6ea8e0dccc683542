/*
 * mail_ctype - ASCII character classes for mail syntax.
 *
 * The protocols define their alphabets in ASCII; <ctype.h> answers for the
 * current locale and is undefined for negative char values. These take an
 * int holding an unsigned char value (cast char data first) and never
 * count a byte >= 0x80 as a letter, digit, blank or printable.
 *
 *   mail_is_blank     SP, HTAB (the separators of SMTP and header syntax)
 *   mail_is_digit, mail_is_alnum
 *   mail_is_control   C0 controls and DEL
 *   mail_is_printable SP through '~'
 *   mail_hex_value    0-15 for a hex digit of either case, else -1
 */
#ifndef POSTERN_MAIL_CTYPE_H
#define POSTERN_MAIL_CTYPE_H

static inline int mail_is_blank(int c)
{
    return c == ' ' || c == '\t';
}

static inline int mail_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline int mail_is_alnum(int c)
{
    return mail_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int mail_is_control(int c)
{
    return (c >= 0 && c < 0x20) || c == 0x7F;
}

static inline int mail_is_printable(int c)
{
    return c >= 0x20 && c <= 0x7E;
}

static inline int mail_hex_value(int c)
{
    if (mail_is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
