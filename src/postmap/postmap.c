/*
 * postmap - create, query, update and list lookup tables.
 *
 * The options and modes are those of Postfix's postmap(1); the work is
 * done by map_tool (src/maps/map_tool.h). This file knows only the source
 * format: "key whitespace value" per logical line (see map_text.h), with a
 * warning, naming file and line, for a line that is not in that form (it
 * is skipped) or whose key ends in ':' (it is kept: likely an alias file).
 */
#include "map_text.h"
#include "map_tool.h"
#include "msg.h"

static void postmap_add_line(map_t *map, const char *source, int lineno, strbuf *line)
{
    strbuf *why = strbuf_new(64);
    char   *key;
    char   *value;

    switch (map_text_entry(line->data, &key, &value, why)) {
    case MAP_TEXT_BAD:
        msg_warn("%s, line %d: %s", source, lineno, why->data);
        break;
    case MAP_TEXT_ALIAS_FORM:
        msg_warn("%s, line %d: record is in \"key: value\" format; is this an alias file?",
                 source, lineno);
        map_tool_update(map, key, value);
        break;
    default:
        map_tool_update(map, key, value);
        break;
    }
    strbuf_free(why);
}

static const map_tool postmap_tool = {
    .program = "postmap",
    .usage = "[-Nfinoprsvw] [-c config_dir] [-d key] [-q key] [map_type:]file...",
    .separator = "\t",
    .add_line = postmap_add_line,
};

int     main(int argc, char **argv)
{
    return map_tool_main(&postmap_tool, argc, argv);
}
