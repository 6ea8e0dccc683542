/*
 * mail_sanitize - untrusted text made safe for headers and logs.
 * See mail_sanitize.h.
 */
#include <string.h>

#include "mail_addr.h"
#include "mail_ctype.h"
#include "mail_params.h"
#include "mail_sanitize.h"
#include "mail_utf8.h"

void sanitize_printable(strbuf *out, const char *text, size_t len)
{
    strbuf_reserve(out, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text[i];

        strbuf_append_char(out, mail_is_printable(c) ? c : SANITIZE_REPLACEMENT);
    }
}

void sanitize_comment(strbuf *out, const char *text, size_t len)
{
    strbuf_reserve(out, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text[i];

        if (c == '(' || c == ')' || c == '\\')
            strbuf_append_char(out, '\\');
        strbuf_append_char(out, mail_is_printable(c) ? c : SANITIZE_REPLACEMENT);
    }
}

/* Printable ASCII and well-formed UTF-8 kept, anything else '?'. */
static void append_utf8_printable(strbuf *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *) text;
    size_t  step;

    for (size_t i = 0; i < len; i += step) {
        if (p[i] < 0x80) {
            step = 1;
            strbuf_append_char(out, mail_is_printable(p[i]) ? p[i] : SANITIZE_REPLACEMENT);
        } else if ((step = utf8_char_length(p + i, len - i)) != 0) {
            strbuf_append(out, p + i, step);
        } else {
            step = 1;
            strbuf_append_char(out, SANITIZE_REPLACEMENT);
        }
    }
}

static int log_internal_form(void)
{
    return var_info_log_address_format != NULL
        && strcmp(var_info_log_address_format, "internal") == 0;
}

void log_address(strbuf *out, const char *label, const char *address, size_t len)
{
    strbuf *form = strbuf_new(len + 2);

    if (log_internal_form())
        strbuf_append(form, address, len);
    else
        mail_addr_externalize(form, address, len);
    strbuf_append_str(out, label);
    strbuf_append_str(out, "=<");
    append_utf8_printable(out, form->data, form->len);
    strbuf_append_char(out, '>');
    strbuf_free(form);
}
