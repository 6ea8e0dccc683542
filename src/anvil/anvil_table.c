/*
 * anvil_table - connection counts and rates per ident. See anvil_table.h.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "anvil_table.h"
#include "htable.h"
#include "mem.h"
#include "strbuf.h"

enum rate_kind { RATE_CONNECT, RATE_MESSAGE, RATE_RECIPIENT, RATE_AUTH, RATE_KINDS };

typedef struct anvil_entry {
    int     count;                      /* concurrent connections */
    time_t  window_start;
    int     rates[RATE_KINDS];
} anvil_entry;

typedef struct anvil_max {
    long    value;
    char   *ident;                      /* NULL for the table size */
    time_t  when;
} anvil_max;

struct anvil_table {
    htable *entries;                    /* ident -> anvil_entry */
    int     time_unit;
    anvil_max max_rate[RATE_KINDS];
    anvil_max max_count;
    anvil_max max_size;
};

static const struct {
    const char *name;
    anvil_event event;
} event_names[] = {
    {"connect", ANVIL_EVENT_CONNECT},
    {"disconnect", ANVIL_EVENT_DISCONNECT},
    {"message", ANVIL_EVENT_MESSAGE},
    {"recipient", ANVIL_EVENT_RECIPIENT},
    {"auth", ANVIL_EVENT_AUTH},
    {"lookup", ANVIL_EVENT_LOOKUP},
};

int     anvil_event_parse(const char *name, anvil_event *event)
{
    for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++) {
        if (strcmp(event_names[i].name, name) == 0) {
            *event = event_names[i].event;
            return 0;
        }
    }
    return -1;
}

anvil_table *anvil_table_new(int time_unit)
{
    anvil_table *table = xcalloc(1, sizeof(*table));

    table->entries = htable_new(64);
    table->time_unit = time_unit > 0 ? time_unit : 1;
    return table;
}

static void reset_max(anvil_max *max)
{
    free(max->ident);
    *max = (anvil_max) {0};
}

static void reset_all_maxima(anvil_table *table)
{
    for (int kind = 0; kind < RATE_KINDS; kind++)
        reset_max(&table->max_rate[kind]);
    reset_max(&table->max_count);
    reset_max(&table->max_size);
}

void    anvil_table_free(anvil_table *table)
{
    if (table == NULL)
        return;
    htable_free(table->entries, free);
    reset_all_maxima(table);
    free(table);
}

size_t  anvil_table_size(const anvil_table *table)
{
    return table->entries->used;
}

static void note_max(anvil_max *max, long value, const char *ident, time_t now)
{
    if (value <= max->value)
        return;
    if (ident && (max->ident == NULL || strcmp(max->ident, ident) != 0)) {
        free(max->ident);
        max->ident = xstrdup(ident);
    }
    max->value = value;
    max->when = now;
}

static int window_over(const anvil_table *table, const anvil_entry *entry, time_t now)
{
    return now - entry->window_start >= table->time_unit || now < entry->window_start;
}

/* The entry of an ident whose window is current; created when `create`. */
static anvil_entry *entry_for(anvil_table *table, const char *ident, time_t now, int create)
{
    anvil_entry *entry = htable_get(table->entries, ident);

    if (entry == NULL) {
        if (!create)
            return NULL;
        entry = xcalloc(1, sizeof(*entry));
        entry->window_start = now;
        htable_put(table->entries, ident, entry, NULL);
        note_max(&table->max_size, (long) table->entries->used, NULL, now);
    } else if (window_over(table, entry, now)) {
        memset(entry->rates, 0, sizeof(entry->rates));
        entry->window_start = now;
    }
    return entry;
}

static enum rate_kind rate_of(anvil_event event)
{
    switch (event) {
    case ANVIL_EVENT_MESSAGE:
        return RATE_MESSAGE;
    case ANVIL_EVENT_RECIPIENT:
        return RATE_RECIPIENT;
    case ANVIL_EVENT_AUTH:
        return RATE_AUTH;
    default:
        return RATE_CONNECT;
    }
}

static void count_event(anvil_table *table, anvil_entry *entry, anvil_event event,
                        const char *ident, time_t now)
{
    enum rate_kind kind = rate_of(event);

    if (event == ANVIL_EVENT_DISCONNECT) {
        if (entry->count > 0)
            entry->count--;
        return;
    }
    if (event == ANVIL_EVENT_CONNECT && entry->count < INT_MAX) {
        entry->count++;
        note_max(&table->max_count, entry->count, ident, now);
    }
    if (entry->rates[kind] < INT_MAX)
        entry->rates[kind]++;
    note_max(&table->max_rate[kind], entry->rates[kind], ident, now);
}

void    anvil_table_update(anvil_table *table, anvil_event event, const char *ident, time_t now,
                           anvil_counts *counts)
{
    int     creates = event != ANVIL_EVENT_LOOKUP && event != ANVIL_EVENT_DISCONNECT;
    anvil_entry *entry = entry_for(table, ident, now, creates);

    *counts = (anvil_counts) {0, 0};
    if (entry == NULL)
        return;
    if (event != ANVIL_EVENT_LOOKUP)
        count_event(table, entry, event, ident, now);
    counts->count = entry->count;
    counts->rate = entry->rates[rate_of(event)];
}

size_t  anvil_table_expire(anvil_table *table, time_t now)
{
    argv_t *idle = argv_new(16);
    htable_entry *e = NULL;
    size_t  bucket = 0;

    while ((e = htable_next(table->entries, &bucket, e)) != NULL) {
        anvil_entry *entry = e->value;

        if (entry->count == 0 && window_over(table, entry, now))
            argv_add(idle, e->key);
    }
    for (size_t i = 0; i < idle->count; i++)
        htable_delete(table->entries, idle->items[i], free);
    argv_free(idle);
    return table->entries->used;
}

static void format_time(strbuf *out, time_t when)
{
    char    text[32];
    struct tm tm;

    localtime_r(&when, &tm);
    strftime(text, sizeof(text), "%b %e %H:%M:%S", &tm);
    strbuf_append_str(out, text);
}

static void add_rate_line(argv_t *lines, const char *what, const anvil_max *max, int unit)
{
    strbuf *line = strbuf_new(128);

    if (max->value > 0) {
        strbuf_printf(line, "statistics: max %s rate %ld/%ds for (%s) at ", what, max->value,
                      unit, max->ident);
        format_time(line, max->when);
        argv_add(lines, line->data);
    }
    strbuf_free(line);
}

void    anvil_table_statistics(anvil_table *table, argv_t *lines)
{
    strbuf *line = strbuf_new(128);

    add_rate_line(lines, "connection", &table->max_rate[RATE_CONNECT], table->time_unit);
    if (table->max_count.value > 0) {
        strbuf_printf(line, "statistics: max connection count %ld for (%s) at ",
                      table->max_count.value, table->max_count.ident);
        format_time(line, table->max_count.when);
        argv_add(lines, line->data);
    }
    add_rate_line(lines, "message", &table->max_rate[RATE_MESSAGE], table->time_unit);
    add_rate_line(lines, "recipient", &table->max_rate[RATE_RECIPIENT], table->time_unit);
    add_rate_line(lines, "auth", &table->max_rate[RATE_AUTH], table->time_unit);
    if (table->max_size.value > 0) {
        strbuf_printf(line, "statistics: max cache size %ld at ", table->max_size.value);
        format_time(line, table->max_size.when);
        argv_add(lines, line->data);
    }
    strbuf_free(line);
    reset_all_maxima(table);
}
