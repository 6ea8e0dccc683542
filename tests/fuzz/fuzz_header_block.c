/*
 * libFuzzer target: a message header block (header_info iteration and
 * unfolding), with every known address header's value run through
 * header_addr. Checked: no crash or leak (ASan); each field lies inside the
 * text and the cursor always advances; an unfolded field holds no line
 * break; a field's name, when found, is valid header-name syntax.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header_addr.h"
#include "header_info.h"

static void check_field(const header_field *field, const char *text, size_t len)
{
    strbuf *unfolded = strbuf_new(field->len);

    if (field->text < text || field->text + field->len > text + len)
        abort();
    if (field->name_len && !header_name_valid(field->text, field->name_len))
        abort();
    header_unfold(unfolded, field->text, field->len);
    if (memchr(unfolded->data, '\n', unfolded->len) != NULL)
        abort();
    strbuf_free(unfolded);
}

static void parse_addresses(const header_field *field)
{
    const header_info *info = header_info_find(field->text, field->name_len);
    header_addr_list *list;

    if (info == NULL || !(info->flags & HEADER_F_ADDRESS))
        return;
    list = header_addr_parse(field->text + field->value_start,
                             field->len - field->value_start, 0);
    header_addr_list_free(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    header_cursor cursor;
    header_field field;
    size_t  before;

    header_cursor_init(&cursor, text, size);
    for (before = cursor.pos; header_next(&cursor, &field); before = cursor.pos) {
        if (cursor.pos <= before)
            abort();
        check_field(&field, text, size);
        if (field.name_len)
            parse_addresses(&field);
    }
    if (cursor.pos > size)
        abort();
    return 0;
}
