/*
 * map_rules - tables of ordered rules: regexp:, pcre: and cidr:.
 *
 * The three share their file structure, implemented once here:
 *
 *   PATTERN result        use result when the key matches PATTERN
 *   !PATTERN result       use result when the key does not match
 *   if PATTERN / if !PATTERN ... endif     (nesting allowed)
 *
 * plus logical lines, comments and inline tables ("{ {rule}, {rule} }").
 * Rules are tried in order; the first that fires gives the result. The
 * engine says how a PATTERN is written and matched:
 *
 *   parse(&text, &groups, why)  compile the pattern at the start of text
 *                         and move text past it (and its flags); report the
 *                         number of capture groups; NULL with `why` on error.
 *   prepare(key, state)   optional: turn the key into the form match()
 *                         wants once per lookup (cidr parses the address);
 *                         returns 0, or -1 when no rule can match the key.
 *   match(compiled, key, state, captures, why)  1 match, 0 no match,
 *                         -1 error. captures->start/end get group offsets
 *                         (CAPTURE_UNSET when a group took no part).
 *
 * With `substitutions`, results may use $1, ${1}, $(1) and $$, checked
 * when the table is read. With `result_required`, a rule without a result
 * is an error (cidr); otherwise it yields "" with a warning (regexp, pcre).
 *
 * map_rules_delimited() splits "/pattern/flags" for regexp and pcre: the
 * delimiter is the first character (not a letter, digit, white space or
 * backslash); a backslash keeps the next character inside the pattern;
 * the flags run to the next white space.
 *
 * Every malformed line is logged as "LABEL FILE, line N: reason" and breaks
 * the table (see map_text_error). An IF left open at the end or an ENDIF
 * without IF is only a warning, as nothing is lost.
 */
#ifndef POSTERN_MAP_RULES_H
#define POSTERN_MAP_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "map_impl.h"

#define CAPTURE_UNSET SIZE_MAX

typedef struct rule_captures {
    size_t  count;                      /* slots: groups + 1 */
    size_t *start;
    size_t *end;
} rule_captures;

typedef struct rule_engine {
    const char *label;                  /* "regexp map" */
    int     substitutions;
    int     result_required;
    size_t  prepared_size;              /* bytes of per-lookup state for prepare() */
    void   *(*parse)(const char **text, int *groups, strbuf *why);
    int     (*prepare)(const char *key, void *state);
    int     (*match)(void *compiled, const char *key, const void *state,
                     rule_captures *captures, strbuf *why);
    void    (*free)(void *compiled);
} rule_engine;

int     map_rules_open(map_t *map, const rule_engine *engine, strbuf *why);
int     map_rules_delimited(const char **text, strbuf *pattern, strbuf *flags, strbuf *why);
int     map_rules_lookup(map_t *map, const char *key, strbuf *value);
void    map_rules_close(map_t *map);

#endif
