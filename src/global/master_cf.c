/*
 * master_cf - read master.cf. See master_cf.h.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logical_line.h"
#include "master_cf.h"
#include "mem.h"

static const char *const field_names[MASTER_CF_FIELDS] = {
    "service", "type", "private", "unpriv", "chroot", "wakeup", "maxproc",
};

int master_cf_valid_type(const char *type)
{
    static const char *const types[] = {"inet", "unix", "unix-dgram", "fifo", "pass", NULL};

    for (int i = 0; types[i]; i++)
        if (strcmp(type, types[i]) == 0)
            return 1;
    return 0;
}

/* Splits a logical line into words; "{ ... }" groups become one word. */
static argv_t *split_words(const char *text, strbuf *why)
{
    argv_t *words = argv_new(16);
    const char *cp = text;

    for (;;) {
        while (isspace((unsigned char) *cp))
            cp++;
        if (*cp == 0)
            break;
        if (*cp == '{') {
            const char *end = strchr(cp, '}');
            const char *start = cp + 1;
            const char *last;

            if (end == NULL) {
                strbuf_set(why, "missing '}' in argument group");
                argv_free(words);
                return NULL;
            }
            while (start < end && isspace((unsigned char) *start))
                start++;
            for (last = end; last > start && isspace((unsigned char) last[-1]); last--)
                /* trim */ ;
            argv_add_mem(words, start, (size_t) (last - start));
            cp = end + 1;
        } else {
            size_t  len = strcspn(cp, " \t\r\n");

            argv_add_mem(words, cp, len);
            cp += len;
        }
    }
    return words;
}

static int parse_yes_no(const char *text, int default_value, int *value)
{
    if (strcmp(text, "-") == 0)
        *value = default_value;
    else if (strcmp(text, "y") == 0)
        *value = 1;
    else if (strcmp(text, "n") == 0)
        *value = 0;
    else
        return -1;
    return 0;
}

static int parse_number(const char *text, int *value)
{
    char   *end;
    long    number;

    if (!isdigit((unsigned char) *text))
        return -1;
    errno = 0;
    number = strtol(text, &end, 10);
    if (errno == ERANGE || number > INT_MAX)
        return -1;
    *value = (int) number;
    return *end ? (int) (end - text) : 0;
}

static int parse_wakeup(master_service *svc, const char *text)
{
    int     rest;

    svc->wakeup = 0;
    svc->wakeup_only_when_used = 0;
    if (strcmp(text, "-") == 0)
        return 0;
    if ((rest = parse_number(text, &svc->wakeup)) < 0)
        return -1;
    if (rest > 0 && strcmp(text + rest, "?") == 0)
        svc->wakeup_only_when_used = 1;
    else if (rest > 0)
        return -1;
    return 0;
}

static int parse_fields(master_service *svc, strbuf *why)
{
    int     bad = -1;

    if (!master_cf_valid_type(svc->type))
        bad = 1;
    else if (parse_yes_no(svc->raw[2], 1, &svc->private_socket) < 0)
        bad = 2;
    else if (parse_yes_no(svc->raw[3], 1, &svc->unprivileged) < 0)
        bad = 3;
    else if (parse_yes_no(svc->raw[4], 0, &svc->chroot) < 0)
        bad = 4;
    else if (parse_wakeup(svc, svc->raw[5]) < 0)
        bad = 5;
    else if (strcmp(svc->raw[6], "-") == 0)
        svc->maxproc = MASTER_MAXPROC_DEFAULT;
    else if (parse_number(svc->raw[6], &svc->maxproc) != 0)
        bad = 6;
    if (bad >= 0) {
        strbuf_printf(why, "invalid %s field \"%s\"", field_names[bad], svc->raw[bad]);
        return -1;
    }
    return 0;
}

static int parse_overrides(master_service *svc, strbuf *why)
{
    argv_t *args = svc->command;

    for (size_t i = 1; i < args->count; i++) {
        const char *value;

        if (strcmp(args->items[i], "-o") == 0) {
            if (i + 1 >= args->count) {
                strbuf_set(why, "missing value after -o");
                return -1;
            }
            value = args->items[++i];
        } else if (strncmp(args->items[i], "-o", 2) == 0) {
            value = args->items[i] + 2;
        } else {
            continue;
        }
        if (strchr(value, '=') == NULL || value[0] == '=') {
            strbuf_printf(why, "bad -o argument \"%s\": need name=value", value);
            return -1;
        }
        argv_add(svc->overrides, value);
    }
    return 0;
}

static void service_clear(master_service *svc)
{
    for (int i = 0; i < MASTER_CF_FIELDS; i++)
        free(svc->raw[i]);
    argv_free(svc->command);
    argv_free(svc->overrides);
}

/* Parses one logical line into mcf; 0 ok, -1 error in why. */
static int parse_service(master_cf *mcf, const char *text, int line, strbuf *why)
{
    argv_t *words = split_words(text, why);
    master_service svc = {0};

    if (words == NULL)
        return -1;
    if (words->count < MASTER_CF_FIELDS + 1) {
        argv_free(words);
        strbuf_set(why, "bad field count");
        return -1;
    }
    for (int i = 0; i < MASTER_CF_FIELDS; i++)
        svc.raw[i] = xstrdup(words->items[i]);
    svc.name = svc.raw[0];
    svc.type = svc.raw[1];
    svc.line = line;
    svc.command = argv_new(words->count - MASTER_CF_FIELDS);
    svc.overrides = argv_new(4);
    for (size_t i = MASTER_CF_FIELDS; i < words->count; i++)
        argv_add(svc.command, words->items[i]);
    argv_free(words);
    if (parse_fields(&svc, why) < 0 || parse_overrides(&svc, why) < 0) {
        service_clear(&svc);
        return -1;
    }
    if (master_cf_find(mcf, svc.name, svc.type)) {
        strbuf_printf(why, "duplicate service \"%s/%s\"", svc.name, svc.type);
        service_clear(&svc);
        return -1;
    }
    mcf->services = xreallocarray(mcf->services, mcf->count + 1, sizeof(master_service));
    mcf->services[mcf->count++] = svc;
    return 0;
}

master_cf *master_cf_parse(const char *path, const char *text, strbuf *error)
{
    master_cf *mcf = xcalloc(1, sizeof(*mcf));
    strbuf *logical = strbuf_new(256);
    strbuf *why = strbuf_new(64);
    logical_cursor cursor;
    int     line;
    int     orphan;
    int     failed = 0;

    mcf->path = xstrdup(path);
    logical_line_start(&cursor, text, 0);
    while (!failed && (line = logical_line_next(&cursor, logical, &orphan)) > 0) {
        if (orphan) {
            strbuf_set(why, "logical line must not start with whitespace");
            failed = 1;
        } else {
            failed = parse_service(mcf, logical->data, line, why) < 0;
        }
        if (failed)
            strbuf_printf(error, "%s, line %d: %s in \"%s\"", path, line, why->data,
                          logical->data);
    }
    strbuf_free(logical);
    strbuf_free(why);
    if (failed) {
        master_cf_free(mcf);
        return NULL;
    }
    return mcf;
}

master_cf *master_cf_read(const char *path, strbuf *error)
{
    strbuf *text = strbuf_new(8192);
    master_cf *mcf = NULL;

    if (file_read_text(path, text, error) == 0)
        mcf = master_cf_parse(path, text->data, error);
    strbuf_free(text);
    return mcf;
}

void master_cf_free(master_cf *mcf)
{
    if (mcf == NULL)
        return;
    for (size_t i = 0; i < mcf->count; i++)
        service_clear(&mcf->services[i]);
    free(mcf->services);
    free(mcf->path);
    free(mcf);
}

const master_service *master_cf_find(const master_cf *mcf, const char *name, const char *type)
{
    for (size_t i = 0; i < mcf->count; i++)
        if (strcmp(mcf->services[i].name, name) == 0
            && (type == NULL || strcmp(mcf->services[i].type, type) == 0))
            return &mcf->services[i];
    return NULL;
}
