/*
 * postalias - create, query, update and list alias databases.
 *
 * The options and modes are those of Postfix's postalias(1), shared with
 * postmap through map_tool (src/maps/map_tool.h). This file knows the
 * aliases(5) source format (alias_parse.h) and adds the "@" -> "@" entry
 * that Sendmail-compatible readers take as the sign of a complete
 * database. A bad line is skipped with a warning naming file and line.
 * newaliases (sendmail -bi) runs "postalias TYPE:FILE" for each entry of
 * alias_database; any number of tables may be named at once.
 */
#include "alias_parse.h"
#include "map_tool.h"
#include "msg.h"

static void postalias_add_line(map_t *map, const char *source, int lineno, strbuf *line)
{
    strbuf *name = strbuf_new(64);
    strbuf *value = strbuf_new(128);
    strbuf *why = strbuf_new(64);

    if (alias_parse(line->data, name, value, why) < 0)
        msg_warn("%s, line %d: %s", source, lineno, why->data);
    else
        map_tool_update(map, name->data, value->data);
    strbuf_free(why);
    strbuf_free(value);
    strbuf_free(name);
}

/* The "@" entry marks a complete database; an existing one is kept. */
static void postalias_finish(map_t *map)
{
    if (map_add_if_absent(map, "@", "@") == MAP_ERROR)
        msg_fatal("%s", map_error(map));
}

static const map_tool postalias_tool = {
    .program = "postalias",
    .usage = "[-Nfinoprsvw] [-c config_dir] [-d key] [-q key] [map_type:]file...",
    .separator = ":\t",
    .add_line = postalias_add_line,
    .finish = postalias_finish,
};

int     main(int argc, char **argv)
{
    return map_tool_main(&postalias_tool, argc, argv);
}
