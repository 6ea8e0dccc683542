/*
 * map_cdb - cdb: constant databases (name.cdb) through tinycdb (libcdb).
 *
 * A cdb file is written once and never changed, so there is no in-place
 * update or delete: postmap rebuilds the whole file. Keys and values are
 * stored without the terminating NUL by default, as Postfix writes them.
 * Readers map the file into memory; the descriptor stays open for change
 * detection. Unlike Postfix, sequence (postmap -s) is supported.
 */
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "map_impl.h"
#include "mem.h"

typedef struct cdb_table {
    struct cdb reader;
    struct cdb_make writer;
    int     writer_fd;
    unsigned cursor;
} cdb_table;

static cdb_table *cdbmap_of(map_t *map)
{
    return map->impl;
}

static int cdbmap_open(map_t *map, strbuf *why)
{
    strbuf *path = strbuf_new(256);
    cdb_table *table;
    int     fd;

    strbuf_printf(path, "%s%s", map->name, map->type->suffix);
    if ((fd = open(path->data, O_RDONLY | O_CLOEXEC)) < 0) {
        strbuf_printf(why, "open database %s: %s", path->data, strerror(errno));
        strbuf_free(path);
        return -1;
    }
    map->fd = fd;
    map->fd_owned = 1;
    map->path = strbuf_steal(path);
    table = xcalloc(1, sizeof(*table));
    table->writer_fd = -1;
    if (cdb_init(&table->reader, fd) < 0) {
        strbuf_printf(why, "open database %s: %s", map->path,
                      errno ? strerror(errno) : "not a cdb file");
        free(table);
        return -1;
    }
    map->impl = table;
    return 0;
}

static int cdbmap_create(map_t *map, const char *path, strbuf *why)
{
    cdb_table *table = xcalloc(1, sizeof(*table));

    if ((table->writer_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        strbuf_printf(why, "open database %s: %s", path, strerror(errno));
        free(table);
        return -1;
    }
    if (cdb_make_start(&table->writer, table->writer_fd) < 0) {
        strbuf_printf(why, "%s: cdb_make_start: %s", path, strerror(errno));
        close(table->writer_fd);
        free(table);
        return -1;
    }
    map->impl = table;
    return 0;
}

static int cdbmap_get(map_t *map, const void *key, size_t len, strbuf *value)
{
    struct cdb *reader = &cdbmap_of(map)->reader;
    const void *data;
    int     found;

    if (len >= UINT_MAX)
        return MAP_NOTFOUND;
    if ((found = cdb_find(reader, key, (unsigned) len)) < 0)
        return map_fail(map, "%s: read error: %s", map->path, strerror(errno));
    if (found == 0)
        return MAP_NOTFOUND;
    if ((data = cdb_get(reader, cdb_datalen(reader), cdb_datapos(reader))) == NULL)
        return map_fail(map, "%s: corrupt database", map->path);
    strbuf_set_mem(value, data, cdb_datalen(reader));
    return MAP_OK;
}

static int cdbmap_lookup(map_t *map, const char *key, strbuf *value)
{
    return map_nul_lookup(map, key, cdbmap_get, value);
}

static int cdbmap_update(map_t *map, const char *key, const char *value, int replace)
{
    struct cdb_make *writer = &cdbmap_of(map)->writer;
    size_t  key_len = map_nul_length(map, key);
    size_t  value_len = map_nul_length(map, value);
    int     exists;

    if (map->mode != MAP_CREATING)
        return map_fail(map, "table %s: update operation is not supported", map->spec);
    if (key_len >= UINT_MAX || value_len >= UINT_MAX)
        return map_fail(map, "%s: key or value too long", map->spec);
    if ((exists = cdb_make_exists(writer, key, (unsigned) key_len)) < 0)
        return map_fail(map, "%s: write error: %s", map->spec, strerror(errno));
    if (exists && !replace)
        return MAP_DUPLICATE;
    if (cdb_make_put(writer, key, (unsigned) key_len, value, (unsigned) value_len,
                     exists ? CDB_PUT_REPLACE : CDB_PUT_ADD) < 0)
        return map_fail(map, "%s: write error: %s", map->spec, strerror(errno));
    return MAP_OK;
}

static int cdbmap_copy(map_t *map, strbuf *out, unsigned len, unsigned pos)
{
    const void *data = cdb_get(&cdbmap_of(map)->reader, len, pos);

    if (data == NULL)
        return map_fail(map, "%s: corrupt database", map->path);
    strbuf_set_mem(out, data, len);
    map_strip_nul(out);
    return MAP_OK;
}

static int cdbmap_sequence(map_t *map, int first, strbuf *key, strbuf *value)
{
    cdb_table *table = cdbmap_of(map);
    int     next;

    if (first)
        cdb_seqinit(&table->cursor, &table->reader);
    if ((next = cdb_seqnext(&table->cursor, &table->reader)) < 0)
        return map_fail(map, "%s: read error: %s", map->path, strerror(errno));
    if (next == 0)
        return MAP_NOTFOUND;
    if (cdbmap_copy(map, key, cdb_keylen(&table->reader), cdb_keypos(&table->reader)) != MAP_OK
        || cdbmap_copy(map, value, cdb_datalen(&table->reader),
                    cdb_datapos(&table->reader)) != MAP_OK)
        return MAP_ERROR;
    return MAP_OK;
}

static int cdbmap_finish(map_t *map, strbuf *why)
{
    cdb_table *table = cdbmap_of(map);
    int     status = 0;

    if (cdb_make_finish(&table->writer) < 0) {
        strbuf_printf(why, "%s: write error: %s", map->spec, strerror(errno));
        status = -1;
    }
    if (close(table->writer_fd) < 0 && status == 0) {
        strbuf_printf(why, "%s: close: %s", map->spec, strerror(errno));
        status = -1;
    }
    free(table);
    map->impl = NULL;
    return status;
}

static void cdbmap_close(map_t *map)
{
    cdb_table *table = cdbmap_of(map);

    if (table->writer_fd >= 0) {
        (void) cdb_make_finish(&table->writer);     /* frees its memory; file discarded */
        close(table->writer_fd);
    } else {
        cdb_free(&table->reader);
    }
    free(table);
    map->impl = NULL;
}

const map_type map_type_cdb = {
    .name = "cdb",
    .suffix = ".cdb",
    .properties = MAP_FLAG_FIXED,
    .open = cdbmap_open,
    .create = cdbmap_create,
    .lookup = cdbmap_lookup,
    .update = cdbmap_update,
    .sequence = cdbmap_sequence,
    .finish = cdbmap_finish,
    .close = cdbmap_close,
};
