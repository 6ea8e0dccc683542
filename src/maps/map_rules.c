/*
 * map_rules - tables of ordered rules: regexp:, pcre: and cidr:.
 * See map_rules.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "map_rules.h"
#include "logical_line.h"
#include "map_text.h"
#include "mem.h"
#include "msg.h"

enum rule_kind { RULE_MATCH, RULE_IF, RULE_ENDIF };

typedef struct rule {
    enum rule_kind kind;
    int     negate;
    void   *compiled;
    int     groups;
    char   *result;
    int     line;
    size_t  skip_to;                    /* IF: index of its ENDIF */
} rule;

typedef struct rule_table {
    const rule_engine *engine;
    rule   *rules;
    size_t  count;
    size_t  cap;
    rule_captures captures;
    void   *prepared;
    strbuf *why;
} rule_table;

/* Nesting of IF blocks while reading. */
#define RULES_MAX_DEPTH 100

typedef struct rules_reader {
    map_t  *map;
    rule_table *table;
    size_t  open_ifs[RULES_MAX_DEPTH];
    size_t  depth;
    int     errors;
    int     line;
    strbuf *why;
} rules_reader;

/* Results and $n substitution ------------------------------------------- */

static int all_digits(const char *text, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char) text[i]))
            return 0;
    return 1;
}

/* Finds the name of the $ reference at cp (just after '$'); -1 on bad syntax. */
static int reference_name(const char **cp, const char **name, size_t *len, strbuf *why)
{
    const char *start = *cp - 1;

    if (**cp == '{' || **cp == '(') {
        const char *end = strchr(*cp + 1, **cp == '{' ? '}' : ')');

        if (end == NULL) {
            strbuf_printf(why, "truncated macro reference: \"%s\"", start);
            return -1;
        }
        *name = *cp + 1;
        *len = (size_t) (end - *name);
        *cp = end + 1;
    } else {
        *name = *cp;
        while (isalnum((unsigned char) **cp) || **cp == '_')
            (*cp)++;
        *len = (size_t) (*cp - *name);
    }
    if (*len == 0) {
        strbuf_printf(why, "empty macro name: \"%s\"", start);
        return -1;
    }
    return 0;
}

/*
 * Walks a result text. With out == NULL it only checks the references
 * against `groups`; otherwise it writes the result with the captured text
 * of `key` in place of each reference (nothing for a group that took no
 * part in the match).
 */
static int expand_result(const char *result, const rule *r, const char *key,
                         const rule_captures *captures, strbuf *out, strbuf *why)
{
    const char *cp = result;
    const char *name;
    size_t  len;
    long    index;

    while (*cp) {
        if (*cp != '$' || cp[1] == '$') {
            if (out)
                strbuf_append_char(out, *cp);
            cp += (*cp == '$') ? 2 : 1;
            continue;
        }
        cp++;
        if (reference_name(&cp, &name, &len, why) < 0)
            return -1;
        if (!all_digits(name, len)) {
            strbuf_printf(why, "non-numeric replacement index \"%.*s\"", (int) len, name);
            return -1;
        }
        if (r->negate) {
            strbuf_set(why, "$number found in negative match replacement text");
            return -1;
        }
        index = len > 6 ? -1 : strtol(name, NULL, 10);
        if (index < 1 || index > r->groups) {
            strbuf_printf(why, "out of range replacement index \"%.*s\"", (int) len, name);
            return -1;
        }
        if (out && captures->start[index] != CAPTURE_UNSET)
            strbuf_append(out, key + captures->start[index],
                          captures->end[index] - captures->start[index]);
    }
    return 0;
}

/* Reading ----------------------------------------------------------------- */

int     map_rules_delimited(const char **text, strbuf *pattern, strbuf *flags, strbuf *why)
{
    const char *cp = *text;
    int     delimiter = (unsigned char) *cp;
    const char *end;

    if (delimiter == 0 || isalnum(delimiter) || isspace(delimiter) || delimiter == '\\') {
        strbuf_printf(why, "no regexp delimiter at start of \"%s\"", cp);
        return -1;
    }
    for (end = cp + 1; *end && *end != delimiter; end++)
        if (*end == '\\' && end[1])
            end++;
    if (*end == 0) {
        strbuf_printf(why, "no closing regexp delimiter \"%c\"", delimiter);
        return -1;
    }
    strbuf_set_mem(pattern, cp + 1, (size_t) (end - cp - 1));
    for (cp = ++end; *cp && !isspace((unsigned char) *cp); cp++)
         /* flags */ ;
    strbuf_set_mem(flags, end, (size_t) (cp - end));
    *text = cp;
    return 0;
}

static void reader_error(rules_reader *reader, const char *reason)
{
    map_text_error(reader->map, &reader->errors, "%s %s, line %d: %s",
                   reader->table->engine->label, reader->map->name, reader->line, reason);
}

static void reader_warning(rules_reader *reader, const char *reason)
{
    msg_warn("%s %s, line %d: %s", reader->table->engine->label, reader->map->name,
             reader->line, reason);
}

static rule *add_rule(rule_table *table, enum rule_kind kind, int line)
{
    rule   *r;

    if (table->count == table->cap) {
        table->cap = table->cap ? table->cap * 2 : 16;
        table->rules = xreallocarray(table->rules, table->cap, sizeof(rule));
    }
    r = &table->rules[table->count++];
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->line = line;
    return r;
}

/* "if" or "endif" as a statement: the word, then no letter or digit. */
static int is_statement(const char *text, const char *word)
{
    size_t  len = strlen(word);

    return strncasecmp(text, word, len) == 0 && !isalnum((unsigned char) text[len]);
}

/* Parses [!...]PATTERN at *cp into r; 0 or -1 (logged). */
static int parse_condition(rules_reader *reader, const char **cp, rule *r)
{
    while (**cp == '!') {
        r->negate = !r->negate;
        (*cp)++;
    }
    strbuf_reset(reader->why);
    r->compiled = reader->table->engine->parse(cp, &r->groups, reader->why);
    if (r->compiled == NULL) {
        reader_error(reader, reader->why->data);
        return -1;
    }
    while (isspace((unsigned char) **cp))
        (*cp)++;
    return 0;
}

static void read_match_rule(rules_reader *reader, const char *cp)
{
    rule_table *table = reader->table;
    rule    candidate = {.kind = RULE_MATCH, .line = reader->line};
    rule   *r;

    if (parse_condition(reader, &cp, &candidate) < 0)
        return;
    if (*cp == 0 && table->engine->result_required) {
        reader_error(reader, "no lookup result");
    } else if (table->engine->substitutions
               && expand_result(cp, &candidate, NULL, NULL, NULL, reader->why) < 0) {
        reader_error(reader, reader->why->data);
    } else {
        if (*cp == 0)
            reader_warning(reader, "no replacement text: using empty string");
        r = add_rule(table, RULE_MATCH, reader->line);
        *r = candidate;
        r->result = xstrdup(cp);
        return;
    }
    table->engine->free(candidate.compiled);
}

static void read_if(rules_reader *reader, const char *cp)
{
    rule    candidate = {.kind = RULE_IF, .line = reader->line};
    rule   *r;

    while (isspace((unsigned char) *cp))
        cp++;
    if (parse_condition(reader, &cp, &candidate) < 0) {
        candidate.compiled = NULL;      /* keep the block structure */
    } else if (*cp) {
        strbuf_printf(reader->why, "extra text after IF statement: \"%s\"", cp);
        reader_error(reader, reader->why->data);
    }
    if (reader->depth == RULES_MAX_DEPTH) {
        reader_error(reader, "IF statements nested too deeply");
        if (candidate.compiled)
            reader->table->engine->free(candidate.compiled);
        return;
    }
    reader->open_ifs[reader->depth++] = reader->table->count;
    r = add_rule(reader->table, RULE_IF, reader->line);
    *r = candidate;
}

static void read_endif(rules_reader *reader, const char *cp)
{
    while (isspace((unsigned char) *cp))
        cp++;
    if (*cp) {
        strbuf_printf(reader->why, "extra text after ENDIF: \"%s\"", cp);
        reader_error(reader, reader->why->data);
    }
    if (reader->depth == 0) {
        reader_warning(reader, "ignoring ENDIF without matching IF");
        return;
    }
    reader->table->rules[reader->open_ifs[--reader->depth]].skip_to = reader->table->count;
    (void) add_rule(reader->table, RULE_ENDIF, reader->line);
}

static void read_line(rules_reader *reader, const char *text, int orphan)
{
    if (orphan) {
        strbuf_printf(reader->why, "logical line must not start with whitespace: \"%s\"", text);
        reader_error(reader, reader->why->data);
    } else if (is_statement(text, "if")) {
        read_if(reader, text + 2);
    } else if (is_statement(text, "endif")) {
        read_endif(reader, text + 5);
    } else {
        read_match_rule(reader, text);
    }
}

static void read_rules(rules_reader *reader, const strbuf *text)
{
    strbuf *line = strbuf_new(256);
    logical_cursor cursor;
    int     orphan;

    logical_line_start(&cursor, text->data, LOGICAL_LINE_KEEP_SPACE);
    while ((reader->line = logical_line_next(&cursor, line, &orphan)) > 0) {
        map_trim(line);
        read_line(reader, line->data, orphan);
    }
    while (reader->depth > 0) {
        size_t  open_if = reader->open_ifs[--reader->depth];

        reader->line = reader->table->rules[open_if].line;
        reader->table->rules[open_if].skip_to = reader->table->count;
        reader_warning(reader, "IF has no matching ENDIF");
    }
    strbuf_free(line);
}

static void size_captures(rule_table *table)
{
    int     groups = 0;

    for (size_t i = 0; i < table->count; i++)
        if (table->rules[i].groups > groups)
            groups = table->rules[i].groups;
    table->captures.count = (size_t) groups + 1;
    table->captures.start = xcalloc(table->captures.count, sizeof(size_t));
    table->captures.end = xcalloc(table->captures.count, sizeof(size_t));
}

int     map_rules_open(map_t *map, const rule_engine *engine, strbuf *why)
{
    rule_table *table = xcalloc(1, sizeof(*table));
    rules_reader reader = {.map = map, .table = table};
    strbuf *text = strbuf_new(4096);
    int     status = 0;

    table->engine = engine;
    table->why = strbuf_new(64);
    table->prepared = engine->prepared_size ? xcalloc(1, engine->prepared_size) : NULL;
    map->impl = table;
    if (map_load_source(map, engine->label, text, why) < 0) {
        status = -1;
    } else {
        reader.why = strbuf_new(64);
        read_rules(&reader, text);
        strbuf_free(reader.why);
        status = reader.errors ? -1 : 0;
    }
    size_captures(table);
    strbuf_free(text);
    return status;
}

/* Lookup ------------------------------------------------------------------ */

int     map_rules_lookup(map_t *map, const char *key, strbuf *value)
{
    rule_table *table = map->impl;
    const rule_engine *engine = table->engine;

    if (engine->prepare && engine->prepare(key, table->prepared) < 0)
        return MAP_NOTFOUND;
    for (size_t i = 0; i < table->count; i++) {
        rule   *r = &table->rules[i];
        int     matched;

        if (r->kind == RULE_ENDIF)
            continue;
        strbuf_reset(table->why);
        matched = engine->match(r->compiled, key, table->prepared, &table->captures,
                                table->why);
        if (matched < 0)
            return map_fail(map, "%s %s, line %d: %s", engine->label, map->name, r->line,
                            table->why->data);
        if (matched == r->negate) {
            if (r->kind == RULE_IF)
                i = r->skip_to;         /* skip the block */
            continue;
        }
        if (r->kind == RULE_IF)
            continue;                   /* enter the block */
        strbuf_reset(value);
        if (engine->substitutions)
            (void) expand_result(r->result, r, key, &table->captures, value, table->why);
        else
            strbuf_set(value, r->result);
        return MAP_OK;
    }
    return MAP_NOTFOUND;
}

void    map_rules_close(map_t *map)
{
    rule_table *table = map->impl;

    for (size_t i = 0; i < table->count; i++) {
        if (table->rules[i].compiled)
            table->engine->free(table->rules[i].compiled);
        free(table->rules[i].result);
    }
    free(table->rules);
    free(table->captures.start);
    free(table->captures.end);
    free(table->prepared);
    strbuf_free(table->why);
    free(table);
    map->impl = NULL;
}
