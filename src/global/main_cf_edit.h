/*
 * main_cf_edit - change main.cf text while keeping comments and order.
 *
 * main_cf_edit_text() works on physical lines; an entry spans its first line
 * and its continuation lines (comment lines inside it included).
 *   MAIN_CF_SET:     every entry of a name becomes one "name = value" line;
 *                    names not present are appended at the end
 *   MAIN_CF_REMOVE:  the entries are deleted
 *   MAIN_CF_COMMENT: each line of the entries gets a leading '#'
 * `names` and `values` are parallel arrays of `count` items (values only for
 * MAIN_CF_SET). The result is written to `out`. Callers validate names and
 * refuse values with newlines (main_cf_edit_check()).
 */
#ifndef POSTERN_MAIN_CF_EDIT_H
#define POSTERN_MAIN_CF_EDIT_H

#include <stddef.h>

#include "strbuf.h"

enum main_cf_edit { MAIN_CF_SET, MAIN_CF_REMOVE, MAIN_CF_COMMENT };

void main_cf_edit_text(const char *text, enum main_cf_edit mode, char **names,
                       char **values, size_t count, strbuf *out);
int  main_cf_edit_check(const char *name, const char *value, strbuf *why);

#endif
