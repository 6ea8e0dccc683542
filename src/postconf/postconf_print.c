/*
 * postconf_print - print main.cf parameters as "name = value".
 *
 * Which names: the ones given, or all (-n: only those set in main.cf).
 * Which value: -d the default; otherwise main.cf's (or an override's) text,
 * else the default; -x expands $name references. -h prints values only.
 *
 * A main.cf name is legitimate when Postern declares it, when a main.cf or
 * master.cf value refers to it as $name (user-defined), or when it is
 * <service>_<per-transport setting> for a master.cf service. Others are
 * reported as "unused parameter", references to undeclared names as
 * "undefined parameter", as Postfix's postconf does.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "htable.h"
#include "mail_params.h"
#include "master_cf.h"
#include "mem.h"
#include "msg.h"
#include "postconf.h"
#include "strbuf.h"

/* Settings Postfix lets every transport override as <transport>_<suffix>. */
static const char *const transport_suffixes[] = {
    "destination_concurrency_limit", "destination_recipient_limit",
    "initial_destination_concurrency", "destination_rate_delay",
    "destination_concurrency_failed_cohort_limit",
    "destination_concurrency_positive_feedback",
    "destination_concurrency_negative_feedback", "extra_recipient_limit",
    "recipient_limit", "recipient_refill_limit", "recipient_refill_delay",
    "delivery_slot_cost", "delivery_slot_discount", "delivery_slot_loan",
    "minimum_delivery_slots", "time_limit", "delivery_status_filter",
    NULL,
};

/* Names that only exist while a daemon runs ($client_address in a reply...). */
static const char *const runtime_names[] = {
    "service_name", "process_name", "process_id", "client_address",
    "client_hostname", "client_port", "client_protocol", "helo_name",
    "recipient", "sender", "user", "extension", "domain", "home", "shell",
    "local", "mailbox", "nexthop", "original_recipient", "queue_id",
    "recipient_delimiter", "size", "name", NULL,
};

static int in_list(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

/* Adds every $name, ${name...} and $(name...) in text to refs. */
static void collect_references(const char *text, htable *refs)
{
    for (const char *cp = strchr(text, '$'); cp; cp = strchr(cp, '$')) {
        const char *start;
        size_t  len = 0;
        char   *name;

        cp++;
        if (*cp == '$') {
            cp++;
            continue;
        }
        start = (*cp == '{' || *cp == '(') ? cp + 1 : cp;
        while (isalnum((unsigned char) start[len]) || start[len] == '_')
            len++;
        if (len == 0)
            continue;
        name = xstrndup(start, len);
        htable_put(refs, name, (void *) 1, NULL);
        free(name);
        cp = start + len;
    }
}

typedef struct known_names {
    htable *referenced;
    master_cf *master;
} known_names;

static void known_names_init(known_names *known)
{
    const conf_file *cf = config_main_cf();
    strbuf *path = strbuf_new(128);
    strbuf *error = strbuf_new(64);

    known->referenced = htable_new(64);
    for (size_t i = 0; i < cf->count; i++)
        collect_references(cf->entries[i].value, known->referenced);
    strbuf_printf(path, "%s/master.cf", config_dir());
    known->master = master_cf_read(path->data, error);
    for (size_t i = 0; known->master && i < known->master->count; i++)
        for (size_t j = 0; j < known->master->services[i].overrides->count; j++)
            collect_references(known->master->services[i].overrides->items[j],
                               known->referenced);
    strbuf_free(path);
    strbuf_free(error);
}

static void known_names_free(known_names *known)
{
    htable_free(known->referenced, NULL);
    master_cf_free(known->master);
}

static int is_transport_setting(const known_names *known, const char *name)
{
    for (size_t i = 0; known->master && i < known->master->count; i++) {
        const char *service = known->master->services[i].name;
        size_t  len = strlen(service);

        if (strncmp(name, service, len) == 0 && name[len] == '_'
            && in_list(transport_suffixes, name + len + 1))
            return 1;
    }
    return 0;
}

static int is_legitimate(const known_names *known, const char *name)
{
    return param_find(name) || htable_get(known->referenced, name)
        || is_transport_setting(known, name);
}

static void warn_about_main_cf(const known_names *known)
{
    const conf_file *cf = config_main_cf();
    argv_t *refs = htable_keys(known->referenced);

    for (size_t i = 0; i < cf->warnings->count; i++)
        msg_warn("%s", cf->warnings->items[i]);
    for (size_t i = 0; i < cf->count; i++) {
        const conf_entry *e = &cf->entries[i];

        if (conf_file_find(cf, e->name) == e && !is_legitimate(known, e->name))
            msg_warn("%s: unused parameter: %s=%s", cf->path, e->name, e->value);
    }
    for (size_t i = 0; i < refs->count; i++)
        if (!param_find(refs->items[i]) && !conf_file_find(cf, refs->items[i])
            && !in_list(runtime_names, refs->items[i]))
            msg_warn("%s: undefined parameter: %s", cf->path, refs->items[i]);
    argv_free(refs);
}

/* The names to print when none are given, sorted. */
static argv_t *all_names(int flags, const known_names *known)
{
    const conf_file *cf = config_main_cf();
    htable *names = htable_new(param_table_size * 2);
    argv_t *sorted;

    if (!(flags & PC_SHOW_NONDEFAULT))
        for (size_t i = 0; i < param_table_size; i++)
            htable_put(names, param_table[i].name, (void *) 1, NULL);
    if (!(flags & PC_SHOW_DEFAULTS))
        for (size_t i = 0; i < cf->count; i++)
            if (is_legitimate(known, cf->entries[i].name))
                htable_put(names, cf->entries[i].name, (void *) 1, NULL);
    sorted = htable_keys(names);
    htable_free(names, NULL);
    return sorted;
}

static void print_folded(const char *name, const char *value, int flags)
{
    strbuf *line = strbuf_new(128);
    const char *cp = value;
    size_t  column;

    if (!(flags & PC_HIDE_NAME))
        strbuf_printf(line, *value ? "%s = " : "%s =", name);
    column = line->len;
    while (*cp) {
        size_t  word = strcspn(cp, " ");

        if ((flags & PC_FOLD) && column > 0 && column + word > 79 && cp != value) {
            strbuf_append_str(line, "\n    ");
            column = 4;
        }
        strbuf_append(line, cp, word);
        column += word;
        cp += word;
        if (*cp == ' ') {
            cp += strspn(cp, " ");
            if (*cp) {
                strbuf_append_char(line, ' ');
                column++;
            }
        }
    }
    puts(line->data);
    strbuf_free(line);
}

/* Prints one parameter; returns 0, or 1 when the name is unknown. */
static int print_one(const char *name, int flags, const known_names *known)
{
    const param_def *param = param_find(name);
    const char *raw;
    strbuf *value = strbuf_new(128);

    if (flags & PC_SHOW_DEFAULTS)
        raw = param ? param_default_text(param) : NULL;
    else if ((raw = config_lookup_raw(name)) == NULL && param)
        raw = param_default_text(param);
    if (raw == NULL || (!param && !(flags & PC_SHOW_DEFAULTS) && !is_legitimate(known, name))) {
        msg_warn("%s: unknown parameter", name);
        strbuf_free(value);
        return 1;
    }
    strbuf_set(value, raw);
    if ((flags & PC_EXPAND) && config_expand(raw, value) < 0)
        msg_fatal("%s: %s", name, config_last_error());
    print_folded(name, value->data, flags);
    strbuf_free(value);
    return 0;
}

int postconf_print(int flags, char **names)
{
    known_names known;
    argv_t *list = NULL;
    int     status = 0;

    known_names_init(&known);
    if (!(flags & PC_SHOW_DEFAULTS))
        warn_about_main_cf(&known);
    if (*names == NULL) {
        list = all_names(flags, &known);
        names = list->items;
    }
    for (; *names; names++)
        status |= print_one(*names, flags, &known);
    argv_free(list);
    known_names_free(&known);
    return status;
}
