/*
 * config - main.cf reading, overrides and expansion. See config.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "expand.h"
#include "logical_line.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"

static conf_file *main_cf;
static htable *overrides;
static char *config_directory_in_use;
static strbuf *main_cf_path;
static strbuf *last_error;
static void (*undefined_hook)(const char *name);

int config_name_valid(const char *name)
{
    if (*name == 0)
        return 0;
    for (const char *cp = name; *cp; cp++)
        if (!isalnum((unsigned char) *cp) && !strchr("_-./", *cp))
            return 0;
    return 1;
}

static void add_entry(conf_file *cf, const char *name, const char *value, int line)
{
    conf_entry *old = htable_get(cf->index, name);
    conf_entry *entry;

    if (old) {
        strbuf *text = strbuf_new(64);

        strbuf_printf(text, "%s, line %d: overriding earlier entry: %s=%s",
                      cf->path, line, old->name, old->value);
        argv_add(cf->warnings, text->data);
        strbuf_free(text);
    }
    if (cf->count == cf->cap) {
        cf->cap = cf->cap ? cf->cap * 2 : 32;
        cf->entries = xreallocarray(cf->entries, cf->cap, sizeof(conf_entry));
        htable_free(cf->index, NULL);   /* entries moved: rebuild the index */
        cf->index = htable_new(cf->cap);
        for (size_t i = 0; i < cf->count; i++)
            htable_put(cf->index, cf->entries[i].name, &cf->entries[i], NULL);
    }
    entry = &cf->entries[cf->count++];
    entry->name = xstrdup(name);
    entry->value = xstrdup(value);
    entry->line = line;
    htable_put(cf->index, name, entry, NULL);
}

/* Parses one logical line "name = value"; 0 ok, -1 syntax error. */
static int parse_assignment(conf_file *cf, const char *text, int line, strbuf *error)
{
    const char *cp = text;
    const char *name_end;
    char   *name;

    while (*cp && !isspace((unsigned char) *cp) && *cp != '=')
        cp++;
    name_end = cp;
    while (isspace((unsigned char) *cp))
        cp++;
    if (*cp != '=' || name_end == text) {
        strbuf_printf(error, "%s, line %d: missing '=' after attribute name: \"%s\"",
                      cf->path, line, text);
        return -1;
    }
    name = xstrndup(text, (size_t) (name_end - text));
    if (!config_name_valid(name)) {
        strbuf_printf(error, "%s, line %d: bad parameter name: \"%s\"", cf->path, line, name);
        free(name);
        return -1;
    }
    for (cp++; isspace((unsigned char) *cp); cp++)
        /* skip */ ;
    add_entry(cf, name, cp, line);
    free(name);
    return 0;
}

static conf_file *conf_file_new(const char *path)
{
    conf_file *cf = xcalloc(1, sizeof(*cf));

    cf->path = xstrdup(path);
    cf->index = htable_new(64);
    cf->warnings = argv_new(4);
    return cf;
}

conf_file *conf_file_parse(const char *path, const char *text, strbuf *error)
{
    conf_file *cf = conf_file_new(path);
    strbuf *logical = strbuf_new(256);
    logical_cursor cursor;
    int     line;
    int     orphan;

    logical_line_start(&cursor, text, 0);
    while ((line = logical_line_next(&cursor, logical, &orphan)) > 0) {
        if (orphan) {
            strbuf *warning = strbuf_new(64);

            strbuf_printf(warning, "%s: logical line must not start with whitespace: \"%s\"",
                          cf->path, logical->data);
            argv_add(cf->warnings, warning->data);
            strbuf_free(warning);
            continue;
        }
        if (parse_assignment(cf, logical->data, line, error) < 0) {
            strbuf_free(logical);
            conf_file_free(cf);
            return NULL;
        }
    }
    strbuf_free(logical);
    return cf;
}

conf_file *conf_file_read(const char *path, strbuf *error)
{
    strbuf *text = strbuf_new(8192);
    conf_file *cf = NULL;

    if (file_read_text(path, text, error) == 0)
        cf = conf_file_parse(path, text->data, error);
    strbuf_free(text);
    return cf;
}

void conf_file_free(conf_file *cf)
{
    if (cf == NULL)
        return;
    for (size_t i = 0; i < cf->count; i++) {
        free(cf->entries[i].name);
        free(cf->entries[i].value);
    }
    free(cf->entries);
    htable_free(cf->index, NULL);
    argv_free(cf->warnings);
    free(cf->path);
    free(cf);
}

const conf_entry *conf_file_find(const conf_file *cf, const char *name)
{
    return htable_get(cf->index, name);
}

void config_init(const char *directory)
{
    strbuf *error = strbuf_new(128);
    char   *copy;

    if (directory == NULL)
        directory = getenv("MAIL_CONFIG");
    if (directory == NULL || *directory == 0)
        directory = DEF_CONFIG_DIRECTORY;
    copy = xstrdup(directory);          /* directory may be config_dir() itself */
    free(config_directory_in_use);
    config_directory_in_use = copy;
    if (main_cf_path == NULL)
        main_cf_path = strbuf_new(128);
    strbuf_printf(main_cf_path, "%s/main.cf", copy);
    conf_file_free(main_cf);
    if ((main_cf = conf_file_read(main_cf_path->data, error)) == NULL)
        msg_fatal("%s", error->data);
    strbuf_free(error);
}

const char *config_dir(void)
{
    return config_directory_in_use ? config_directory_in_use : DEF_CONFIG_DIRECTORY;
}

const char *config_main_cf_path(void)
{
    return main_cf_path ? main_cf_path->data : DEF_CONFIG_DIRECTORY "/main.cf";
}

const conf_file *config_main_cf(void)
{
    return main_cf;
}

void config_set_override(const char *name, const char *value)
{
    if (overrides == NULL)
        overrides = htable_new(16);
    htable_put(overrides, name, xstrdup(value), free);
}

int config_parse_override(const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    char   *name;
    const char *value;
    int     ok;

    if (eq == NULL || eq == assignment)
        return -1;
    name = xstrndup(assignment, (size_t) (eq - assignment));
    while (*name && isspace((unsigned char) name[strlen(name) - 1]))
        name[strlen(name) - 1] = 0;
    for (value = eq + 1; isspace((unsigned char) *value); value++)
        /* skip */ ;
    ok = config_name_valid(name);
    if (ok)
        config_set_override(name, value);
    free(name);
    return ok ? 0 : -1;
}

const char *config_lookup_raw(const char *name)
{
    const char *value;
    const conf_entry *entry;

    if (overrides && (value = htable_get(overrides, name)) != NULL)
        return value;
    if (main_cf && (entry = conf_file_find(main_cf, name)) != NULL)
        return entry->value;
    return NULL;
}

const char *config_lookup_raw_or_default(const char *name)
{
    const char *value = config_lookup_raw(name);
    const param_def *param;

    if (value)
        return value;
    if ((param = param_find(name)) != NULL)
        return param_default_text(param);
    return NULL;
}

static const char *expand_lookup(const char *name, void *context)
{
    (void) context;
    return config_lookup_raw_or_default(name);
}

static void expand_undefined(const char *name, void *context)
{
    (void) context;
    if (undefined_hook)
        undefined_hook(name);
}

void config_set_undefined_hook(void (*hook)(const char *name))
{
    undefined_hook = hook;
}

const char *config_last_error(void)
{
    return last_error ? last_error->data : "";
}

int config_expand(const char *text, strbuf *out)
{
    expand_ctx ctx = {
        .lookup = expand_lookup,
        .undefined = expand_undefined,
        .flags = EXPAND_RECURSIVE,
    };

    if (last_error == NULL)
        last_error = strbuf_new(64);
    strbuf_reset(out);
    return expand_text(out, text, &ctx, last_error) < 0 ? -1 : 0;
}

int config_eval(const char *name, strbuf *out)
{
    const char *raw = config_lookup_raw_or_default(name);

    if (raw == NULL) {
        strbuf_reset(out);
        return 0;
    }
    return config_expand(raw, out);
}
