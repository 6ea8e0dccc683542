/*
 * header_addr - addresses in RFC 5322 header values. See header_addr.h.
 *
 * Two passes: a tokenizer turns the value into at most token_limit tokens
 * (white space is skipped); the parser walks the tokens once, cutting them
 * into mailboxes at ',' and ';' outside angle brackets, and turns each
 * mailbox's addr-spec tokens into an internal address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "header_addr.h"
#include "mail_addr.h"
#include "mail_utf8.h"
#include "mem.h"

enum token_kind { TOKEN_ATOM, TOKEN_QUOTED, TOKEN_COMMENT, TOKEN_LITERAL, TOKEN_SPECIAL,
    TOKEN_JUNK };

#define TOKEN_UNTERMINATED  (1 << 0)
#define TOKEN_CONTROL       (1 << 1)        /* holds a control other than folding */

#define NO_TOKEN            SIZE_MAX

typedef struct token {
    enum token_kind kind;
    int     flags;
    size_t  start;                      /* [start, end) in the value */
    size_t  end;
} token;

typedef struct parser {
    const unsigned char *value;
    size_t  len;
    token  *tokens;
    size_t  count;
    int     in_group;
    header_addr_list *list;
} parser;

/* Tokenizer. */

static int is_folding(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_control(int c)
{
    return (c < 0x20 && !is_folding(c)) || c == 0x7F;
}

static int is_special(int c)
{
    return c != 0 && strchr("<>@,;:.", c) != NULL;
}

static int note_byte(int c)
{
    return is_control(c) ? TOKEN_CONTROL : 0;
}

/*
 * A quoted string, comment (nests) or domain literal opened at pos: returns
 * the offset just after its closing character, or len when unterminated.
 */
static size_t scan_enclosed(const unsigned char *v, size_t len, size_t pos,
                            int close, int nests, int *flags)
{
    int     open = v[pos];
    size_t  depth = 1;

    for (pos++; pos < len;) {
        int     c = v[pos++];

        if (c == '\\') {
            if (pos < len)
                *flags |= note_byte(v[pos++]);
            continue;
        }
        if (c == close) {
            if (--depth == 0)
                return pos;
        } else if (nests && c == open) {
            depth++;
        }
        *flags |= note_byte(c);
    }
    *flags |= TOKEN_UNTERMINATED;
    return len;
}

/* The end of the token that starts at pos; sets its kind and flags. */
static size_t scan_token(const unsigned char *v, size_t len, size_t pos, token *t)
{
    int     c = v[pos];

    t->flags = 0;
    if (c == '"') {
        t->kind = TOKEN_QUOTED;
        return scan_enclosed(v, len, pos, '"', 0, &t->flags);
    }
    if (c == '(') {
        t->kind = TOKEN_COMMENT;
        return scan_enclosed(v, len, pos, ')', 1, &t->flags);
    }
    if (c == '[') {
        t->kind = TOKEN_LITERAL;
        return scan_enclosed(v, len, pos, ']', 0, &t->flags);
    }
    if (is_special(c)) {
        t->kind = TOKEN_SPECIAL;
        return pos + 1;
    }
    if (!mail_addr_is_atext(c)) {
        t->kind = TOKEN_JUNK;
        t->flags = note_byte(c);
        return pos + 1;
    }
    t->kind = TOKEN_ATOM;
    while (pos < len && mail_addr_is_atext(v[pos]))
        t->flags |= note_byte(v[pos++]);
    return pos;
}

static void tokenize(parser *p, size_t token_limit)
{
    size_t  cap = 16;
    size_t  pos = 0;

    p->tokens = xmalloc(cap * sizeof(token));
    while (pos < p->len) {
        if (is_folding(p->value[pos])) {
            pos++;
            continue;
        }
        if (p->count == token_limit) {
            p->list->truncated = 1;
            break;
        }
        if (p->count == cap) {
            cap *= 2;
            p->tokens = xreallocarray(p->tokens, cap, sizeof(token));
        }
        p->tokens[p->count].start = pos;
        pos = scan_token(p->value, p->len, pos, &p->tokens[p->count]);
        p->tokens[p->count].end = pos;
        p->count++;
    }
}

/* From tokens to addresses. */

static int token_is(const parser *p, size_t i, int special)
{
    return p->tokens[i].kind == TOKEN_SPECIAL && p->value[p->tokens[i].start] == special;
}

static int is_word(const token *t)
{
    return t->kind == TOKEN_ATOM || t->kind == TOKEN_QUOTED || t->kind == TOKEN_LITERAL;
}

/*
 * Appends v[from, to) as address text: with resolve_escapes, a backslash
 * takes the next byte literally; folding CR/LF is removed; HTAB becomes SP.
 */
static void append_unfolded(strbuf *out, const unsigned char *v, size_t from, size_t to,
                            int resolve_escapes)
{
    for (size_t i = from; i < to; i++) {
        int     c = v[i];

        if (c == '\\' && resolve_escapes && i + 1 < to)
            c = v[++i];
        if (c == '\r' || c == '\n')
            continue;
        strbuf_append_char(out, c == '\t' ? ' ' : c);
    }
}

/* Appends one addr-spec token; returns HEADER_ADDR_F_MALFORMED when odd. */
static int append_token(strbuf *out, const parser *p, const token *t)
{
    const unsigned char *v = p->value;
    int     unterminated = (t->flags & TOKEN_UNTERMINATED) != 0;

    switch (t->kind) {
    case TOKEN_QUOTED:
        append_unfolded(out, v, t->start + 1, unterminated ? t->end : t->end - 1, 1);
        break;
    case TOKEN_LITERAL:
        append_unfolded(out, v, t->start, t->end, 0);
        break;
    case TOKEN_SPECIAL:
        strbuf_append_char(out, v[t->start]);
        return v[t->start] == '.' || v[t->start] == '@' ? 0 : HEADER_ADDR_F_MALFORMED;
    case TOKEN_JUNK:
        strbuf_append_char(out, v[t->start]);
        return HEADER_ADDR_F_MALFORMED;
    default:
        strbuf_append(out, v + t->start, t->end - t->start);
        break;
    }
    return unterminated ? HEADER_ADDR_F_MALFORMED : 0;
}

static size_t first_significant(const parser *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p->tokens[i].kind != TOKEN_COMMENT)
            return i;
    return NO_TOKEN;
}

static size_t last_significant(const parser *p, size_t from, size_t to)
{
    for (size_t i = to; i > from; i--)
        if (p->tokens[i - 1].kind != TOKEN_COMMENT)
            return i - 1;
    return NO_TOKEN;
}

/* Skips an obsolete route "@a,@b:" that starts at first. */
static size_t skip_route(const parser *p, size_t first, size_t last, int *flags)
{
    if (!token_is(p, first, '@'))
        return first;
    for (size_t i = first; i <= last; i++) {
        if (token_is(p, i, ':')) {
            *flags |= HEADER_ADDR_F_ROUTE;
            return i + 1;
        }
    }
    return first;
}

/* Flags a display name that is not a phrase of words (and dots). */
static int phrase_flags(const parser *p, size_t first, size_t end)
{
    for (size_t i = first; i < end; i++) {
        const token *t = &p->tokens[i];

        if (t->kind == TOKEN_COMMENT || t->kind == TOKEN_ATOM || t->kind == TOKEN_QUOTED)
            continue;
        if (!token_is(p, i, '.'))
            return HEADER_ADDR_F_MALFORMED;
    }
    return 0;
}

/* Shape checks on the built address: one '@' at most, with text both sides. */
static int address_shape_flags(const strbuf *address, size_t at_tokens)
{
    int     flags = 0;

    if (at_tokens > 1 || (at_tokens == 1 && (address->data[0] == '@'
                                             || strbuf_last(address) == '@')))
        flags |= HEADER_ADDR_F_MALFORMED;
    for (size_t i = 0; i < address->len; i++)
        if ((unsigned char) address->data[i] >= 0x80)
            flags |= HEADER_ADDR_F_8BIT;
    return flags;
}

/*
 * Builds the internal address from tokens [first, last] (comments skipped).
 * Returns its flags, or -1 when the mailbox must be left out.
 */
static int build_address(const parser *p, size_t first, size_t last, strbuf *address)
{
    int     flags = 0;
    int     previous_word = 0;
    size_t  at_tokens = 0;

    for (size_t i = first; i <= last; i++) {
        const token *t = &p->tokens[i];

        if (t->kind == TOKEN_COMMENT)
            continue;
        if (t->flags & TOKEN_CONTROL)
            return -1;
        if (is_word(t) && previous_word)
            flags |= HEADER_ADDR_F_MALFORMED;
        previous_word = is_word(t);
        at_tokens += token_is(p, i, '@');
        flags |= append_token(address, p, t);
    }
    if (at_tokens == 0 && memchr(address->data, '@', address->len) != NULL)
        return -1;                              /* "user@remote" alone */
    return flags | address_shape_flags(address, at_tokens);
}

static header_addr *new_item(header_addr_list *list)
{
    header_addr *item;

    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 4;
        list->items = xreallocarray(list->items, list->cap, sizeof(header_addr));
    }
    item = &list->items[list->count];
    item->address = strbuf_new(32);
    item->parsed = NULL;
    return item;
}

/* One mailbox from tokens [from, to); empty_at places an empty "<>". */
static void add_mailbox(parser *p, size_t from, size_t to, int flags, size_t empty_at)
{
    size_t  first = first_significant(p, from, to);
    size_t  last = last_significant(p, from, to);
    header_addr *item;
    int     built = 0;

    if (first == NO_TOKEN && !(flags & HEADER_ADDR_F_ANGLE))
        return;                                 /* nothing but comments */
    item = new_item(p->list);
    if (first != NO_TOKEN) {
        size_t  address_first = skip_route(p, first, last, &flags);

        if (address_first <= last)
            built = build_address(p, address_first, last, item->address);
        else
            flags |= HEADER_ADDR_F_MALFORMED;   /* a route and nothing else */
    }
    if (built < 0) {
        strbuf_free(item->address);
        p->list->dropped++;
        return;
    }
    item->flags = flags | built | (p->in_group ? HEADER_ADDR_F_GROUP : 0);
    item->start = first == NO_TOKEN ? empty_at : p->tokens[first].start;
    item->end = first == NO_TOKEN ? empty_at : p->tokens[last].end;
    item->parsed = strbuf_new(item->address->len);
    strbuf_set_mem(item->parsed, item->address->data, item->address->len);
    p->list->count++;
}

/* The mailbox in tokens [first, end); open/close index its '<' and '>'. */
static void finish_mailbox(parser *p, size_t first, size_t end, size_t open, size_t close)
{
    int     flags = HEADER_ADDR_F_ANGLE;

    if (open == NO_TOKEN) {
        add_mailbox(p, first, end, 0, 0);
        return;
    }
    flags |= phrase_flags(p, first, open);
    if (close == NO_TOKEN)
        flags |= HEADER_ADDR_F_MALFORMED;
    else if (first_significant(p, close + 1, end) != NO_TOKEN)
        flags |= HEADER_ADDR_F_MALFORMED;       /* words after the '>' */
    add_mailbox(p, open + 1, close == NO_TOKEN ? end : close, flags, p->tokens[open].end);
}

static void parse_tokens(parser *p)
{
    size_t  first = 0;
    size_t  open = NO_TOKEN;
    size_t  close = NO_TOKEN;

    for (size_t i = 0; i < p->count; i++) {
        if (open != NO_TOKEN && close == NO_TOKEN) {
            if (token_is(p, i, '>'))
                close = i;
            continue;                           /* inside <>, ',' is a route's */
        }
        if (token_is(p, i, ',') || token_is(p, i, ';')) {
            finish_mailbox(p, first, i, open, close);
            first = i + 1;
            open = close = NO_TOKEN;
            if (token_is(p, i, ';'))
                p->in_group = 0;
        } else if (token_is(p, i, ':') && !p->in_group && open == NO_TOKEN) {
            p->in_group = 1;                    /* "name:" starts a group */
            first = i + 1;
        } else if (token_is(p, i, '<') && open == NO_TOKEN) {
            open = i;
        }
    }
    if (!p->list->truncated)
        finish_mailbox(p, first, p->count, open, close);
}

header_addr_list *header_addr_parse(const char *value, size_t len, size_t token_limit)
{
    header_addr_list *list = xcalloc(1, sizeof(*list));
    parser  p = {0};

    list->value = xmemdup(value, len);
    list->value_len = len;
    p.value = (const unsigned char *) list->value;
    p.len = len;
    p.list = list;
    tokenize(&p, token_limit ? token_limit : HEADER_ADDR_TOKEN_LIMIT);
    parse_tokens(&p);
    free(p.tokens);
    return list;
}

void header_addr_list_free(header_addr_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++) {
        strbuf_free(list->items[i].address);
        strbuf_free(list->items[i].parsed);
    }
    free(list->items);
    free(list->value);
    free(list);
}

/* Rewriting and rendering. */

void header_addr_rewrite(header_addr_list *list, header_addr_rewrite_fn fn, void *context)
{
    for (size_t i = 0; i < list->count; i++)
        fn(&list->items[i], context);
}

int header_addr_changed(const header_addr *item)
{
    return item->address->len != item->parsed->len
        || memcmp(item->address->data, item->parsed->data, item->parsed->len) != 0;
}

void header_addr_render(strbuf *out, const header_addr_list *list)
{
    size_t  pos = 0;

    for (size_t i = 0; i < list->count; i++) {
        const header_addr *item = &list->items[i];

        if (!header_addr_changed(item))
            continue;
        strbuf_append(out, list->value + pos, item->start - pos);
        if (item->address->len == 0 && !(item->flags & HEADER_ADDR_F_ANGLE))
            strbuf_append_str(out, "<>");
        else
            mail_addr_externalize(out, item->address->data, item->address->len);
        pos = item->end;
    }
    strbuf_append(out, list->value + pos, list->value_len - pos);
}

/* New mailboxes for From: generation. */

#define ENCODED_WORD_MAX_INPUT 45       /* 60 base64 characters: a 72-byte word */

/* RFC 2047 "=?utf-8?B?...?=" words, split between UTF-8 characters. */
static void append_encoded_words(strbuf *out, const strbuf *name)
{
    const unsigned char *p = (const unsigned char *) name->data;
    size_t  pos = 0;

    while (pos < name->len) {
        size_t  chunk = 0;
        size_t  step;

        while (pos + chunk < name->len
               && (step = utf8_char_length(p + pos + chunk, name->len - pos - chunk))
               && chunk + step <= ENCODED_WORD_MAX_INPUT)
            chunk += step;
        if (pos > 0)
            strbuf_append_char(out, ' ');
        strbuf_append_str(out, "=?utf-8?B?");
        base64_encode(p + pos, chunk, out);
        strbuf_append_str(out, "?=");
        pos += chunk;
    }
}

/* Controls and bytes that are not UTF-8 become '?'; returns 1 if 8-bit remains. */
static int clean_display_name(strbuf *clean, const char *name, size_t len)
{
    const unsigned char *p = (const unsigned char *) name;
    int     eight_bit = 0;
    size_t  step;

    for (size_t i = 0; i < len; i += step) {
        step = 1;
        if (p[i] >= 0x80 && (step = utf8_char_length(p + i, len - i)) != 0) {
            strbuf_append(clean, p + i, step);
            eight_bit = 1;
        } else {
            step = 1;
            strbuf_append_char(clean, (p[i] < 0x20 || p[i] >= 0x7F) ? '?' : p[i]);
        }
    }
    return eight_bit;
}

static int is_atom_phrase(const strbuf *name)
{
    if (name->data[0] == ' ' || strbuf_last(name) == ' ')
        return 0;
    for (size_t i = 0; i < name->len; i++)
        if (name->data[i] != ' ' && !mail_addr_is_atext(name->data[i]))
            return 0;
    return 1;
}

static void append_quoted_phrase(strbuf *out, const strbuf *name)
{
    strbuf_append_char(out, '"');
    for (size_t i = 0; i < name->len; i++) {
        if (name->data[i] == '"' || name->data[i] == '\\')
            strbuf_append_char(out, '\\');
        strbuf_append_char(out, name->data[i]);
    }
    strbuf_append_char(out, '"');
}

void header_addr_format_mailbox(strbuf *out, const char *name, size_t name_len,
                                const char *address, size_t len)
{
    strbuf *clean;

    if (name_len == 0) {
        mail_addr_externalize(out, address, len);
        return;
    }
    clean = strbuf_new(name_len);
    if (clean_display_name(clean, name, name_len))
        append_encoded_words(out, clean);
    else if (is_atom_phrase(clean))
        strbuf_append(out, clean->data, clean->len);
    else
        append_quoted_phrase(out, clean);
    strbuf_append_str(out, " <");
    mail_addr_externalize(out, address, len);
    strbuf_append_char(out, '>');
    strbuf_free(clean);
}
