/*
 * anvil_table - per-client connection counts and event rates, the state of
 * the anvil service (docs/anvil.md).
 *
 * An ident names a (service, client) pair, "smtp:192.0.2.1"; the table
 * does not look inside it. For each ident it keeps the number of
 * concurrent connections and, per rate window of `time_unit` seconds, the
 * number of connections, messages, recipients and AUTH commands. A window
 * starts with the first event after the previous one ended; an event in a
 * later window starts a new one with all rates at zero.
 *
 * anvil_table_update(table, event, ident, now, &counts) registers one
 * event and fills counts: `count`, the concurrent connections after the
 * event, and `rate`, that event's rate in the current window (for
 * ANVIL_EVENT_CONNECT the connection rate; ANVIL_EVENT_DISCONNECT and ANVIL_EVENT_LOOKUP
 * change no rate and report the connection rate). Disconnecting below zero
 * or an unknown ident is a no-op; ANVIL_EVENT_LOOKUP and ANVIL_EVENT_DISCONNECT never
 * create an entry.
 *
 * Memory stays bounded by recent activity: anvil_table_expire(table, now)
 * forgets every ident with no connection whose window has ended, and
 * returns how many remain.
 *
 * Statistics, as Postfix's anvil logs them: the table remembers the
 * largest connection count, connection rate, message rate, recipient rate,
 * auth rate and table size, with the ident and time of each.
 * anvil_table_statistics(table, lines) appends one line per non-zero
 * maximum ("statistics: max connection rate 3/60s for (smtp:192.0.2.1) at
 * Nov 23 16:09:19", local time) and starts over.
 *
 * anvil_event_parse() maps request names ("connect", "disconnect",
 * "message", "recipient", "auth", "lookup") to events; -1 for others.
 *
 * Memory: the table copies idents; anvil_table_free() releases it.
 */
#ifndef POSTERN_ANVIL_TABLE_H
#define POSTERN_ANVIL_TABLE_H

#include <stddef.h>
#include <time.h>

#include "argv.h"

typedef enum anvil_event {
    ANVIL_EVENT_CONNECT,
    ANVIL_EVENT_DISCONNECT,
    ANVIL_EVENT_MESSAGE,
    ANVIL_EVENT_RECIPIENT,
    ANVIL_EVENT_AUTH,
    ANVIL_EVENT_LOOKUP,
} anvil_event;

typedef struct anvil_counts {
    int     count;                      /* concurrent connections */
    int     rate;                       /* events in the current window */
} anvil_counts;

typedef struct anvil_table anvil_table;

anvil_table *anvil_table_new(int time_unit);
int     anvil_event_parse(const char *name, anvil_event *event);
void    anvil_table_update(anvil_table *table, anvil_event event, const char *ident, time_t now,
                           anvil_counts *counts);
size_t  anvil_table_expire(anvil_table *table, time_t now);
size_t  anvil_table_size(const anvil_table *table);
void    anvil_table_statistics(anvil_table *table, argv_t *lines);
void    anvil_table_free(anvil_table *table);

#endif
