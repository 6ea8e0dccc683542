/*
 * map_regexp - regexp: tables of POSIX extended regular expressions.
 *
 * Rules are "/pattern/flags result" (see map_rules.h for the file
 * structure). Flags toggle: i case-insensitive (default on), x extended
 * syntax (default on), m newline-sensitive ^ and $ (default off).
 */
#include <regex.h>
#include <stdlib.h>

#include "map_rules.h"
#include "mem.h"

typedef struct regexp_pattern {
    regex_t regex;
    regmatch_t *matches;
    size_t  slots;
} regexp_pattern;

static int regexp_flags(const strbuf *flags, int *cflags, strbuf *why)
{
    *cflags = REG_ICASE | REG_EXTENDED;
    for (size_t i = 0; i < flags->len; i++) {
        switch (flags->data[i]) {
        case 'i': *cflags ^= REG_ICASE; break;
        case 'x': *cflags ^= REG_EXTENDED; break;
        case 'm': *cflags ^= REG_NEWLINE; break;
        default:
            strbuf_printf(why, "unknown regexp option \"%c\"", flags->data[i]);
            return -1;
        }
    }
    return 0;
}

static void *regexp_parse(const char **text, int *groups, strbuf *why)
{
    strbuf *pattern = strbuf_new(64);
    strbuf *flags = strbuf_new(8);
    regexp_pattern *compiled = NULL;
    int     cflags;
    int     err;

    if (map_rules_delimited(text, pattern, flags, why) == 0
        && regexp_flags(flags, &cflags, why) == 0) {
        compiled = xcalloc(1, sizeof(*compiled));
        if ((err = regcomp(&compiled->regex, pattern->data, cflags)) != 0) {
            char    reason[256];

            regerror(err, &compiled->regex, reason, sizeof(reason));
            strbuf_set(why, reason);
            free(compiled);
            compiled = NULL;
        } else {
            *groups = (int) compiled->regex.re_nsub;
            compiled->slots = compiled->regex.re_nsub + 1;
            compiled->matches = xcalloc(compiled->slots, sizeof(regmatch_t));
        }
    }
    strbuf_free(pattern);
    strbuf_free(flags);
    return compiled;
}

static int regexp_match(void *pattern, const char *key, const void *unused,
                        rule_captures *captures, strbuf *why)
{
    regexp_pattern *compiled = pattern;
    int     err = regexec(&compiled->regex, key, compiled->slots, compiled->matches, 0);

    if (err == REG_NOMATCH)
        return 0;
    if (err != 0) {
        char    reason[256];

        regerror(err, &compiled->regex, reason, sizeof(reason));
        strbuf_printf(why, "regexec: %s", reason);
        return -1;
    }
    for (size_t i = 0; i < compiled->slots && i < captures->count; i++) {
        int     unset = compiled->matches[i].rm_so < 0;

        captures->start[i] = unset ? CAPTURE_UNSET : (size_t) compiled->matches[i].rm_so;
        captures->end[i] = unset ? CAPTURE_UNSET : (size_t) compiled->matches[i].rm_eo;
    }
    return 1;
}

static void regexp_free(void *pattern)
{
    regexp_pattern *compiled = pattern;

    regfree(&compiled->regex);
    free(compiled->matches);
    free(compiled);
}

static const rule_engine regexp_engine = {
    .label = "regexp map",
    .substitutions = 1,
    .parse = regexp_parse,
    .match = regexp_match,
    .free = regexp_free,
};

static int regexp_open(map_t *map, strbuf *why)
{
    return map_rules_open(map, &regexp_engine, why);
}

const map_type map_type_regexp = {
    .name = "regexp",
    .properties = MAP_FLAG_PATTERN,
    .open = regexp_open,
    .lookup = map_rules_lookup,
    .close = map_rules_close,
};
