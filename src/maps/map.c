/*
 * map - one lookup table behind one interface. See map.h; the type
 * callbacks are described in map_impl.h.
 *
 * This file holds what every type shares: "type:name" parsing, broken
 * tables, key folding, the NUL convention, duplicate handling, locking,
 * noticing changes on disk and reopening, and the temporary file of a
 * table being created.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "map_impl.h"
#include "mem.h"
#include "msg.h"

static map_t *open_maps;                /* MAP_READ maps with a file */
static map_t *temp_maps;                /* maps with a temporary file */

/* Seconds between checks that a table's name still leads to its file. */
#define MAP_PATH_CHECK_INTERVAL 1

int map_fail(map_t *map, const char *fmt, ...)
{
    va_list ap;

    strbuf_reset(map->error);
    va_start(ap, fmt);
    strbuf_append_vprintf(map->error, fmt, ap);
    va_end(ap);
    return MAP_ERROR;
}

static map_t *map_new(const char *spec, int mode, int flags)
{
    map_t  *map = xcalloc(1, sizeof(*map));
    const char *colon = strchr(spec, ':');

    map->spec = xstrdup(spec);
    map->type_name = colon ? xstrndup(spec, (size_t) (colon - spec)) : xstrdup("");
    map->name = xstrdup(colon ? colon + 1 : "");
    map->mode = mode;
    map->open_flags = flags;
    map->flags = flags;
    map->key = strbuf_new(64);
    map->value = strbuf_new(64);
    map->seq_key = strbuf_new(64);
    map->error = strbuf_new(64);
    map->fd = -1;
    return map;
}

/* Finds the type for map->spec; 0, or -1 with the reason in map->error. */
static int map_resolve_type(map_t *map)
{
    const char *colon = strchr(map->spec, ':');

    if (colon == NULL || colon == map->spec || colon[1] == 0)
        return map_fail(map, "open dictionary: expecting \"type:name\" form instead of \"%s\"",
                        map->spec);
    if ((map->type = map_type_find(map->type_name)) == NULL)
        return map_fail(map, "unsupported dictionary type: %s", map->type_name);
    map->flags |= map->type->properties & (MAP_FLAG_FIXED | MAP_FLAG_PATTERN);
    return 0;
}

/* With neither NUL flag, reads try both and writes use the type's habit. */
static void map_settle_nul_flags(map_t *map)
{
    if (map->flags & (MAP_FLAG_NUL | MAP_FLAG_NO_NUL))
        return;
    if (map->mode == MAP_READ)
        map->flags |= MAP_FLAG_NUL | MAP_FLAG_NO_NUL;
    else if (map->type->properties & MAP_TYPE_DEFAULT_NUL)
        map->flags |= MAP_FLAG_NUL;
    else
        map->flags |= MAP_FLAG_NO_NUL;
}

static void forget_open_map(map_t *map)
{
    for (map_t **pp = &open_maps; *pp; pp = &(*pp)->next_open) {
        if (*pp == map) {
            *pp = map->next_open;
            return;
        }
    }
}

static void forget_temp_map(map_t *map)
{
    for (map_t **pp = &temp_maps; *pp; pp = &(*pp)->next_temp) {
        if (*pp == map) {
            *pp = map->next_temp;
            return;
        }
    }
}

static int lock_file(map_t *map, int operation)
{
    while (flock(map->fd, operation) < 0) {
        if (errno != EINTR)
            return map_fail(map, "%s: lock %s: %s", map->spec, map->path ? map->path : "",
                            strerror(errno));
    }
    return 0;
}

static int map_needs_lock(const map_t *map)
{
    return map->fd >= 0 && (map->type->properties & MAP_TYPE_LOCK);
}

/* Opens without registering; used by map_open and by reopening. */
static map_t *map_open_unregistered(const char *spec, int mode, int flags)
{
    map_t  *map = map_new(spec, mode, flags);

    if (map_resolve_type(map) < 0) {
        map->broken = 1;
        return map;
    }
    map_settle_nul_flags(map);
    if (mode == MAP_UPDATE && map->type->update == NULL && map->type->delete == NULL) {
        map_fail(map, "table %s: update is not supported", spec);
        map->broken = 1;
        return map;
    }
    if (map->type->open(map, map->error) < 0) {
        map->broken = 1;
        return map;
    }
    if (map->fd >= 0) {
        if (fstat(map->fd, &map->file_st) < 0 || stat("/", &map->root_st) < 0) {
            map_fail(map, "%s: fstat: %s", spec, strerror(errno));
            map->broken = 1;
            return map;
        }
        map->path_checked = time(NULL);
    }
    if (mode == MAP_UPDATE && map_needs_lock(map) && lock_file(map, LOCK_EX) < 0)
        map->broken = 1;
    return map;
}

map_t  *map_open(const char *spec, int mode, int flags)
{
    map_t  *map = map_open_unregistered(spec, mode, flags);

    if (!map->broken && mode == MAP_READ && map->fd >= 0) {
        map->next_open = open_maps;
        open_maps = map;
    }
    return map;
}

/* Mode of a new table file: that of the file it replaces, if any. */
static void map_inherit_file_attributes(map_t *map, mode_t file_mode)
{
    struct stat st;

    if (stat(map->final_path, &st) == 0) {
        file_mode = st.st_mode & 07777;
        if (geteuid() == 0 && chown(map->temp_path, st.st_uid, st.st_gid) < 0)
            msg_warn("%s: chown: %m", map->temp_path);
    }
    if (chmod(map->temp_path, file_mode) < 0)
        msg_warn("%s: chmod: %m", map->temp_path);
}

map_t  *map_create(const char *spec, int flags, mode_t file_mode)
{
    map_t  *map = map_new(spec, MAP_CREATING, flags);
    strbuf *path;

    if (map_resolve_type(map) < 0) {
        map->broken = 1;
        return map;
    }
    if (map->type->create == NULL) {
        map_fail(map, "unsupported dictionary type: %s does not support bulk-mode creation.",
                 map->type->name);
        map->broken = 1;
        return map;
    }
    map_settle_nul_flags(map);
    path = strbuf_new(256);
    strbuf_printf(path, "%s%s", map->name, map->type->suffix ? map->type->suffix : "");
    map->final_path = xstrdup(path->data);
    strbuf_append_printf(path, ".%ld.tmp", (long) getpid());
    map->temp_path = strbuf_steal(path);
    if (unlink(map->temp_path) < 0 && errno != ENOENT)
        msg_warn("remove stale %s: %m", map->temp_path);
    map->next_temp = temp_maps;
    temp_maps = map;
    if (map->type->create(map, map->temp_path, map->error) < 0) {
        map->broken = 1;
        return map;
    }
    map_inherit_file_attributes(map, file_mode);
    return map;
}

static int fsync_path(const char *path, int flags)
{
    int     fd = open(path, flags | O_CLOEXEC);
    int     status;

    if (fd < 0)
        return -1;
    status = fsync(fd);
    close(fd);
    return status;
}

int     map_commit(map_t *map)
{
    char   *dir;

    if (map->broken)
        return MAP_ERROR;
    if (map->mode != MAP_CREATING || map->committed)
        msg_panic("map_commit: %s was not created by map_create", map->spec);
    if (map->type->finish(map, map->error) < 0)
        return MAP_ERROR;
    map->impl = NULL;
    if (fsync_path(map->temp_path, O_RDONLY) < 0)
        return map_fail(map, "fsync %s: %s", map->temp_path, strerror(errno));
    if (rename(map->temp_path, map->final_path) < 0)
        return map_fail(map, "rename %s to %s: %s", map->temp_path, map->final_path,
                        strerror(errno));
    map->committed = 1;
    forget_temp_map(map);
    dir = xstrdup(map->final_path);
    if (fsync_path(dirname(dir), O_RDONLY | O_DIRECTORY) < 0)
        msg_warn("fsync directory of %s: %m", map->final_path);
    free(dir);
    return MAP_OK;
}

void    map_close(map_t *map)
{
    if (map == NULL)
        return;
    forget_open_map(map);
    forget_temp_map(map);
    if (map->impl && map->type && map->type->close)
        map->type->close(map);
    if (map->fd_owned && map->fd >= 0)
        close(map->fd);
    if (map->mode == MAP_CREATING && !map->committed && map->temp_path)
        unlink(map->temp_path);
    free(map->spec);
    free(map->type_name);
    free(map->name);
    free(map->path);
    free(map->temp_path);
    free(map->final_path);
    strbuf_free(map->key);
    strbuf_free(map->value);
    strbuf_free(map->seq_key);
    strbuf_free(map->error);
    free(map);
}

void    map_remove_temp_files(void)
{
    for (map_t *map = temp_maps; map; map = map->next_temp)
        if (map->temp_path)
            unlink(map->temp_path);
}

/* Change detection ------------------------------------------------------ */

static int same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Did the open file change, or does its name lead elsewhere now? */
static int map_file_changed(map_t *map)
{
    struct stat st;
    time_t  now;

    if (fstat(map->fd, &st) < 0 || st.st_nlink == 0 || st.st_size != map->file_st.st_size
        || !same_time(st.st_mtim, map->file_st.st_mtim)
        || !same_time(st.st_ctim, map->file_st.st_ctim))
        return 1;
    now = time(NULL);
    if (now - map->path_checked < MAP_PATH_CHECK_INTERVAL || map->path == NULL)
        return 0;
    map->path_checked = now;
    return stat(map->path, &st) == 0
        && (st.st_dev != map->file_st.st_dev || st.st_ino != map->file_st.st_ino);
}

static int root_moved(const map_t *map)
{
    struct stat st;

    return stat("/", &st) < 0 || st.st_dev != map->root_st.st_dev
        || st.st_ino != map->root_st.st_ino;
}

#define SWAP(type, a, b) do { type tmp_ = (a); (a) = (b); (b) = tmp_; } while (0)

/* Moves the freshly opened table into `map`; `fresh` gets the old one. */
static void map_swap_tables(map_t *map, map_t *fresh)
{
    SWAP(void *, map->impl, fresh->impl);
    SWAP(char *, map->path, fresh->path);
    SWAP(int, map->fd, fresh->fd);
    SWAP(int, map->fd_owned, fresh->fd_owned);
    SWAP(int, map->flags, fresh->flags);
    SWAP(struct stat, map->file_st, fresh->file_st);
    SWAP(struct stat, map->root_st, fresh->root_st);
    SWAP(time_t, map->path_checked, fresh->path_checked);
}

/* The file changed: reopen by name when that still means the same file. */
static void map_reload(map_t *map)
{
    map_t  *fresh;

    if (root_moved(map)) {
        map->changed = 1;
        return;
    }
    fresh = map_open_unregistered(map->spec, MAP_READ, map->open_flags);
    if (fresh->broken) {
        msg_warn("%s has changed but cannot be reopened (%s); still using the old table",
                 map->spec, map_error(fresh));
        map->changed = 1;
    } else {
        map_swap_tables(map, fresh);
        if (msg_verbose)
            msg_info("%s has changed: reopened", map->spec);
    }
    map_close(fresh);
}

/* Takes the read lock (when the type locks) on an up-to-date table. */
static int map_begin_read(map_t *map)
{
    if (map->mode != MAP_READ || map->fd < 0)
        return 0;
    if (map_needs_lock(map) && lock_file(map, LOCK_SH) < 0)
        return -1;
    if (map->changed || !map_file_changed(map))
        return 0;
    if (map_needs_lock(map))
        (void) flock(map->fd, LOCK_UN);
    map_reload(map);
    return map_needs_lock(map) ? lock_file(map, LOCK_SH) : 0;
}

static void map_end_read(map_t *map)
{
    if (map->mode == MAP_READ && map_needs_lock(map))
        (void) flock(map->fd, LOCK_UN);
}

const char *map_changed_name(void)
{
    for (map_t *map = open_maps; map; map = map->next_open) {
        if (!map->changed && map_file_changed(map))
            map_reload(map);
        if (map->changed)
            return map->spec;
    }
    return NULL;
}

/* Operations ------------------------------------------------------------ */

static const char *map_prepare_key(map_t *map, const char *key)
{
    strbuf_set(map->key, key);
    if ((map->flags & MAP_FLAG_FOLD) && (map->flags & MAP_FLAG_FIXED))
        strbuf_lowercase(map->key);
    return map->key->data;
}

static int map_unsupported(map_t *map, const char *operation)
{
    return map_fail(map, "table %s: %s operation is not supported", map->spec, operation);
}

int     map_lookup(map_t *map, const char *key, const char **value)
{
    int     status;

    *value = NULL;
    if (map->broken)
        return MAP_ERROR;
    if (map->type->lookup == NULL || map->mode == MAP_CREATING)
        return map_unsupported(map, "lookup");
    if (map_begin_read(map) < 0)
        return MAP_ERROR;
    status = map->type->lookup(map, map_prepare_key(map, key), map->value);
    map_end_read(map);
    if (status == MAP_OK)
        *value = map->value->data;
    return status;
}

int     map_update(map_t *map, const char *key, const char *value)
{
    int     status;

    if (map->broken)
        return MAP_ERROR;
    if (map->type->update == NULL || map->mode == MAP_READ)
        return map_unsupported(map, "update");
    status = map->type->update(map, map_prepare_key(map, key), value,
                               (map->flags & MAP_FLAG_DUP_REPLACE) != 0);
    if (status == MAP_DUPLICATE && !(map->flags & MAP_FLAG_DUP_IGNORE))
        msg_warn("%s: duplicate entry: \"%s\"",
                 map->final_path ? map->final_path : map->path ? map->path : map->spec,
                 map->key->data);
    return status;
}

int     map_add_if_absent(map_t *map, const char *key, const char *value)
{
    if (map->broken)
        return MAP_ERROR;
    if (map->type->update == NULL || map->mode == MAP_READ)
        return map_unsupported(map, "update");
    return map->type->update(map, map_prepare_key(map, key), value, 0);
}

int     map_delete(map_t *map, const char *key)
{
    if (map->broken)
        return MAP_ERROR;
    if (map->type->delete == NULL || map->mode != MAP_UPDATE)
        return map_unsupported(map, "delete");
    return map->type->delete(map, map_prepare_key(map, key));
}

int     map_sequence(map_t *map, int first, const char **key, const char **value)
{
    int     status;

    *key = *value = NULL;
    if (map->broken)
        return MAP_ERROR;
    if (map->type->sequence == NULL || map->mode == MAP_CREATING)
        return map_unsupported(map, "sequence");
    if (first && map_begin_read(map) < 0)
        return MAP_ERROR;
    if (!first && map->mode == MAP_READ && map_needs_lock(map)
        && lock_file(map, LOCK_SH) < 0)
        return MAP_ERROR;
    status = map->type->sequence(map, first, map->seq_key, map->value);
    map_end_read(map);
    if (status == MAP_OK) {
        *key = map->seq_key->data;
        *value = map->value->data;
    }
    return status;
}

/* Accessors -------------------------------------------------------------- */

int     map_broken(const map_t *map)
{
    return map->broken;
}

const char *map_error(const map_t *map)
{
    return map->error->data;
}

const char *map_spec(const map_t *map)
{
    return map->spec;
}

int     map_flags(const map_t *map)
{
    return map->flags;
}

int     map_can_create(const char *type)
{
    const map_type *found = map_type_find(type);

    return found != NULL && found->create != NULL;
}

const char *map_file_suffix(const char *type)
{
    const map_type *found = map_type_find(type);

    return found && found->suffix ? found->suffix : "";
}

/* Helpers for database types -------------------------------------------- */

void    map_strip_nul(strbuf *text)
{
    if (text->len > 0 && text->data[text->len - 1] == 0)
        strbuf_truncate(text, text->len - 1);
}

size_t  map_nul_length(const map_t *map, const char *text)
{
    return strlen(text) + ((map->flags & MAP_FLAG_NUL) ? 1 : 0);
}

int     map_nul_lookup(map_t *map, const char *key, map_get_fn get, strbuf *value)
{
    size_t  len = strlen(key);
    int     status;

    if (map->flags & MAP_FLAG_NUL) {
        if ((status = get(map, key, len + 1, value)) == MAP_OK) {
            map->flags &= ~MAP_FLAG_NO_NUL;     /* this table's convention */
            if (value)
                map_strip_nul(value);
        }
        if (status != MAP_NOTFOUND)
            return status;
    }
    if (map->flags & MAP_FLAG_NO_NUL) {
        if ((status = get(map, key, len, value)) == MAP_OK)
            map->flags &= ~MAP_FLAG_NUL;
        return status;
    }
    return MAP_NOTFOUND;
}
