/*
 * alias_parse - one aliases(5) entry: "name: value, value, ...".
 *
 * The line is split into RFC 822 tokens: atoms (a backslash makes the next
 * character part of the atom and is dropped), "quoted strings", (comments)
 * kept as written, [domain literals], and the specials < > @ , ; : . ) ].
 * Unterminated quotes and literals end at the end of the line.
 *
 * The name is the tokens before the first ':' in internal form (quotes
 * removed, backslash escapes resolved); it must not contain an unquoted
 * '@' ("name must be local"). The value is the tokens after that ':' in
 * external form, spaced as Postfix writes them: one space after each
 * comma, before '<', and between two words; none around other specials.
 * So "a ,  b" becomes "a, b" and ":include:/x" and "|cmd" stay as they
 * are. Case is left alone (the map folds the name).
 *
 * Returns 0, or -1 with Postfix's wording of the problem in `why`
 * ("need name:value pair", "name must be local").
 */
#ifndef POSTERN_ALIAS_PARSE_H
#define POSTERN_ALIAS_PARSE_H

#include "strbuf.h"

int     alias_parse(const char *line, strbuf *name, strbuf *value, strbuf *why);

#endif
