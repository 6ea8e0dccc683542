/*
 * map_lmdb - lmdb: tables in one LMDB file (name.lmdb), without Berkeley DB.
 *
 * The file is opened with MDB_NOSUBDIR and MDB_NOLOCK, as Postfix does:
 * no lock file; map.c's flock on the data file keeps readers and in-place
 * writers apart instead. The map starts at lmdb_map_size bytes and doubles
 * whenever a write finds it full. A table being created is written in
 * batches; the puts of the open batch are remembered so that a batch that
 * hits the size limit is replayed after the map has grown. Writes are not
 * synced one by one: a created table is synced before it is renamed into
 * place, an updated one when it is closed (under the exclusive lock).
 */
#include <limits.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "mail_params.h"
#include "map_impl.h"
#include "mem.h"
#include "msg.h"

#define LMDB_BATCH      10000           /* puts per transaction when creating */
#define LMDB_DEFAULT_MAP_SIZE (16L * 1024 * 1024)

typedef struct lmdb_table {
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;                       /* creation batch, or sequence */
    MDB_cursor *cursor;                 /* sequence */
    size_t  map_size;
    argv_t *batch;                      /* creation: key, value, "r"/"" per put */
} lmdb_table;

static lmdb_table *lmdb_of(map_t *map)
{
    return map->impl;
}

static void lmdb_entry(MDB_val *val, const void *data, size_t len)
{
    val->mv_data = (void *) data;
    val->mv_size = len;
}

static int lmdb_open_env(map_t *map, const char *path, unsigned int flags, strbuf *why)
{
    lmdb_table *table = xcalloc(1, sizeof(*table));
    MDB_txn *txn;
    int     err;

    table->map_size = var_lmdb_map_size > 0 ? (size_t) var_lmdb_map_size :
        LMDB_DEFAULT_MAP_SIZE;
    if ((err = mdb_env_create(&table->env)) != 0
        || (err = mdb_env_set_mapsize(table->env, table->map_size)) != 0
        || (err = mdb_env_open(table->env, path, flags | MDB_NOSUBDIR | MDB_NOLOCK, 0600)) != 0
        || (err = mdb_txn_begin(table->env, NULL, flags & MDB_RDONLY, &txn)) != 0) {
        strbuf_printf(why, "open database %s: %s", path, mdb_strerror(err));
        mdb_env_close(table->env);
        free(table);
        return -1;
    }
    if ((err = mdb_dbi_open(txn, NULL, 0, &table->dbi)) != 0
        || (err = mdb_txn_commit(txn)) != 0) {
        strbuf_printf(why, "open database %s: %s", path, mdb_strerror(err));
        mdb_env_close(table->env);
        free(table);
        return -1;
    }
    (void) mdb_env_get_fd(table->env, &map->fd);
    map->impl = table;
    return 0;
}

static int lmdb_open(map_t *map, strbuf *why)
{
    strbuf *path = strbuf_new(256);

    strbuf_printf(path, "%s%s", map->name, map->type->suffix);
    if (lmdb_open_env(map, path->data, map->mode == MAP_READ ? MDB_RDONLY : MDB_NOSYNC,
                      why) < 0) {
        strbuf_free(path);
        return -1;
    }
    map->path = strbuf_steal(path);
    return 0;
}

static int lmdb_begin_batch(map_t *map)
{
    int     err;

    if ((err = mdb_txn_begin(lmdb_of(map)->env, NULL, 0, &lmdb_of(map)->txn)) != 0)
        return map_fail(map, "%s: begin transaction: %s", map->spec, mdb_strerror(err));
    return MAP_OK;
}

static int lmdb_create(map_t *map, const char *path, strbuf *why)
{
    if (lmdb_open_env(map, path, MDB_NOSYNC, why) < 0)
        return -1;
    map->fd = -1;                       /* a temporary file is not watched */
    lmdb_of(map)->batch = argv_new(3 * 64);
    if (lmdb_begin_batch(map) != MAP_OK) {
        if (why != map->error)
            strbuf_set(why, map->error->data);
        return -1;
    }
    return 0;
}

/* Doubles the map size; no transaction may be open. */
static int lmdb_grow(map_t *map)
{
    lmdb_table *table = lmdb_of(map);
    int     err;

    if (table->map_size > SIZE_MAX / 2)
        return map_fail(map, "%s: database is full", map->spec);
    table->map_size *= 2;
    if ((err = mdb_env_set_mapsize(table->env, table->map_size)) != 0)
        return map_fail(map, "%s: grow map to %zu bytes: %s", map->spec, table->map_size,
                        mdb_strerror(err));
    return MAP_OK;
}

static int lmdb_put(map_t *map, MDB_txn *txn, const char *key, const char *value, int replace)
{
    MDB_val mkey;
    MDB_val mvalue;
    int     err;

    lmdb_entry(&mkey, key, map_nul_length(map, key));
    lmdb_entry(&mvalue, value, map_nul_length(map, value));
    err = mdb_put(txn, lmdb_of(map)->dbi, &mkey, &mvalue, replace ? 0 : MDB_NOOVERWRITE);
    if (err == MDB_KEYEXIST)
        return MAP_DUPLICATE;
    if (err == MDB_MAP_FULL)
        return MAP_NOTFOUND;            /* caller grows and retries */
    if (err != 0)
        return map_fail(map, "%s: write error: %s", map->spec, mdb_strerror(err));
    return MAP_OK;
}

/* Creation: the batch did not fit; grow and write it again. */
static int lmdb_replay_batch(map_t *map)
{
    lmdb_table *table = lmdb_of(map);
    int     status = MAP_NOTFOUND;

    while (status == MAP_NOTFOUND) {
        mdb_txn_abort(table->txn);
        table->txn = NULL;
        if (lmdb_grow(map) != MAP_OK || lmdb_begin_batch(map) != MAP_OK)
            return MAP_ERROR;
        status = MAP_OK;
        for (size_t i = 0; status != MAP_NOTFOUND && status != MAP_ERROR
             && i < table->batch->count; i += 3)
            status = lmdb_put(map, table->txn, table->batch->items[i],
                              table->batch->items[i + 1], table->batch->items[i + 2][0] != 0);
    }
    return status == MAP_ERROR ? MAP_ERROR : MAP_OK;
}

static int lmdb_commit_batch(map_t *map)
{
    lmdb_table *table = lmdb_of(map);
    int     err;

    while ((err = mdb_txn_commit(table->txn)) == MDB_MAP_FULL) {
        table->txn = NULL;
        if (lmdb_begin_batch(map) != MAP_OK || lmdb_replay_batch(map) != MAP_OK)
            return MAP_ERROR;
    }
    table->txn = NULL;
    if (err != 0)
        return map_fail(map, "%s: commit: %s", map->spec, mdb_strerror(err));
    argv_truncate(table->batch, 0);
    return MAP_OK;
}

static int lmdb_update_creating(map_t *map, const char *key, const char *value, int replace)
{
    lmdb_table *table = lmdb_of(map);
    int     status;

    while ((status = lmdb_put(map, table->txn, key, value, replace)) == MAP_NOTFOUND)
        if (lmdb_replay_batch(map) != MAP_OK)
            return MAP_ERROR;
    if (status != MAP_OK)
        return status;
    argv_add(table->batch, key);
    argv_add(table->batch, value);
    argv_add(table->batch, replace ? "r" : "");
    if (table->batch->count >= 3 * LMDB_BATCH
        && (lmdb_commit_batch(map) != MAP_OK || lmdb_begin_batch(map) != MAP_OK))
        return MAP_ERROR;
    return MAP_OK;
}

/* In place: one transaction per update, growing the map when it is full. */
static int lmdb_update_in_place(map_t *map, const char *key, const char *value, int replace)
{
    MDB_txn *txn;
    int     status;
    int     err;

    for (;;) {
        if ((err = mdb_txn_begin(lmdb_of(map)->env, NULL, 0, &txn)) != 0)
            return map_fail(map, "%s: begin transaction: %s", map->spec, mdb_strerror(err));
        if ((status = lmdb_put(map, txn, key, value, replace)) != MAP_OK) {
            mdb_txn_abort(txn);
        } else if ((err = mdb_txn_commit(txn)) == MDB_MAP_FULL) {
            status = MAP_NOTFOUND;
        } else if (err != 0) {
            return map_fail(map, "%s: commit: %s", map->spec, mdb_strerror(err));
        }
        if (status != MAP_NOTFOUND)
            return status;
        if (lmdb_grow(map) != MAP_OK)
            return MAP_ERROR;
    }
}

static int lmdb_update(map_t *map, const char *key, const char *value, int replace)
{
    if (map_nul_length(map, key) > 511)     /* LMDB's default key size limit */
        return map_fail(map, "%s: key too long: \"%.40s...\"", map->spec, key);
    return map->mode == MAP_CREATING ? lmdb_update_creating(map, key, value, replace)
        : lmdb_update_in_place(map, key, value, replace);
}

static int lmdb_get(map_t *map, const void *key, size_t len, strbuf *value)
{
    MDB_txn *txn;
    MDB_val mkey;
    MDB_val mvalue;
    int     err;

    if ((err = mdb_txn_begin(lmdb_of(map)->env, NULL, MDB_RDONLY, &txn)) != 0)
        return map_fail(map, "%s: begin transaction: %s", map->spec, mdb_strerror(err));
    lmdb_entry(&mkey, key, len);
    err = mdb_get(txn, lmdb_of(map)->dbi, &mkey, &mvalue);
    if (err == 0)
        strbuf_set_mem(value, mvalue.mv_data, mvalue.mv_size);
    mdb_txn_abort(txn);
    if (err == MDB_NOTFOUND || err == MDB_BAD_VALSIZE)
        return MAP_NOTFOUND;
    if (err != 0)
        return map_fail(map, "%s: read error: %s", map->spec, mdb_strerror(err));
    return MAP_OK;
}

static int lmdb_lookup(map_t *map, const char *key, strbuf *value)
{
    return map_nul_lookup(map, key, lmdb_get, value);
}

static int lmdb_remove(map_t *map, const void *key, size_t len, strbuf *unused)
{
    MDB_txn *txn;
    MDB_val mkey;
    int     err;

    if ((err = mdb_txn_begin(lmdb_of(map)->env, NULL, 0, &txn)) != 0)
        return map_fail(map, "%s: begin transaction: %s", map->spec, mdb_strerror(err));
    lmdb_entry(&mkey, key, len);
    if ((err = mdb_del(txn, lmdb_of(map)->dbi, &mkey, NULL)) != 0) {
        mdb_txn_abort(txn);
        if (err == MDB_NOTFOUND || err == MDB_BAD_VALSIZE)
            return MAP_NOTFOUND;
        return map_fail(map, "%s: delete error: %s", map->spec, mdb_strerror(err));
    }
    if ((err = mdb_txn_commit(txn)) != 0)
        return map_fail(map, "%s: commit: %s", map->spec, mdb_strerror(err));
    return MAP_OK;
}

static int lmdb_delete(map_t *map, const char *key)
{
    return map_nul_lookup(map, key, lmdb_remove, NULL);
}

static void lmdb_end_sequence(lmdb_table *table)
{
    if (table->cursor)
        mdb_cursor_close(table->cursor);
    if (table->txn)
        mdb_txn_abort(table->txn);
    table->cursor = NULL;
    table->txn = NULL;
}

static int lmdb_sequence(map_t *map, int first, strbuf *key, strbuf *value)
{
    lmdb_table *table = lmdb_of(map);
    MDB_val mkey;
    MDB_val mvalue;
    int     err;

    if (first)
        lmdb_end_sequence(table);
    if (table->cursor == NULL) {
        if (!first)
            return MAP_NOTFOUND;
        if ((err = mdb_txn_begin(table->env, NULL, MDB_RDONLY, &table->txn)) != 0
            || (err = mdb_cursor_open(table->txn, table->dbi, &table->cursor)) != 0) {
            lmdb_end_sequence(table);
            return map_fail(map, "%s: cursor: %s", map->spec, mdb_strerror(err));
        }
    }
    if ((err = mdb_cursor_get(table->cursor, &mkey, &mvalue, first ? MDB_FIRST : MDB_NEXT))) {
        lmdb_end_sequence(table);
        if (err == MDB_NOTFOUND)
            return MAP_NOTFOUND;
        return map_fail(map, "%s: read error: %s", map->spec, mdb_strerror(err));
    }
    strbuf_set_mem(key, mkey.mv_data, mkey.mv_size);
    strbuf_set_mem(value, mvalue.mv_data, mvalue.mv_size);
    map_strip_nul(key);
    map_strip_nul(value);
    return MAP_OK;
}

static void lmdb_close(map_t *map)
{
    lmdb_table *table = lmdb_of(map);
    int     err;

    lmdb_end_sequence(table);
    if (map->mode == MAP_UPDATE && (err = mdb_env_sync(table->env, 1)) != 0)
        msg_warn("%s: sync: %s", map->spec, mdb_strerror(err));
    mdb_env_close(table->env);
    if (table->batch)
        argv_free(table->batch);
    free(table);
    map->impl = NULL;
    map->fd = -1;
}

/* Creation: commit the last batch, write everything out, release the file. */
static int lmdb_finish(map_t *map, strbuf *why)
{
    int     status = lmdb_commit_batch(map);
    int     err;

    if (status == MAP_OK && (err = mdb_env_sync(lmdb_of(map)->env, 1)) != 0)
        status = map_fail(map, "%s: sync: %s", map->spec, mdb_strerror(err));
    if (status != MAP_OK) {
        if (why != map->error)
            strbuf_set(why, map->error->data);
        return -1;
    }
    lmdb_close(map);
    return 0;
}

const map_type map_type_lmdb = {
    .name = "lmdb",
    .suffix = ".lmdb",
    .properties = MAP_FLAG_FIXED | MAP_TYPE_LOCK | MAP_TYPE_DEFAULT_NUL,
    .open = lmdb_open,
    .create = lmdb_create,
    .lookup = lmdb_lookup,
    .update = lmdb_update,
    .delete = lmdb_delete,
    .sequence = lmdb_sequence,
    .finish = lmdb_finish,
    .close = lmdb_close,
};
