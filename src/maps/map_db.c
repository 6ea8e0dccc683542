/*
 * map_db - hash: and btree: tables in Berkeley DB 5.3 files (name.db).
 *
 * The files are plain Berkeley DB databases without an environment, as
 * Postfix writes them, so db5.3_dump reads ours and we read Postfix's.
 * Readers open read-only with a cache of berkeley_db_read_buffer_size
 * bytes; creation uses berkeley_db_create_buffer_size. The database's own
 * descriptor is the one map.c watches and locks. Library messages go to
 * the log as warnings.
 */
#include <db.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mail_params.h"
#include "map_impl.h"
#include "mem.h"
#include "msg.h"

typedef struct db_table {
    DB     *db;
    DBC    *cursor;                     /* during sequence */
} db_table;

static void db_log_error(const DB_ENV *env, const char *prefix, const char *text)
{
    msg_warn("%s", text);
}

static DB *db_table_of(map_t *map)
{
    return ((db_table *) map->impl)->db;
}

static int db_open_file(map_t *map, const char *path, DBTYPE type, u_int32_t open_flags,
                        int cache_size, strbuf *why)
{
    db_table *table = xcalloc(1, sizeof(*table));
    DB     *db;
    int     err;

    if ((err = db_create(&db, NULL, 0)) != 0) {
        strbuf_printf(why, "db_create: %s", db_strerror(err));
        free(table);
        return -1;
    }
    db->set_errcall(db, db_log_error);
    if (cache_size > 0 && (err = db->set_cachesize(db, 0, (u_int32_t) cache_size, 0)) != 0)
        msg_warn("%s: set cache size: %s", path, db_strerror(err));
    if ((err = db->open(db, NULL, path, NULL, type, open_flags, 0600)) != 0
        || (err = db->fd(db, &map->fd)) != 0) {
        strbuf_printf(why, "open database %s: %s", path, db_strerror(err));
        db->close(db, 0);
        free(table);
        map->fd = -1;
        return -1;
    }
    table->db = db;
    map->impl = table;
    return 0;
}

static int db_open_table(map_t *map, DBTYPE type, strbuf *why)
{
    strbuf *path = strbuf_new(256);
    int     status;

    strbuf_printf(path, "%s%s", map->name, map->type->suffix);
    status = db_open_file(map, path->data, type,
                          map->mode == MAP_READ ? DB_RDONLY : 0,
                          var_berkeley_db_read_buffer_size, why);
    if (status == 0)
        map->path = strbuf_steal(path);
    else
        strbuf_free(path);
    return status;
}

static int hash_open(map_t *map, strbuf *why)
{
    return db_open_table(map, DB_HASH, why);
}

static int btree_open(map_t *map, strbuf *why)
{
    return db_open_table(map, DB_BTREE, why);
}

static int hash_create(map_t *map, const char *path, strbuf *why)
{
    return db_open_file(map, path, DB_HASH, DB_CREATE | DB_EXCL,
                        var_berkeley_db_create_buffer_size, why);
}

static int btree_create(map_t *map, const char *path, strbuf *why)
{
    return db_open_file(map, path, DB_BTREE, DB_CREATE | DB_EXCL,
                        var_berkeley_db_create_buffer_size, why);
}

static void db_entry(DBT *dbt, const void *data, size_t len)
{
    memset(dbt, 0, sizeof(*dbt));
    dbt->data = (void *) data;
    dbt->size = (u_int32_t) len;
}

static int db_get(map_t *map, const void *key, size_t len, strbuf *value)
{
    DBT     dkey;
    DBT     dvalue;
    int     err;

    db_entry(&dkey, key, len);
    db_entry(&dvalue, NULL, 0);
    if ((err = db_table_of(map)->get(db_table_of(map), NULL, &dkey, &dvalue, 0)) == DB_NOTFOUND)
        return MAP_NOTFOUND;
    if (err != 0)
        return map_fail(map, "%s: read error: %s", map->path, db_strerror(err));
    strbuf_set_mem(value, dvalue.data, dvalue.size);
    return MAP_OK;
}

static int db_remove(map_t *map, const void *key, size_t len, strbuf *unused)
{
    DBT     dkey;
    int     err;

    db_entry(&dkey, key, len);
    if ((err = db_table_of(map)->del(db_table_of(map), NULL, &dkey, 0)) == DB_NOTFOUND)
        return MAP_NOTFOUND;
    if (err != 0)
        return map_fail(map, "%s: delete error: %s", map->path, db_strerror(err));
    return MAP_OK;
}

static int db_lookup(map_t *map, const char *key, strbuf *value)
{
    if (strlen(key) >= UINT_MAX)
        return MAP_NOTFOUND;
    return map_nul_lookup(map, key, db_get, value);
}

static int db_delete(map_t *map, const char *key)
{
    int     status;

    if (strlen(key) >= UINT_MAX)
        return MAP_NOTFOUND;
    if ((status = map_nul_lookup(map, key, db_remove, NULL)) == MAP_OK
        && db_table_of(map)->sync(db_table_of(map), 0) != 0)
        return map_fail(map, "%s: sync error", map->path);
    return status;
}

static int db_update(map_t *map, const char *key, const char *value, int replace)
{
    size_t  key_len = map_nul_length(map, key);
    size_t  value_len = map_nul_length(map, value);
    DBT     dkey;
    DBT     dvalue;
    int     err;

    if (key_len >= UINT_MAX || value_len >= UINT_MAX)
        return map_fail(map, "%s: key or value too long", map->spec);
    db_entry(&dkey, key, key_len);
    db_entry(&dvalue, value, value_len);
    err = db_table_of(map)->put(db_table_of(map), NULL, &dkey, &dvalue,
                                replace ? 0 : DB_NOOVERWRITE);
    if (err == DB_KEYEXIST)
        return MAP_DUPLICATE;
    if (err != 0)
        return map_fail(map, "%s: write error: %s", map->spec, db_strerror(err));
    return MAP_OK;
}

static int db_sequence(map_t *map, int first, strbuf *key, strbuf *value)
{
    db_table *table = map->impl;
    DBT     dkey;
    DBT     dvalue;
    int     err;

    if (first && table->cursor) {
        table->cursor->close(table->cursor);
        table->cursor = NULL;
    }
    if (table->cursor == NULL && (err = table->db->cursor(table->db, NULL, &table->cursor, 0)))
        return map_fail(map, "%s: cursor: %s", map->spec, db_strerror(err));
    db_entry(&dkey, NULL, 0);
    db_entry(&dvalue, NULL, 0);
    err = table->cursor->get(table->cursor, &dkey, &dvalue, first ? DB_FIRST : DB_NEXT);
    if (err == DB_NOTFOUND) {
        table->cursor->close(table->cursor);
        table->cursor = NULL;
        return MAP_NOTFOUND;
    }
    if (err != 0)
        return map_fail(map, "%s: read error: %s", map->spec, db_strerror(err));
    strbuf_set_mem(key, dkey.data, dkey.size);
    strbuf_set_mem(value, dvalue.data, dvalue.size);
    map_strip_nul(key);
    map_strip_nul(value);
    return MAP_OK;
}

static void db_close(map_t *map)
{
    db_table *table = map->impl;

    if (table->cursor)
        table->cursor->close(table->cursor);
    if (table->db->close(table->db, 0) != 0)
        msg_warn("%s: close error", map->spec);
    free(table);
    map->impl = NULL;
    map->fd = -1;
}

static int db_finish(map_t *map, strbuf *why)
{
    db_table *table = map->impl;
    int     err = table->db->close(table->db, 0);

    table->db = NULL;
    free(table);
    map->impl = NULL;
    map->fd = -1;
    if (err != 0) {
        strbuf_printf(why, "%s: close error: %s", map->spec, db_strerror(err));
        return -1;
    }
    return 0;
}

const map_type map_type_hash = {
    .name = "hash",
    .suffix = ".db",
    .properties = MAP_FLAG_FIXED | MAP_TYPE_LOCK | MAP_TYPE_DEFAULT_NUL,
    .open = hash_open,
    .create = hash_create,
    .lookup = db_lookup,
    .update = db_update,
    .delete = db_delete,
    .sequence = db_sequence,
    .finish = db_finish,
    .close = db_close,
};

const map_type map_type_btree = {
    .name = "btree",
    .suffix = ".db",
    .properties = MAP_FLAG_FIXED | MAP_TYPE_LOCK | MAP_TYPE_DEFAULT_NUL,
    .open = btree_open,
    .create = btree_create,
    .lookup = db_lookup,
    .update = db_update,
    .delete = db_delete,
    .sequence = db_sequence,
    .finish = db_finish,
    .close = db_close,
};
