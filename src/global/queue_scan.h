/*
 * queue_scan - list the files of one queue directory.
 *
 * Queues listed in hash_queue_names keep their files in subdirectories
 * named by the first characters of the queue ID (docs/queue-file.md); a
 * change of hash_queue_names or hash_queue_depth leaves files at other
 * depths. Both functions look at every depth: they descend into
 * subdirectories whose name is one hexadecimal digit, at most
 * QUEUE_SCAN_DEPTH_MAX levels down, and never follow symbolic links.
 *
 * queue_walk(queue_name, visit, context) calls visit(path, name, context)
 * for every other entry (any name, any file type): `path` is the entry's
 * path relative to queue_directory ("deferred/A/AE740A7248D"), `name` its
 * last component. queue_scan(queue_name, ids) appends the names that are
 * valid queue IDs to `ids` (the caller owns it); other names are skipped.
 * Both return 0, or -1 with errno when the queue directory itself cannot
 * be opened; unreadable subdirectories are skipped.
 *
 * Paths are relative to the current directory (queue_directory).
 */
#ifndef POSTERN_QUEUE_SCAN_H
#define POSTERN_QUEUE_SCAN_H

#include "argv.h"

#define QUEUE_SCAN_DEPTH_MAX  10

typedef void (*queue_visit_fn)(const char *path, const char *name, void *context);

int     queue_walk(const char *queue_name, queue_visit_fn visit, void *context);
int     queue_scan(const char *queue_name, argv_t *ids);

#endif
