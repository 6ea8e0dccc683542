/*
 * match_list - Postfix "lists" of strings, domains, hosts and networks.
 * See match_list.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "argv.h"
#include "cidr_match.h"
#include "mail_params.h"
#include "map.h"
#include "logical_line.h"
#include "map_text.h"
#include "match_list.h"
#include "mem.h"
#include "msg.h"
#include "strbuf.h"

#define MATCH_FILE_DEPTH 10

enum list_kind { LIST_STRING, LIST_DOMAIN, LIST_HOST, LIST_ADDR };
enum entry_kind { ENTRY_WORD, ENTRY_NETWORK, ENTRY_TABLE };

typedef struct match_entry {
    enum entry_kind kind;
    int     negate;
    char   *word;                       /* lower case */
    cidr_net net;
    map_t  *table;
} match_entry;

struct match_list {
    enum list_kind kind;
    char   *name;                       /* parameter name */
    int     parent_style;               /* "example.com" matches subdomains */
    match_entry *entries;
    size_t  count;
    size_t  cap;
    int     broken;
    strbuf *error;
};

int     parent_matches_subdomains(const char *param_name)
{
    const char *setting = var_parent_domain_matches_subdomains;
    argv_t *names;
    int     listed;

    if (setting == NULL)                /* parameters not loaded: the default */
        setting = param_default_text(param_find("parent_domain_matches_subdomains"));
    names = argv_split(setting, ARGV_LIST_DELIMITERS);
    listed = argv_contains(names, param_name);
    argv_free(names);
    return listed;
}

/* Building ------------------------------------------------------------------- */

static void list_error(match_list *list, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void list_error(match_list *list, const char *fmt, ...)
{
    strbuf *text = strbuf_new(64);
    va_list ap;

    va_start(ap, fmt);
    strbuf_append_vprintf(text, fmt, ap);
    va_end(ap);
    msg_warn("%s: %s", list->name, text->data);
    if (!list->broken)
        strbuf_set(list->error, text->data);
    list->broken = 1;
    strbuf_free(text);
}

static match_entry *add_entry(match_list *list, enum entry_kind kind, int negate)
{
    match_entry *entry;

    if (list->count == list->cap) {
        list->cap = list->cap ? 2 * list->cap : 8;
        list->entries = xreallocarray(list->entries, list->cap, sizeof(match_entry));
    }
    entry = &list->entries[list->count++];
    memset(entry, 0, sizeof(*entry));
    entry->kind = kind;
    entry->negate = negate;
    return entry;
}

static void add_patterns(match_list *list, const char *patterns, int depth);

static void add_file(match_list *list, const char *path, int depth)
{
    strbuf *text = strbuf_new(1024);
    strbuf *line = strbuf_new(128);
    strbuf *why = strbuf_new(64);
    logical_cursor cursor;
    int     orphan;
    int     fd;

    if (depth >= MATCH_FILE_DEPTH) {
        list_error(list, "%s: files nested too deeply", path);
    } else if ((fd = map_open_regular(path, why)) < 0) {
        list_error(list, "%s", why->data);
    } else {
        if (fd_read_text(fd, path, text, why) < 0)
            list_error(list, "%s", why->data);
        close(fd);
        logical_line_start(&cursor, text->data, LOGICAL_LINE_KEEP_SPACE);
        while (!list->broken && logical_line_next(&cursor, line, &orphan) > 0)
            add_patterns(list, line->data, depth + 1);
    }
    strbuf_free(why);
    strbuf_free(line);
    strbuf_free(text);
}

static void add_table(match_list *list, const char *spec, int negate)
{
    map_t  *table = map_open(spec, MAP_READ, MAP_FLAG_FOLD);

    if (map_broken(table)) {
        list_error(list, "%s", map_error(table));
        map_close(table);
        return;
    }
    add_entry(list, ENTRY_TABLE, negate)->table = table;
}

static void add_word(match_list *list, const char *word, int negate)
{
    match_entry *entry = add_entry(list, ENTRY_WORD, negate);

    entry->word = xstrdup(word);
    for (char *cp = entry->word; *cp; cp++)
        *cp = (char) tolower((unsigned char) *cp);
}

/*
 * Host and address lists: a network, a table, or (host lists only) a
 * host or domain name. What looks like a network but does not parse is
 * an error, not a host name.
 */
static void add_host_pattern(match_list *list, const char *pattern, int negate)
{
    strbuf *why = strbuf_new(64);
    cidr_net net;

    if (cidr_net_parse(pattern, &net, why) == 0)
        add_entry(list, ENTRY_NETWORK, negate)->net = net;
    else if (*pattern == '[' || (isdigit((unsigned char) *pattern) && strchr(pattern, '/')))
        list_error(list, "%s", why->data);
    else if (strchr(pattern, ':'))
        add_table(list, pattern, negate);
    else if (list->kind == LIST_ADDR && isdigit((unsigned char) *pattern))
        list_error(list, "%s", why->data);
    else if (list->kind == LIST_ADDR)
        list_error(list, "\"%s\" is not an address, network or table", pattern);
    else
        add_word(list, pattern, negate);
    strbuf_free(why);
}

static void add_pattern(match_list *list, const char *pattern, int depth)
{
    int     negate = 0;

    for (; *pattern == '!'; pattern++)
        negate = !negate;
    if (*pattern == 0)
        list_error(list, "missing pattern after '!'");
    else if (*pattern == '/' && negate)
        list_error(list, "\"!%s\": a /file/name cannot be negated", pattern);
    else if (*pattern == '/')
        add_file(list, pattern, depth);
    else if (list->kind == LIST_HOST || list->kind == LIST_ADDR)
        add_host_pattern(list, pattern, negate);
    else if (strchr(pattern, ':'))
        add_table(list, pattern, negate);
    else
        add_word(list, pattern, negate);
}

static void add_patterns(match_list *list, const char *patterns, int depth)
{
    argv_t *items = argv_new(8);
    strbuf *why = strbuf_new(64);

    if (map_split_list(patterns, items, why) < 0)
        list_error(list, "%s", why->data);
    for (size_t i = 0; !list->broken && i < items->count; i++)
        add_pattern(list, items->items[i], depth);
    strbuf_free(why);
    argv_free(items);
}

static match_list *match_list_new(enum list_kind kind, const char *param_name,
                                  const char *patterns)
{
    match_list *list = xcalloc(1, sizeof(*list));

    list->kind = kind;
    list->name = xstrdup(param_name);
    list->parent_style = parent_matches_subdomains(param_name);
    list->error = strbuf_new(64);
    add_patterns(list, patterns, 0);
    return list;
}

match_list *string_list_new(const char *param_name, const char *patterns)
{
    return match_list_new(LIST_STRING, param_name, patterns);
}

match_list *domain_list_new(const char *param_name, const char *patterns)
{
    return match_list_new(LIST_DOMAIN, param_name, patterns);
}

match_list *host_list_new(const char *param_name, const char *patterns)
{
    return match_list_new(LIST_HOST, param_name, patterns);
}

match_list *addr_list_new(const char *param_name, const char *patterns)
{
    return match_list_new(LIST_ADDR, param_name, patterns);
}

void    match_list_free(match_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++) {
        free(list->entries[i].word);
        map_close(list->entries[i].table);
    }
    free(list->entries);
    free(list->name);
    strbuf_free(list->error);
    free(list);
}

const char *match_list_error(const match_list *list)
{
    return list->error->data;
}

/* Matching ---------------------------------------------------------------- */

/* Looks key up in a table: 1 found, 0 not, MATCH_LIST_ERROR. */
static int table_has(match_list *list, map_t *table, const char *key)
{
    const char *value;

    switch (map_lookup(table, key, &value)) {
    case MAP_OK:
        return 1;
    case MAP_NOTFOUND:
        return 0;
    default:
        strbuf_printf(list->error, "%s lookup error for \"%s\": %s", map_spec(table), key,
                      map_error(table));
        msg_warn("%s: %s", list->name, list->error->data);
        return MATCH_LIST_ERROR;
    }
}

/* The next parent of a domain: "a.b.c" -> "b.c" or ".b.c"; NULL at the top. */
static const char *parent_domain(const char *name, int parent_style)
{
    const char *dot = strchr(name + 1, '.');

    if (dot == NULL)
        return NULL;
    return parent_style ? dot + 1 : dot;
}

static int table_has_domain(match_list *list, map_t *table, const char *name)
{
    int     found = table_has(list, table, name);

    if (!(map_flags(table) & MAP_FLAG_FIXED))
        return found;
    for (const char *parent = name; found == 0
         && (parent = parent_domain(parent, list->parent_style)) != NULL;)
        found = table_has(list, table, parent);
    return found;
}

static int word_matches_domain(const match_list *list, const char *word, const char *name)
{
    size_t  name_len = strlen(name);
    size_t  word_len = strlen(word);

    if (*word == '.')
        return name_len > word_len && strcasecmp(name + name_len - word_len, word) == 0;
    if (strcasecmp(name, word) == 0)
        return 1;
    return list->parent_style && name_len > word_len
        && name[name_len - word_len - 1] == '.'
        && strcasecmp(name + name_len - word_len, word) == 0;
}

/* One entry against the subject: 1, 0 or MATCH_LIST_ERROR. */
static int entry_matches(match_list *list, const match_entry *entry, const char *name,
                         const char *addr, const cidr_addr *parsed_addr)
{
    int     found;

    switch (entry->kind) {
    case ENTRY_NETWORK:
        return parsed_addr != NULL && cidr_net_match(&entry->net, parsed_addr);
    case ENTRY_WORD:
        if (list->kind == LIST_STRING)
            return strcasecmp(entry->word, name) == 0;
        return name != NULL && word_matches_domain(list, entry->word, name);
    case ENTRY_TABLE:
        if (list->kind == LIST_STRING)
            return table_has(list, entry->table, name);
        found = name ? table_has_domain(list, entry->table, name) : 0;
        if (found == 0 && addr != NULL)
            found = table_has(list, entry->table, addr);
        return found;
    }
    return 0;
}

static int list_match(match_list *list, const char *name, const char *addr)
{
    cidr_addr parsed;
    const cidr_addr *parsed_addr = NULL;
    int     found;

    if (list->broken)
        return MATCH_LIST_ERROR;
    if (addr != NULL && cidr_addr_parse(addr, &parsed) == 0)
        parsed_addr = &parsed;
    for (size_t i = 0; i < list->count; i++) {
        const match_entry *entry = &list->entries[i];

        if ((found = entry_matches(list, entry, name, addr, parsed_addr)) == MATCH_LIST_ERROR)
            return MATCH_LIST_ERROR;
        if (found)
            return !entry->negate;
    }
    return 0;
}

static void check_kind(const match_list *list, enum list_kind kind, const char *caller)
{
    if (list->kind != kind)
        msg_panic("%s: wrong kind of list for %s", caller, list->name);
}

int     string_list_match(match_list *list, const char *string)
{
    check_kind(list, LIST_STRING, "string_list_match");
    return list_match(list, string, NULL);
}

int     domain_list_match(match_list *list, const char *domain)
{
    check_kind(list, LIST_DOMAIN, "domain_list_match");
    return list_match(list, domain, NULL);
}

int     host_list_match(match_list *list, const char *name, const char *addr)
{
    check_kind(list, LIST_HOST, "host_list_match");
    return list_match(list, name, addr);
}

int     addr_list_match(match_list *list, const char *addr)
{
    check_kind(list, LIST_ADDR, "addr_list_match");
    return list_match(list, NULL, addr);
}
