/*
 * alias_parse - one aliases(5) entry. See alias_parse.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "alias_parse.h"
#include "mem.h"

enum token_kind { TOKEN_ATOM, TOKEN_QUOTED, TOKEN_COMMENT, TOKEN_LITERAL, TOKEN_SPECIAL };

typedef struct token {
    enum token_kind kind;
    strbuf *text;                       /* atom: resolved; others: as written inside */
} token;

typedef struct token_list {
    token  *items;
    size_t  count;
    size_t  cap;
} token_list;

#define SPECIALS "<>@,;:.)]"

static token *add_token(token_list *list, enum token_kind kind)
{
    token  *t;

    if (list->count == list->cap) {
        list->cap = list->cap ? 2 * list->cap : 16;
        list->items = xreallocarray(list->items, list->cap, sizeof(token));
    }
    t = &list->items[list->count++];
    t->kind = kind;
    t->text = strbuf_new(16);
    return t;
}

static void free_tokens(token_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        strbuf_free(list->items[i].text);
    free(list->items);
}

/* Text up to `close` (not nested); backslash pairs kept. Returns the end. */
static const char *scan_enclosed(const char *cp, int close, strbuf *text)
{
    for (; *cp && *cp != close; cp++) {
        if (*cp == '\\' && cp[1])
            strbuf_append_char(text, *cp++);
        strbuf_append_char(text, *cp);
    }
    return *cp ? cp + 1 : cp;
}

/* A comment, nested parentheses and all, kept exactly as written. */
static const char *scan_comment(const char *cp, strbuf *text)
{
    int     depth = 0;

    for (; *cp; cp++) {
        if (*cp == '\\' && cp[1]) {
            strbuf_append(text, cp++, 2);
            continue;
        }
        strbuf_append_char(text, *cp);
        if (*cp == '(')
            depth++;
        else if (*cp == ')' && --depth == 0)
            return cp + 1;
    }
    return cp;
}

static const char *scan_atom(const char *cp, strbuf *text)
{
    for (; *cp && !isspace((unsigned char) *cp) && !strchr(SPECIALS "(\"[", *cp); cp++) {
        if (*cp == '\\') {
            if (cp[1] == 0)
                break;
            cp++;
        }
        strbuf_append_char(text, *cp);
    }
    return cp;
}

static void tokenize(const char *cp, token_list *list)
{
    while (*cp) {
        if (isspace((unsigned char) *cp))
            cp++;
        else if (*cp == '(')
            cp = scan_comment(cp, add_token(list, TOKEN_COMMENT)->text);
        else if (*cp == '"')
            cp = scan_enclosed(cp + 1, '"', add_token(list, TOKEN_QUOTED)->text);
        else if (*cp == '[')
            cp = scan_enclosed(cp + 1, ']', add_token(list, TOKEN_LITERAL)->text);
        else if (strchr(SPECIALS, *cp))
            strbuf_append_char(add_token(list, TOKEN_SPECIAL)->text, *cp++);
        else if (*cp == '\\' && cp[1] == 0)
            cp++;
        else
            cp = scan_atom(cp, add_token(list, TOKEN_ATOM)->text);
    }
}

static int is_word(const token *t)
{
    return t->kind != TOKEN_SPECIAL;
}

static int is_special(const token *t, int ch)
{
    return t->kind == TOKEN_SPECIAL && t->text->data[0] == ch;
}

/* Postfix's spacing between two tokens of an address list. */
static int space_between(const token *before, const token *after)
{
    return is_special(before, ',') || is_special(after, '<')
        || (is_word(before) && is_word(after));
}

/* Removes the backslashes that quote characters inside a quoted string. */
static void append_unquoted(strbuf *out, const strbuf *quoted)
{
    for (size_t i = 0; i < quoted->len; i++) {
        if (quoted->data[i] == '\\' && i + 1 < quoted->len)
            i++;
        strbuf_append_char(out, quoted->data[i]);
    }
}

static void append_token(strbuf *out, const token *t, int internal)
{
    switch (t->kind) {
    case TOKEN_QUOTED:
        if (internal) {
            append_unquoted(out, t->text);
        } else {
            strbuf_append_char(out, '"');
            strbuf_append(out, t->text->data, t->text->len);
            strbuf_append_char(out, '"');
        }
        break;
    case TOKEN_LITERAL:
        strbuf_append_printf(out, "[%s]", t->text->data);
        break;
    default:
        strbuf_append(out, t->text->data, t->text->len);
        break;
    }
}

/* Tokens [from, to) as text; a list that ends in ',' ends in ", " too. */
static void join_tokens(strbuf *out, const token_list *list, size_t from, size_t to,
                        int internal)
{
    strbuf_reset(out);
    for (size_t i = from; i < to; i++) {
        append_token(out, &list->items[i], internal);
        if (i + 1 < to ? space_between(&list->items[i], &list->items[i + 1])
            : is_special(&list->items[i], ','))
            strbuf_append_char(out, ' ');
    }
}

int     alias_parse(const char *line, strbuf *name, strbuf *value, strbuf *why)
{
    token_list list = {0};
    size_t  colon;
    int     status = 0;

    tokenize(line, &list);
    for (colon = 0; colon < list.count && !is_special(&list.items[colon], ':'); colon++)
        if (is_special(&list.items[colon], '@'))
            break;
    if (colon < list.count && is_special(&list.items[colon], '@')) {
        strbuf_set(why, "name must be local");
        status = -1;
    } else if (colon == 0 || colon >= list.count || colon + 1 == list.count) {
        strbuf_set(why, "need name:value pair");
        status = -1;
    } else {
        join_tokens(name, &list, 0, colon, 1);
        join_tokens(value, &list, colon + 1, list.count, 0);
        if (name->len == 0) {
            strbuf_set(why, "need name:value pair");
            status = -1;
        }
    }
    free_tokens(&list);
    return status;
}
