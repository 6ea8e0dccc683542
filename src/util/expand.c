/*
 * expand - $name macro expansion. See expand.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "mem.h"
#include "msg.h"

typedef struct expansion {
    const expand_ctx *ctx;
    strbuf *why;
    int     depth;
} expansion;

static int expand_into(expansion *ex, strbuf *out, const char *text);

static int fail(expansion *ex, int code, const char *fmt, const char *arg)
{
    if (ex->why)
        strbuf_printf(ex->why, fmt, arg);
    return code;
}

static int name_char(int ch, int braced)
{
    return isalnum(ch) || ch == '_' || (braced && (ch == '.' || ch == '-'));
}

/* Finds the end of a {...} group that starts at text[0] == '{'. */
static const char *group_end(const char *text)
{
    int     nesting = 0;

    for (const char *cp = text; *cp; cp++) {
        if (*cp == '{')
            nesting++;
        else if (*cp == '}' && --nesting == 0)
            return cp;
    }
    return NULL;
}

static void append_value(expansion *ex, strbuf *out, const char *value)
{
    const char *filter = ex->ctx->filter;

    if (filter == NULL) {
        strbuf_append_str(out, value);
        return;
    }
    for (const char *cp = value; *cp; cp++)
        strbuf_append_char(out, strchr(filter, *cp) ? *cp : '_');
}

static int insert_name(expansion *ex, strbuf *out, const char *name)
{
    const char *value = ex->ctx->lookup(name, ex->ctx->context);
    int     rc = 0;

    if (value == NULL) {
        if (ex->ctx->undefined)
            ex->ctx->undefined(name, ex->ctx->context);
        return 0;
    }
    if (!(ex->ctx->flags & EXPAND_RECURSIVE)) {
        append_value(ex, out, value);
        return 0;
    }
    if (++ex->depth > EXPAND_MAX_DEPTH)
        return fail(ex, EXPAND_ERR_LOOP, "unreasonable macro call nesting: \"%s\"", name);
    rc = expand_into(ex, out, value);
    ex->depth--;
    return rc;
}

static int is_set(expansion *ex, const char *name)
{
    const char *value = ex->ctx->lookup(name, ex->ctx->context);

    return value != NULL && *value != 0;
}

/* ${name?{t1}:{t2}} and comparisons: `rest` points after the operator. */
static int expand_choice(expansion *ex, strbuf *out, int choose_first, const char *rest)
{
    const char *end1;
    const char *end2;
    char   *chosen;
    int     rc;

    if (*rest != '{' || (end1 = group_end(rest)) == NULL)
        return fail(ex, EXPAND_ERR_SYNTAX, "bad conditional syntax near \"%s\"", rest);
    if (end1[1] == 0) {
        end2 = NULL;
    } else if (end1[1] != ':' || end1[2] != '{' || (end2 = group_end(end1 + 2)) == NULL
               || end2[1] != 0) {
        return fail(ex, EXPAND_ERR_SYNTAX, "bad conditional syntax near \"%s\"", rest);
    }
    if (choose_first)
        chosen = xstrndup(rest + 1, (size_t) (end1 - rest - 1));
    else if (end2)
        chosen = xstrndup(end1 + 3, (size_t) (end2 - end1 - 3));
    else
        return 0;
    rc = expand_into(ex, out, chosen);
    free(chosen);
    return rc;
}

static int expand_comparison(expansion *ex, strbuf *out, const char *name, const char *op)
{
    const char *operand = op + 2;
    const char *end = operand[0] == '{' ? group_end(operand) : NULL;
    strbuf *left;
    strbuf *right;
    char   *literal;
    int     equal;
    int     rc;

    if (end == NULL || end[1] != '?')
        return fail(ex, EXPAND_ERR_SYNTAX, "bad comparison syntax near \"%s\"", op);
    left = strbuf_new(32);
    right = strbuf_new(32);
    literal = xstrndup(operand + 1, (size_t) (end - operand - 1));
    rc = insert_name(ex, left, name);
    if (rc == 0)
        rc = expand_into(ex, right, literal);
    equal = strcmp(left->data, right->data) == 0;
    free(literal);
    strbuf_free(left);
    strbuf_free(right);
    if (rc < 0)
        return rc;
    return expand_choice(ex, out, op[0] == '=' ? equal : !equal, end + 2);
}

/* Handles the inside of ${...} or $(...). */
static int expand_braced(expansion *ex, strbuf *out, const char *inner)
{
    size_t  len = 0;
    char   *name;
    const char *op;
    int     rc;

    while (name_char((unsigned char) inner[len], 1))
        len++;
    if (len == 0)
        return fail(ex, EXPAND_ERR_SYNTAX, "bad macro name in \"%s\"", inner);
    name = xstrndup(inner, len);
    op = inner + len;
    if (*op == 0)
        rc = insert_name(ex, out, name);
    else if ((op[0] == '=' || op[0] == '!') && op[1] == '=')
        rc = expand_comparison(ex, out, name, op);
    else if (*op == '?' && op[1] == '{')
        rc = expand_choice(ex, out, is_set(ex, name), op + 1);
    else if (*op == '?')
        rc = is_set(ex, name) ? expand_into(ex, out, op + 1) : 0;
    else if (*op == ':')
        rc = is_set(ex, name) ? 0 : expand_into(ex, out, op + 1);
    else
        rc = fail(ex, EXPAND_ERR_SYNTAX, "bad macro syntax in \"%s\"", inner);
    free(name);
    return rc;
}

static const char *closing(const char *open)
{
    char    want = *open == '{' ? '}' : ')';
    int     nesting = 0;

    for (const char *cp = open; *cp; cp++) {
        if (*cp == *open)
            nesting++;
        else if (*cp == want && --nesting == 0)
            return cp;
    }
    return NULL;
}

static int expand_into(expansion *ex, strbuf *out, const char *text)
{
    const char *cp = text;

    while (*cp) {
        const char *dollar = strchr(cp, '$');
        int     rc;

        if (dollar == NULL) {
            strbuf_append_str(out, cp);
            break;
        }
        strbuf_append(out, cp, (size_t) (dollar - cp));
        cp = dollar + 1;
        if (*cp == '$') {
            strbuf_append_char(out, '$');
            cp++;
        } else if (*cp == '{' || *cp == '(') {
            const char *end = closing(cp);
            char   *inner;

            if (end == NULL)
                return fail(ex, EXPAND_ERR_SYNTAX, "missing closing bracket in \"%s\"", text);
            inner = xstrndup(cp + 1, (size_t) (end - cp - 1));
            rc = expand_braced(ex, out, inner);
            free(inner);
            if (rc < 0)
                return rc;
            cp = end + 1;
        } else if (name_char((unsigned char) *cp, 0)) {
            size_t  len = 0;
            char   *name;

            while (name_char((unsigned char) cp[len], 0))
                len++;
            name = xstrndup(cp, len);
            rc = insert_name(ex, out, name);
            free(name);
            if (rc < 0)
                return rc;
            cp += len;
        } else {
            strbuf_append_char(out, '$');
        }
    }
    return 0;
}

int expand_text(strbuf *out, const char *text, const expand_ctx *ctx, strbuf *why)
{
    expansion ex = {.ctx = ctx,.why = why,.depth = 0 };

    return expand_into(&ex, out, text);
}
