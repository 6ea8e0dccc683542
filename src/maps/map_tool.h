/*
 * map_tool - the command behind postmap(1) and postalias(1).
 *
 * Both commands take the same options and differ in their source format
 * and output separator, which `map_tool` describes:
 *
 *   program     "postmap": log ident "postfix/postmap", messages "postmap: ..."
 *   usage       the text after "usage: "
 *   separator   between key and value in "-q -" and "-s" output
 *   add_line    adds the entries of one logical source line, warning about
 *               a bad line itself ("FILE, line N: ...")
 *   finish      optional: called after the entries of a build or -i update
 *
 * map_tool_main() parses the options and runs one mode:
 *   (default)   build each [type:]file from file, atomically (map_create)
 *   -i          add the entries read from standard input, in place
 *   -q key      print the value from the first table that has key; -q -
 *               reads keys from standard input, prints "key SEP value"
 *   -d key      delete key from every table; -d - reads keys from stdin
 *   -s          print every "key SEP value" of every table
 * with -c dir, -f (no case folding), -N / -n (with / without NUL), -o (keep
 * root privileges; by default a build runs as the owner of the source
 * file), -p (mode 0644 instead of the source's read bits), -r / -w
 * (replace / ignore duplicates quietly), -v.
 *
 * Exit status: 0 success (a query or delete found something), 1 not found,
 * and 1 with "PROGRAM: fatal: ..." on any error, as Postfix.
 */
#ifndef POSTERN_MAP_TOOL_H
#define POSTERN_MAP_TOOL_H

#include "map.h"
#include "strbuf.h"

typedef struct map_tool {
    const char *program;
    const char *usage;
    const char *separator;
    void    (*add_line)(map_t *map, const char *source, int lineno, strbuf *line);
    void    (*finish)(map_t *map);
} map_tool;

int     map_tool_main(const map_tool *tool, int argc, char **argv);
void    map_tool_update(map_t *map, const char *key, const char *value);

#endif
