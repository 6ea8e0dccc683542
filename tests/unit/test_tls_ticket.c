/*
 * Unit tests for tls_ticket: the ticket key store, alone (the rotation
 * tlsmgr uses) and with a source (smtpd with tlsmgr's keys), under a clock
 * the test controls.
 */
#include "unit.h"

#include "tls.h"
#include "tls_ticket.h"

#define LIFETIME 100

static time_t fake_now;
static int source_calls;
static int source_fails;
static tls_ticket_key source_key;       /* what the source answers */

static time_t fake_clock(void)
{
    return fake_now;
}

static int fake_source(const unsigned char *name, tls_ticket_key *key)
{
    source_calls++;
    if (source_fails)
        return -1;
    *key = source_key;
    return 0;
}

static int setup(void **state)
{
    fake_now = 1700000000;
    source_calls = source_fails = 0;
    tls_ticket_key_make(&source_key, fake_now);
    tls_set_clock(fake_clock);
    return 0;
}

static int teardown(void **state)
{
    tls_set_clock(NULL);
    return 0;
}

static void test_local_rotation(void **state)
{
    tls_ticket_keys *keys = tls_ticket_keys_new(LIFETIME, NULL);
    tls_ticket_key first;
    tls_ticket_key key;

    assert_int_equal(tls_ticket_keys_current(keys, &first), 0);
    assert_int_equal(first.created, fake_now);
    fake_now += LIFETIME - 1;
    assert_int_equal(tls_ticket_keys_current(keys, &key), 0);
    assert_memory_equal(key.name, first.name, TLS_TICKET_NAME_LEN);
    fake_now += 1;                              /* the first key stops encrypting */
    assert_int_equal(tls_ticket_keys_current(keys, &key), 0);
    assert_memory_not_equal(key.name, first.name, TLS_TICKET_NAME_LEN);
    assert_int_equal(tls_ticket_keys_find(keys, first.name, &key), 0);      /* decrypts */
    assert_memory_equal(key.cipher_key, first.cipher_key, TLS_TICKET_CIPHER_KEY_LEN);
    fake_now = first.created + 2 * LIFETIME;    /* and no longer */
    assert_int_equal(tls_ticket_keys_find(keys, first.name, &key), -1);
    memset(first.name, 'x', TLS_TICKET_NAME_LEN);
    assert_int_equal(tls_ticket_keys_find(keys, first.name, &key), -1);
    tls_ticket_keys_free(keys);
}

static void test_source_keys_are_used(void **state)
{
    tls_ticket_keys *keys = tls_ticket_keys_new(LIFETIME, fake_source);
    tls_ticket_key key;

    assert_int_equal(tls_ticket_keys_current(keys, &key), 0);
    assert_memory_equal(key.name, source_key.name, TLS_TICKET_NAME_LEN);
    assert_int_equal(tls_ticket_keys_current(keys, &key), 0);
    assert_int_equal(source_calls, 1);           /* kept while it encrypts */
    fake_now += LIFETIME;
    tls_ticket_key_make(&source_key, fake_now);  /* the source rotated */
    assert_int_equal(tls_ticket_keys_current(keys, &key), 0);
    assert_int_equal(source_calls, 2);
    assert_memory_equal(key.name, source_key.name, TLS_TICKET_NAME_LEN);
    tls_ticket_keys_free(keys);
}

static void test_unknown_names_are_asked(void **state)
{
    tls_ticket_keys *keys = tls_ticket_keys_new(LIFETIME, fake_source);
    tls_ticket_key key;
    unsigned char other[TLS_TICKET_NAME_LEN];

    assert_int_equal(tls_ticket_keys_find(keys, source_key.name, &key), 0);
    assert_memory_equal(key.hmac_key, source_key.hmac_key, TLS_TICKET_HMAC_KEY_LEN);
    assert_int_equal(tls_ticket_keys_find(keys, source_key.name, &key), 0);
    assert_int_equal(source_calls, 1);           /* remembered */
    memset(other, 'y', TLS_TICKET_NAME_LEN);     /* the source answers another name */
    assert_int_equal(tls_ticket_keys_find(keys, other, &key), -1);
    tls_ticket_keys_free(keys);
}

static void test_stale_or_missing_source_keys(void **state)
{
    tls_ticket_keys *keys = tls_ticket_keys_new(LIFETIME, fake_source);
    tls_ticket_key key;

    fake_now += 2 * LIFETIME;                    /* the source's key is too old to decrypt */
    assert_int_equal(tls_ticket_keys_find(keys, source_key.name, &key), -1);
    assert_int_equal(tls_ticket_keys_current(keys, &key), 0);      /* a local key instead */
    assert_memory_not_equal(key.name, source_key.name, TLS_TICKET_NAME_LEN);
    assert_int_equal(key.created, fake_now);
    tls_ticket_keys_free(keys);

    keys = tls_ticket_keys_new(LIFETIME, fake_source);
    source_fails = 1;
    assert_int_equal(tls_ticket_keys_current(keys, &key), 0);
    assert_int_equal(key.created, fake_now);
    assert_int_equal(tls_ticket_keys_find(keys, source_key.name, &key), -1);
    tls_ticket_keys_free(keys);
}

static void test_future_keys_are_refused(void **state)
{
    tls_ticket_keys *keys = tls_ticket_keys_new(LIFETIME, fake_source);
    tls_ticket_key key;

    source_key.created = fake_now + 10;
    assert_int_equal(tls_ticket_keys_find(keys, source_key.name, &key), -1);
    assert_int_equal(tls_ticket_keys_current(keys, &key), 0);
    assert_memory_not_equal(key.name, source_key.name, TLS_TICKET_NAME_LEN);
    tls_ticket_keys_free(keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_local_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_keys_are_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_names_are_asked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_or_missing_source_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_future_keys_are_refused, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
