/*
 * expand - $name macro expansion, as main.cf and command templates use it.
 *
 * Syntax: $name, ${name}, $(name), $$ (a literal $), and the conditionals
 *   ${name?text}         text when name is set and non-empty, else nothing
 *   ${name:text}         text when name is unset or empty, else nothing
 *   ${name?{t1}:{t2}}    t1 when name is set and non-empty, else t2
 *   ${name=={v}?{t1}:{t2}}, ${name!={v}?{t1}:{t2}}   comparison
 * Names are [A-Za-z0-9_]+ (and '.', '-' inside braces for attributes like
 * ${client_address}). `text` is itself expanded.
 *
 * The lookup callback returns a value or NULL (undefined: expands to nothing
 * and is reported through the undefined callback when given). With
 * EXPAND_RECURSIVE, a looked-up value is expanded in turn (main.cf); without
 * it values are inserted verbatim (command templates: data is never code).
 * With a filter (a set of allowed characters), other characters in
 * looked-up values are replaced by '_' (command_expansion_filter).
 *
 * Returns 0, or EXPAND_ERR_SYNTAX / EXPAND_ERR_LOOP with a reason in `why`
 * when given.
 */
#ifndef POSTERN_EXPAND_H
#define POSTERN_EXPAND_H

#include "strbuf.h"

#define EXPAND_RECURSIVE   (1 << 0)
#define EXPAND_MAX_DEPTH   100

#define EXPAND_ERR_SYNTAX  (-1)
#define EXPAND_ERR_LOOP    (-2)

typedef const char *(*expand_lookup_fn)(const char *name, void *context);
typedef void (*expand_undefined_fn)(const char *name, void *context);

typedef struct expand_ctx {
    expand_lookup_fn lookup;
    expand_undefined_fn undefined;      /* may be NULL */
    void   *context;
    int     flags;
    const char *filter;                 /* allowed characters in values, or NULL */
} expand_ctx;

int expand_text(strbuf *out, const char *text, const expand_ctx *ctx, strbuf *why);

#endif
