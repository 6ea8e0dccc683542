/*
 * map_texthash - texthash:/file reads a postmap source file directly.
 *
 * Same format as postmap input ("key whitespace value", logical lines).
 * A duplicate key keeps its first value with a warning. A line that is not
 * "key value", or a continuation with nothing to continue, is an error:
 * it is logged with file and line, and the table is broken, so its users
 * defer rather than decide without that line.
 */
#include <ctype.h>

#include "map_impl.h"
#include "logical_line.h"
#include "map_text.h"
#include "msg.h"

static void texthash_entry(map_t *map, map_memory *table, strbuf *line, int lineno,
                           int *errors, strbuf *why)
{
    char   *key;
    char   *value;
    int     kind = map_text_entry(line->data, &key, &value, why);

    if (kind == MAP_TEXT_BAD) {
        map_text_error(map, errors, "%s, line %d: %s", map->name, lineno, why->data);
        return;
    }
    if (kind == MAP_TEXT_ALIAS_FORM)
        msg_warn("%s, line %d: record is in \"key: value\" format; is this an alias file?",
                 map->name, lineno);
    if (map->flags & MAP_FLAG_FOLD)
        for (char *cp = key; *cp; cp++)
            *cp = (char) tolower((unsigned char) *cp);
    if (map_memory_put(table, key, value))
        msg_warn("%s, line %d: duplicate entry: \"%s\"", map->name, lineno, key);
}

/* Adds every entry of the source text; returns the number of bad lines. */
static int texthash_parse(map_t *map, const strbuf *text)
{
    strbuf *line = strbuf_new(256);
    strbuf *reason = strbuf_new(64);
    logical_cursor cursor;
    int     lineno;
    int     orphan;
    int     errors = 0;

    logical_line_start(&cursor, text->data, LOGICAL_LINE_KEEP_SPACE);
    while ((lineno = logical_line_next(&cursor, line, &orphan)) > 0) {
        if (orphan)
            map_text_error(map, &errors, "%s, line %d: logical line must not start with "
                           "whitespace: \"%s\"", map->name, lineno, line->data);
        else
            texthash_entry(map, map->impl, line, lineno, &errors, reason);
    }
    strbuf_free(reason);
    strbuf_free(line);
    return errors;
}

static int texthash_open(map_t *map, strbuf *why)
{
    strbuf *text = strbuf_new(4096);
    int     status;

    map->impl = map_memory_new();
    status = map_load_source(map, "texthash map", text, why) < 0
        || texthash_parse(map, text) > 0 ? -1 : 0;
    strbuf_free(text);
    return status;
}

const map_type map_type_texthash = {
    .name = "texthash",
    .properties = MAP_FLAG_FIXED,
    .open = texthash_open,
    .lookup = map_memory_lookup,
    .sequence = map_memory_sequence,
    .close = map_memory_close,
};
