/*
 * smtp_path - the address argument of SMTP MAIL FROM and RCPT TO.
 * See smtp_path.h.
 */
#include <stdlib.h>
#include <string.h>

#include "mail_addr.h"
#include "mail_ctype.h"
#include "mail_utf8.h"
#include "mem.h"
#include "smtp_path.h"
#include "valid_hostname.h"

#define DOMAIN_FLAGS   (HOSTNAME_ALLOW_UNDERSCORE | HOSTNAME_ALLOW_UTF8)

typedef struct path_cursor {
    const unsigned char *text;
    size_t  len;
    size_t  pos;
    int     bracketed;
    smtp_path *path;
} path_cursor;

smtp_path *smtp_path_new(void)
{
    smtp_path *path = xcalloc(1, sizeof(*path));

    path->address = strbuf_new(64);
    path->local = strbuf_new(64);
    path->domain = strbuf_new(64);
    return path;
}

void smtp_path_free(smtp_path *path)
{
    if (path) {
        strbuf_free(path->address);
        strbuf_free(path->local);
        strbuf_free(path->domain);
        free(path);
    }
}

static void path_reset(smtp_path *path)
{
    strbuf_reset(path->address);
    strbuf_reset(path->local);
    strbuf_reset(path->domain);
    path->flags = 0;
    path->text_offset = path->text_len = path->end = 0;
    path->why = NULL;
}

static int fail(path_cursor *c, const char *why)
{
    c->path->why = why;
    return -1;
}

static int peek(const path_cursor *c)
{
    return c->pos < c->len ? c->text[c->pos] : -1;
}

/* At the character that ends the path: '>' in brackets, else blank or end. */
static int at_path_end(const path_cursor *c)
{
    int     ch = peek(c);

    return c->bracketed ? ch == '>' : (ch < 0 || mail_is_blank(ch));
}

/* Why the character at the cursor cannot be there. */
static int fail_at_character(path_cursor *c, const char *why)
{
    int     ch = peek(c);

    if (ch < 0)
        return fail(c, c->bracketed ? "missing '>'" : why);
    if (mail_is_control(ch))
        return fail(c, "control character");
    return fail(c, why);
}

/* Appends one UTF-8 character at the cursor to `out`. */
static int take_utf8(path_cursor *c, strbuf *out)
{
    size_t  step = utf8_char_length(c->text + c->pos, c->len - c->pos);

    if (step == 0)
        return fail(c, "malformed UTF-8");
    strbuf_append(out, c->text + c->pos, step);
    c->pos += step;
    c->path->flags |= SMTP_PATH_F_UTF8;
    return 0;
}

static int parse_quoted_local(path_cursor *c)
{
    strbuf *local = c->path->local;
    int     ch;

    c->path->flags |= SMTP_PATH_F_QUOTED;
    for (c->pos++; (ch = peek(c)) >= 0;) {
        if (ch == '"') {
            c->pos++;
            return local->len ? 0 : fail(c, "empty local part");
        }
        if (ch >= 0x80) {
            if (take_utf8(c, local) < 0)
                return -1;
            continue;
        }
        if (ch == '\\') {
            c->pos++;
            if (!mail_is_printable(ch = peek(c)))
                return fail(c, "bad quoted pair");
        } else if (mail_is_control(ch)) {
            return fail(c, "control character");
        }
        strbuf_append_char(local, ch);
        c->pos++;
    }
    return fail(c, "missing closing quote");
}

static int parse_dot_string(path_cursor *c)
{
    strbuf *local = c->path->local;
    int     ch;

    while ((ch = peek(c)) >= 0) {
        if (ch >= 0x80) {
            if (take_utf8(c, local) < 0)
                return -1;
        } else if (ch == '.' || mail_addr_is_atext(ch)) {
            strbuf_append_char(local, ch);
            c->pos++;
        } else {
            break;
        }
    }
    return local->len ? 0 : fail_at_character(c, "empty local part");
}

static int is_hostname_byte(int ch)
{
    return ch >= 0x80 || ch == '.' || ch == '-' || ch == '_' || mail_is_alnum(ch);
}

/* A domain: host name, or (when allowed) an address literal. */
static int parse_domain(path_cursor *c, strbuf *domain, int allow_literal)
{
    const char *start = (const char *) c->text + c->pos;
    size_t  len;

    if (allow_literal && peek(c) == '[') {
        const char *close = memchr(start, ']', c->len - c->pos);

        len = close ? (size_t) (close - start) + 1 : 0;
        if (len == 0 || !valid_address_literal(start, len))
            return fail(c, "bad address literal");
        c->path->flags |= SMTP_PATH_F_LITERAL;
    } else {
        for (len = 0; c->pos + len < c->len && is_hostname_byte((unsigned char) start[len]);
             len++)
            if ((unsigned char) start[len] >= 0x80)
                c->path->flags |= SMTP_PATH_F_UTF8;
        if (len == 0 || !valid_hostname(start, len, DOMAIN_FLAGS))
            return fail_at_character(c, "bad domain");
    }
    strbuf_append(domain, start, len);
    c->pos += len;
    return 0;
}

/* "@a,@b:" before the mailbox: checked, then forgotten. */
static int parse_route(path_cursor *c)
{
    strbuf *scratch;
    int     status = 0;

    if (peek(c) != '@')
        return 0;
    c->path->flags |= SMTP_PATH_F_ROUTE;
    scratch = strbuf_new(64);
    while (status == 0) {
        c->pos++;                               /* the '@' */
        strbuf_reset(scratch);
        if ((status = parse_domain(c, scratch, 0)) < 0)
            break;
        if (peek(c) == ':') {
            c->pos++;
            break;
        }
        if (peek(c) == ',' && c->pos + 1 < c->len && c->text[c->pos + 1] == '@')
            c->pos++;                           /* the ',' */
        else
            status = fail(c, "bad source route");
    }
    strbuf_free(scratch);
    return status;
}

static int parse_mailbox(path_cursor *c)
{
    int     status;

    if (parse_route(c) < 0)
        return -1;
    status = peek(c) == '"' ? parse_quoted_local(c) : parse_dot_string(c);
    if (status < 0)
        return -1;
    if (peek(c) == '@') {
        c->pos++;
        return parse_domain(c, c->path->domain, 1);
    }
    if (!at_path_end(c))
        return fail_at_character(c, "bad character in local part");
    /* Internally "user@remote" would read as user at domain remote. */
    if (memchr(c->path->local->data, '@', c->path->local->len) != NULL)
        return fail(c, "'@' in a local part without domain");
    c->path->flags |= SMTP_PATH_F_NO_DOMAIN;
    return 0;
}

/* The path proper, from after the optional '<' to after the optional '>'. */
static int parse_path_body(path_cursor *c, int flags)
{
    smtp_path *path = c->path;

    if (c->bracketed && peek(c) == '>') {
        if (!(flags & SMTP_PATH_ALLOW_NULL))
            return fail(c, "null address not allowed here");
        path->flags |= SMTP_PATH_F_NULL;
        c->pos++;
        return 0;
    }
    if (parse_mailbox(c) < 0)
        return -1;
    if (!at_path_end(c))
        return fail_at_character(c, "junk after address");
    path->text_len = c->pos - path->text_offset;
    if (c->bracketed)
        c->pos++;
    return 0;
}

/* "Name <a@b>" without strict checks: a word, then a bracketed address. */
static int phrase_before_address(const path_cursor *c)
{
    size_t  pos = c->pos;

    while (pos < c->len && mail_is_blank(c->text[pos]))
        pos++;
    return pos < c->len && c->text[pos] == '<';
}

static void build_address(smtp_path *path)
{
    strbuf_set_mem(path->address, path->local->data, path->local->len);
    if (!(path->flags & SMTP_PATH_F_NO_DOMAIN) && !(path->flags & SMTP_PATH_F_NULL)) {
        strbuf_append_char(path->address, '@');
        strbuf_append(path->address, path->domain->data, path->domain->len);
    }
}

int smtp_path_parse(smtp_path *path, const char *text, size_t len, int flags)
{
    path_cursor c = {(const unsigned char *) text, len, 0, 0, path};
    size_t  path_start;

    path_reset(path);
    while (c.pos < len && mail_is_blank(text[c.pos]))
        c.pos++;
    if (c.pos == len) {
        path->why = "missing address";
        return SMTP_PATH_EMPTY;
    }
    path_start = c.pos;
    if (text[c.pos] == '<') {
        c.bracketed = 1;
        path->flags |= SMTP_PATH_F_BRACKETS;
        c.pos++;
    } else if (flags & SMTP_PATH_STRICT) {
        path->why = "address not in <>";
        return SMTP_PATH_BAD;
    }
    path->text_offset = c.pos;
    if (parse_path_body(&c, flags) < 0)
        return SMTP_PATH_BAD;
    if (c.pos < len && !mail_is_blank(text[c.pos])) {
        fail_at_character(&c, "junk after address");
        return SMTP_PATH_BAD;
    }
    if (!c.bracketed && phrase_before_address(&c)) {
        path->why = "phrase before <address>";
        return SMTP_PATH_BAD;
    }
    if (c.pos - path_start + (c.bracketed ? 0 : 2) > SMTP_PATH_MAX_LENGTH) {
        path->why = "address too long";
        return SMTP_PATH_BAD;
    }
    path->end = c.pos;
    build_address(path);
    return SMTP_PATH_OK;
}
