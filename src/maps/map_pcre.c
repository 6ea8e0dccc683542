/*
 * map_pcre - pcre: tables of Perl-compatible regular expressions (PCRE2).
 *
 * Rules are "/pattern/flags result" (see map_rules.h for the file
 * structure). Flags toggle: i caseless (default on), s dot matches newline
 * (default on), m multi-line, x extended, A anchored, E dollar matches
 * only at the end, U ungreedy (all default off). Patterns are compiled
 * with JIT when the library offers it. A match that fails inside PCRE2
 * (a resource limit, for one) is a lookup error, not a non-match.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>

#include "map_rules.h"
#include "mem.h"

typedef struct pcre_pattern {
    pcre2_code *code;
    pcre2_match_data *data;
} pcre_pattern;

static int pcre_flags(const strbuf *flags, uint32_t *options, strbuf *why)
{
    *options = PCRE2_CASELESS | PCRE2_DOTALL;
    for (size_t i = 0; i < flags->len; i++) {
        switch (flags->data[i]) {
        case 'i': *options ^= PCRE2_CASELESS; break;
        case 's': *options ^= PCRE2_DOTALL; break;
        case 'm': *options ^= PCRE2_MULTILINE; break;
        case 'x': *options ^= PCRE2_EXTENDED; break;
        case 'A': *options ^= PCRE2_ANCHORED; break;
        case 'E': *options ^= PCRE2_DOLLAR_ENDONLY; break;
        case 'U': *options ^= PCRE2_UNGREEDY; break;
        case 'X':
            strbuf_set(why, "regexp option \"X\" is not supported with PCRE2");
            return -1;
        default:
            strbuf_printf(why, "unknown regexp option \"%c\"", flags->data[i]);
            return -1;
        }
    }
    return 0;
}

static pcre_pattern *pcre_compile_pattern(const strbuf *pattern, uint32_t options, int *groups,
                                          strbuf *why)
{
    pcre_pattern *compiled = xcalloc(1, sizeof(*compiled));
    PCRE2_SIZE offset;
    uint32_t capture_count;
    int     err;

    compiled->code = pcre2_compile((PCRE2_SPTR) pattern->data, pattern->len, options,
                                   &err, &offset, NULL);
    if (compiled->code == NULL) {
        PCRE2_UCHAR reason[256];

        pcre2_get_error_message(err, reason, sizeof(reason));
        strbuf_printf(why, "error in regex at offset %zu: %s", (size_t) offset, reason);
        free(compiled);
        return NULL;
    }
    (void) pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);
    (void) pcre2_pattern_info(compiled->code, PCRE2_INFO_CAPTURECOUNT, &capture_count);
    *groups = (int) capture_count;
    compiled->data = pcre2_match_data_create_from_pattern(compiled->code, NULL);
    return compiled;
}

static void *pcre_parse(const char **text, int *groups, strbuf *why)
{
    strbuf *pattern = strbuf_new(64);
    strbuf *flags = strbuf_new(8);
    pcre_pattern *compiled = NULL;
    uint32_t options;

    if (map_rules_delimited(text, pattern, flags, why) == 0
        && pcre_flags(flags, &options, why) == 0)
        compiled = pcre_compile_pattern(pattern, options, groups, why);
    strbuf_free(pattern);
    strbuf_free(flags);
    return compiled;
}

static int pcre_match(void *pattern, const char *key, const void *unused,
                      rule_captures *captures, strbuf *why)
{
    pcre_pattern *compiled = pattern;
    int     count = pcre2_match(compiled->code, (PCRE2_SPTR) key, PCRE2_ZERO_TERMINATED, 0, 0,
                                compiled->data, NULL);
    PCRE2_SIZE *offsets;
    uint32_t pairs;

    if (count == PCRE2_ERROR_NOMATCH)
        return 0;
    if (count < 0) {
        PCRE2_UCHAR reason[256];

        pcre2_get_error_message(count, reason, sizeof(reason));
        strbuf_printf(why, "matching error: %s", reason);
        return -1;
    }
    offsets = pcre2_get_ovector_pointer(compiled->data);
    pairs = pcre2_get_ovector_count(compiled->data);
    for (size_t i = 0; i < captures->count; i++) {
        int     unset = i >= pairs || i >= (size_t) count || offsets[2 * i] == PCRE2_UNSET;

        captures->start[i] = unset ? CAPTURE_UNSET : offsets[2 * i];
        captures->end[i] = unset ? CAPTURE_UNSET : offsets[2 * i + 1];
    }
    return 1;
}

static void pcre_free_pattern(void *pattern)
{
    pcre_pattern *compiled = pattern;

    pcre2_match_data_free(compiled->data);
    pcre2_code_free(compiled->code);
    free(compiled);
}

static const rule_engine pcre_engine = {
    .label = "pcre map",
    .substitutions = 1,
    .parse = pcre_parse,
    .match = pcre_match,
    .free = pcre_free_pattern,
};

static int pcre_open(map_t *map, strbuf *why)
{
    return map_rules_open(map, &pcre_engine, why);
}

const map_type map_type_pcre = {
    .name = "pcre",
    .properties = MAP_FLAG_PATTERN,
    .open = pcre_open,
    .lookup = map_rules_lookup,
    .close = map_rules_close,
};
