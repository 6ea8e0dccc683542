/*
 * libFuzzer target: header_addr (RFC 5322 address lists).
 *
 * The first byte picks the token limit (odd: a small limit, to exercise
 * truncation; even: the default), the rest is the header value. Checked on
 * every input: no crash or leak (ASan); spans lie inside the value, in
 * order, without overlap; no address holds a control character; rendering
 * without changes gives back the value byte for byte; rewriting every
 * address and rendering gives a value in which no new line can start.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header_addr.h"

static void check_items(const header_addr_list *list)
{
    size_t  previous_end = 0;

    for (size_t i = 0; i < list->count; i++) {
        const header_addr *item = &list->items[i];

        if (item->start < previous_end || item->end < item->start
            || item->end > list->value_len)
            abort();
        previous_end = item->end;
        for (size_t j = 0; j < item->address->len; j++)
            if ((unsigned char) item->address->data[j] < 0x20 || item->address->data[j] == 0x7F)
                abort();
    }
}

static void check_identity(const header_addr_list *list, const uint8_t *value, size_t len)
{
    strbuf *out = strbuf_new(len);

    header_addr_render(out, list);
    if (out->len != len || memcmp(out->data, value, len) != 0)
        abort();
    strbuf_free(out);
}

static void hostile_rewrite(header_addr *item, void *context)
{
    strbuf_append_str(item->address, context);
}

/* Newlines in the rendering come only from the original value. */
static void check_rewrite(header_addr_list *list, const uint8_t *value, size_t len)
{
    strbuf *out = strbuf_new(len);
    size_t  before = 0;
    size_t  after = 0;

    header_addr_rewrite(list, hostile_rewrite, "\r\nBcc: \"x\"@y");
    header_addr_render(out, list);
    for (size_t i = 0; i < len; i++)
        before += value[i] == '\n' || value[i] == '\r';
    for (size_t i = 0; i < out->len; i++)
        after += out->data[i] == '\n' || out->data[i] == '\r';
    if (after > before)
        abort();
    strbuf_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    header_addr_list *list;
    size_t  limit;

    if (size < 1)
        return 0;
    limit = (data[0] & 1) ? (size_t) (data[0] >> 1) + 1 : 0;
    list = header_addr_parse((const char *) data + 1, size - 1, limit);
    check_items(list);
    check_identity(list, data + 1, size - 1);
    check_rewrite(list, data + 1, size - 1);
    header_addr_list_free(list);
    return 0;
}
