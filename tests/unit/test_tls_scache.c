/*
 * Unit tests for the TLS session cache: the Berkeley DB table behind
 * tls_scache (store, fetch, remove, expiry, clearing, persistence, bad
 * specifications), entry validation through a memory table, and session
 * serialization. End-to-end resumption is in test_tls_handshake.c.
 */
#include "unit.h"

#include <openssl/ssl.h>

#include "htable.h"
#include "msg.h"
#include "tls.h"
#include "tls_scache.h"

static time_t fake_now;

static time_t fake_clock(void)
{
    return fake_now;
}

static int setup(void **state)
{
    msg_open("postfix/unittest", 0);
    fake_now = 1700000000;
    tls_set_clock(fake_clock);
    return 0;
}

static const char *cache_spec(const char *name)
{
    static char spec[600];

    snprintf(spec, sizeof(spec), "btree:%s/%s", unit_temp_dir(), name);
    return spec;
}

static void test_btree_store_fetch_remove(void **state)
{
    strbuf *why = strbuf_new(32);
    strbuf *der = strbuf_new(32);
    tls_scache *cache = tls_scache_open(cache_spec("basic"), 3600, 0, why);
    char    path[600];
    struct stat st;

    assert_non_null(cache);
    snprintf(path, sizeof(path), "%s/basic.db", unit_temp_dir());
    assert_int_equal(stat(path, &st), 0);       /* ".db" appended, as Postfix */
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(tls_scache_fetch(cache, "abcd", der), 0);
    assert_int_equal(tls_scache_store(cache, "abcd", "\x30\x00\x01", 3), 0);
    assert_int_equal(tls_scache_fetch(cache, "abcd", der), 1);
    assert_int_equal(der->len, 3);
    assert_memory_equal(der->data, "\x30\x00\x01", 3);
    assert_int_equal(tls_scache_store(cache, "abcd", "new", 3), 0);     /* replaces */
    assert_int_equal(tls_scache_fetch(cache, "abcd", der), 1);
    assert_memory_equal(der->data, "new", 3);
    assert_int_equal(tls_scache_remove(cache, "abcd"), 0);
    assert_int_equal(tls_scache_fetch(cache, "abcd", der), 0);
    assert_int_equal(tls_scache_remove(cache, "abcd"), 0);              /* absent: fine */
    assert_int_equal(tls_scache_store(cache, "empty", "", 0), -1);
    tls_scache_close(cache);
    strbuf_free(why);
    strbuf_free(der);
}

static void test_btree_expiry(void **state)
{
    strbuf *why = strbuf_new(32);
    strbuf *der = strbuf_new(32);
    tls_scache *cache = tls_scache_open(cache_spec("expiry"), 100, 0, why);

    assert_int_equal(tls_scache_timeout(cache), 100);
    assert_int_equal(tls_scache_store(cache, "old", "x", 1), 0);
    fake_now += 60;
    assert_int_equal(tls_scache_store(cache, "newer", "y", 1), 0);
    fake_now += 50;                             /* "old" is 110 s old, "newer" 50 s */
    assert_int_equal(tls_scache_fetch(cache, "old", der), 0);
    assert_int_equal(tls_scache_fetch(cache, "newer", der), 1);
    assert_int_equal(tls_scache_store(cache, "a", "1", 1), 0);
    assert_int_equal(tls_scache_store(cache, "b", "2", 1), 0);
    fake_now += 60;                             /* "newer" expired; a and b not */
    assert_int_equal(tls_scache_expire(cache), 1);
    assert_int_equal(tls_scache_fetch(cache, "a", der), 1);
    fake_now += 1000;
    assert_int_equal(tls_scache_expire(cache), 2);
    assert_int_equal(tls_scache_expire(cache), 0);
    tls_scache_close(cache);
    strbuf_free(why);
    strbuf_free(der);
}

static void test_btree_persists_and_clears(void **state)
{
    strbuf *why = strbuf_new(32);
    strbuf *der = strbuf_new(32);
    tls_scache *cache = tls_scache_open(cache_spec("persist"), 3600, 0, why);

    assert_int_equal(tls_scache_store(cache, "key", "value", 5), 0);
    tls_scache_close(cache);
    cache = tls_scache_open(cache_spec("persist"), 3600, 0, why);
    assert_int_equal(tls_scache_fetch(cache, "key", der), 1);
    tls_scache_close(cache);
    cache = tls_scache_open(cache_spec("persist"), 3600, TLS_SCACHE_CLEAR, why);
    assert_int_equal(tls_scache_fetch(cache, "key", der), 0);
    tls_scache_close(cache);
    strbuf_free(why);
    strbuf_free(der);
}

static void test_bad_specifications(void **state)
{
    strbuf *why = strbuf_new(32);
    strbuf *spec = strbuf_new(64);
    tls_scache *cache;

    assert_null(tls_scache_open("sdbm:/var/lib/x", 3600, 0, why));
    assert_non_null(strstr(why->data, "unsupported TLS session cache type"));
    assert_null(tls_scache_open("/var/lib/x", 3600, 0, why));
    assert_null(tls_scache_open("btree:relative", 3600, 0, why));
    assert_null(tls_scache_open("btree:/nonexistent/dir/cache", 3600, 0, why));
    assert_non_null(strstr(why->data, "cannot open TLS session cache"));
    strbuf_printf(spec, "hash:%s/hashed", unit_temp_dir());
    cache = tls_scache_open(spec->data, 3600, 0, why);
    assert_non_null(cache);
    tls_scache_close(cache);
    strbuf_free(why);
    strbuf_free(spec);
}

/* A memory table, to look at and tamper with what the cache stores. */

static int mem_get(void *handle, const char *key, strbuf *value)
{
    strbuf *stored = htable_get(handle, key);

    if (stored == NULL)
        return 0;
    strbuf_set_mem(value, stored->data, stored->len);
    return 1;
}

static void mem_free_value(void *value)
{
    strbuf_free(value);
}

static int mem_put(void *handle, const char *key, const void *value, size_t len)
{
    strbuf *stored = strbuf_new(len);

    strbuf_set_mem(stored, value, len);
    htable_put(handle, key, stored, mem_free_value);
    return 0;
}

static int mem_del(void *handle, const char *key)
{
    htable_delete(handle, key, mem_free_value);
    return 0;
}

static int mem_expire(void *handle, int (*stale)(const void *, size_t, void *), void *context)
{
    argv_t *keys = htable_keys(handle);
    int     removed = 0;

    for (size_t i = 0; i < keys->count; i++) {
        strbuf *value = htable_get(handle, keys->items[i]);

        if (stale(value->data, value->len, context)) {
            htable_delete(handle, keys->items[i], mem_free_value);
            removed++;
        }
    }
    argv_free(keys);
    return removed;
}

static void mem_close(void *handle)
{
    htable_free(handle, mem_free_value);
}

static const tls_scache_ops mem_ops = {mem_get, mem_put, mem_del, mem_expire, mem_close};

static void test_entry_format_and_validation(void **state)
{
    htable *table = htable_new(8);
    tls_scache *cache = tls_scache_create(&mem_ops, table, 100);
    strbuf *der = strbuf_new(32);
    strbuf *raw;

    assert_int_equal(tls_scache_store(cache, "k", "DER", 3), 0);
    raw = htable_get(table, "k");
    assert_int_equal(raw->len, 12);             /* version, 8-byte time, payload */
    assert_int_equal(raw->data[0], 1);
    assert_int_equal(((unsigned char) raw->data[5] << 24 | (unsigned char) raw->data[6] << 16
                      | (unsigned char) raw->data[7] << 8 | (unsigned char) raw->data[8]),
                     (int) (fake_now & 0xffffffff));
    raw->data[0] = 9;                           /* unknown version: dropped */
    assert_int_equal(tls_scache_fetch(cache, "k", der), 0);
    assert_null(htable_get(table, "k"));

    mem_put(table, "short", "\001\000\000", 3);
    assert_int_equal(tls_scache_fetch(cache, "short", der), 0);
    assert_int_equal(tls_scache_store(cache, "future", "DER", 3), 0);
    raw = htable_get(table, "future");
    raw->data[4] = 0x7f;                        /* stored far in the future */
    assert_int_equal(tls_scache_fetch(cache, "future", der), 0);
    tls_scache_close(cache);
    strbuf_free(der);
}

static SSL_SESSION *made_up_session(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL    *ssl = SSL_new(ctx);
    const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, (const unsigned char *) "\x13\x02");
    SSL_SESSION *session = SSL_SESSION_new();
    unsigned char key[48] = {1, 2, 3};

    assert_non_null(cipher);
    assert_true(SSL_SESSION_set1_master_key(session, key, sizeof(key)));
    assert_true(SSL_SESSION_set_protocol_version(session, TLS1_3_VERSION));
    assert_true(SSL_SESSION_set_cipher(session, cipher));
    assert_true(SSL_SESSION_set1_id(session, (const unsigned char *) "0123456789", 10));
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return session;
}

static void test_session_serialization(void **state)
{
    SSL_SESSION *session = made_up_session();
    SSL_SESSION *copy;
    strbuf *der = strbuf_new(64);
    strbuf *longer = strbuf_new(64);
    unsigned int id_len;

    assert_int_equal(tls_session_to_der(session, der), 0);
    assert_true(der->len > 10);
    copy = tls_session_from_der(der->data, der->len);
    assert_non_null(copy);
    assert_int_equal(SSL_SESSION_get_protocol_version(copy), TLS1_3_VERSION);
    assert_memory_equal(SSL_SESSION_get_id(copy, &id_len), "0123456789", 10);
    assert_int_equal(id_len, 10);
    SSL_SESSION_free(copy);

    strbuf_set_mem(longer, der->data, der->len);
    strbuf_append_char(longer, 0);              /* trailing byte */
    assert_null(tls_session_from_der(longer->data, longer->len));
    assert_null(tls_session_from_der(der->data, der->len - 1));
    assert_null(tls_session_from_der("garbage", 7));
    assert_null(tls_session_from_der("", 0));
    SSL_SESSION_free(session);
    strbuf_free(der);
    strbuf_free(longer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_btree_store_fetch_remove),
        cmocka_unit_test(test_btree_expiry),
        cmocka_unit_test(test_btree_persists_and_clears),
        cmocka_unit_test(test_bad_specifications),
        cmocka_unit_test(test_entry_format_and_validation),
        cmocka_unit_test(test_session_serialization),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
