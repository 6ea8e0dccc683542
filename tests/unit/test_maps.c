/*
 * Unit tests for the lookup-table layer (map.h) and its database types:
 * hash, btree, lmdb and cdb. Text types are in test_maps_text.c.
 */
#include "unit.h"

#include <sys/wait.h>

#include "mail_params.h"
#include "map.h"
#include "mem.h"

static const char *database_types[] = {"hash", "btree", "lmdb", "cdb"};

#define TYPE_COUNT (sizeof(database_types) / sizeof(database_types[0]))

/* "type:DIR/name" under the scratch directory; the caller frees it. */
static char *spec_for(const char *type, const char *name)
{
    char   *spec = xmalloc(strlen(type) + strlen(unit_temp_dir()) + strlen(name) + 3);

    sprintf(spec, "%s:%s/%s", type, unit_temp_dir(), name);
    return spec;
}

/* Builds a table from key, value pairs (NULL-terminated). */
static void build(const char *spec, int flags, const char *const *pairs)
{
    map_t  *map = map_create(spec, flags, 0644);

    assert_false(map_broken(map));
    for (; pairs[0]; pairs += 2)
        assert_int_not_equal(map_update(map, pairs[0], pairs[1]), MAP_ERROR);
    assert_int_equal(map_commit(map), MAP_OK);
    map_close(map);
}

static void assert_lookup(map_t *map, const char *key, const char *expected)
{
    const char *value;

    if (expected == NULL) {
        assert_int_equal(map_lookup(map, key, &value), MAP_NOTFOUND);
        assert_null(value);
    } else {
        assert_int_equal(map_lookup(map, key, &value), MAP_OK);
        assert_string_equal(value, expected);
    }
}

static void test_round_trip_every_database_type(void **state)
{
    static const char *const pairs[] = {"Alpha", "one", "beta", "two words", NULL};

    for (size_t i = 0; i < TYPE_COUNT; i++) {
        char   *spec = spec_for(database_types[i], "round");
        map_t  *map;

        build(spec, MAP_FLAG_FOLD, pairs);
        map = map_open(spec, MAP_READ, MAP_FLAG_FOLD);
        assert_false(map_broken(map));
        assert_lookup(map, "alpha", "one");
        assert_lookup(map, "ALPHA", "one");
        assert_lookup(map, "beta", "two words");
        assert_lookup(map, "gamma", NULL);
        assert_true(map_flags(map) & MAP_FLAG_FIXED);
        map_close(map);
        map = map_open(spec, MAP_READ, 0);          /* no folding: key stored folded */
        assert_lookup(map, "ALPHA", NULL);
        map_close(map);
        free(spec);
    }
}

static void test_sequence_lists_every_entry(void **state)
{
    static const char *const pairs[] = {"k1", "v1", "k2", "v2", "k3", "v3", NULL};

    for (size_t i = 0; i < TYPE_COUNT; i++) {
        char   *spec = spec_for(database_types[i], "seq");
        map_t  *map;
        const char *key;
        const char *value;
        int     seen = 0;

        build(spec, MAP_FLAG_FOLD, pairs);
        map = map_open(spec, MAP_READ, MAP_FLAG_FOLD);
        for (int first = 1; map_sequence(map, first, &key, &value) == MAP_OK; first = 0) {
            assert_int_equal(key[0], 'k');
            assert_int_equal(value[0], 'v');
            assert_int_equal(key[1], value[1]);
            seen |= 1 << (key[1] - '0');
        }
        assert_int_equal(seen, 0xe);
        map_close(map);
        free(spec);
    }
}

static void test_duplicates_warn_ignore_or_replace(void **state)
{
    for (size_t i = 0; i < TYPE_COUNT; i++) {
        char   *spec = spec_for(database_types[i], "dup");
        int     policies[] = {0, MAP_FLAG_DUP_IGNORE, MAP_FLAG_DUP_REPLACE};
        const char *expected[] = {"first", "first", "second"};

        for (int p = 0; p < 3; p++) {
            map_t  *map = map_create(spec, MAP_FLAG_FOLD | policies[p], 0644);

            assert_int_equal(map_update(map, "key", "first"), MAP_OK);
            assert_int_equal(map_update(map, "KEY", "second"),
                             policies[p] == MAP_FLAG_DUP_REPLACE ? MAP_OK : MAP_DUPLICATE);
            assert_int_equal(map_commit(map), MAP_OK);
            map_close(map);
            map = map_open(spec, MAP_READ, MAP_FLAG_FOLD);
            assert_lookup(map, "key", expected[p]);
            map_close(map);
        }
        free(spec);
    }
}

static void test_nul_convention(void **state)
{
    static const char *const pairs[] = {"key", "value", NULL};
    char   *spec = spec_for("hash", "nul");
    map_t  *map;

    build(spec, MAP_FLAG_NO_NUL, pairs);            /* postmap -n */
    map = map_open(spec, MAP_READ, MAP_FLAG_NUL);   /* -N reader: different keys */
    assert_lookup(map, "key", NULL);
    map_close(map);
    map = map_open(spec, MAP_READ, 0);              /* default tries both */
    assert_lookup(map, "key", "value");
    map_close(map);
    build(spec, 0, pairs);                          /* hash default: with NUL */
    map = map_open(spec, MAP_READ, MAP_FLAG_NO_NUL);
    assert_lookup(map, "key", NULL);
    map_close(map);
    map = map_open(spec, MAP_READ, MAP_FLAG_NUL);
    assert_lookup(map, "key", "value");
    map_close(map);
    free(spec);
}

static void test_update_and_delete_in_place(void **state)
{
    static const char *const pairs[] = {"a", "1", "b", "2", NULL};

    for (size_t i = 0; i < TYPE_COUNT; i++) {
        char   *spec = spec_for(database_types[i], "inplace");
        map_t  *map;

        build(spec, MAP_FLAG_FOLD, pairs);
        map = map_open(spec, MAP_UPDATE, MAP_FLAG_FOLD);
        if (strcmp(database_types[i], "cdb") == 0) {
            assert_int_equal(map_update(map, "c", "3"), MAP_ERROR);
            assert_non_null(strstr(map_error(map), "not supported"));
            assert_int_equal(map_delete(map, "a"), MAP_ERROR);
        } else {
            assert_int_equal(map_update(map, "c", "3"), MAP_OK);
            assert_int_equal(map_delete(map, "A"), MAP_OK);
            assert_int_equal(map_delete(map, "zz"), MAP_NOTFOUND);
            assert_lookup(map, "c", "3");
            assert_lookup(map, "a", NULL);
        }
        map_close(map);
        free(spec);
    }
}

static void test_open_errors_make_a_broken_table(void **state)
{
    const char *value;
    char   *missing = spec_for("hash", "no-such-table");
    map_t  *map;

    map = map_open("nosuch:/etc/x", MAP_READ, 0);
    assert_true(map_broken(map));
    assert_string_equal(map_error(map), "unsupported dictionary type: nosuch");
    assert_int_equal(map_lookup(map, "k", &value), MAP_ERROR);
    assert_null(value);
    map_close(map);

    map = map_open("no-colon-here", MAP_READ, 0);
    assert_true(map_broken(map));
    assert_non_null(strstr(map_error(map), "expecting \"type:name\" form"));
    map_close(map);

    map = map_open(missing, MAP_READ, 0);
    assert_true(map_broken(map));
    assert_non_null(strstr(map_error(map), "no-such-table.db: No such file or directory"));
    assert_int_equal(map_lookup(map, "k", &value), MAP_ERROR);
    map_close(map);

    map = map_create("regexp:/etc/x", 0, 0644);
    assert_true(map_broken(map));
    assert_non_null(strstr(map_error(map), "does not support bulk-mode creation"));
    map_close(map);
    free(missing);
}

static void test_type_registry(void **state)
{
    argv_t *names = map_type_names();
    const char *expected[] = {"hash", "btree", "lmdb", "cdb", "regexp", "pcre", "cidr",
        "inline", "static", "texthash", "unix", "fail", "proxy"};

    assert_int_equal(names->count, sizeof(expected) / sizeof(expected[0]));
    for (size_t i = 0; i < names->count; i++)
        assert_true(argv_contains(names, expected[i]));
    argv_free(names);
    assert_true(map_can_create("lmdb"));
    assert_false(map_can_create("regexp"));
    assert_false(map_can_create("nosuch"));
    assert_string_equal(map_file_suffix("cdb"), ".cdb");
    assert_string_equal(map_file_suffix("pcre"), "");
}

static void test_wrong_database_format_is_an_error(void **state)
{
    static const char *const pairs[] = {"a", "1", NULL};
    char   *btree = spec_for("btree", "format");
    char   *hash = spec_for("hash", "format");
    map_t  *map;

    build(btree, 0, pairs);
    map = map_open(hash, MAP_READ, 0);              /* a btree file read as hash */
    assert_true(map_broken(map));
    assert_non_null(strstr(map_error(map), "open database"));
    map_close(map);
    free(btree);
    free(hash);
}

static void test_uncommitted_creation_leaves_nothing(void **state)
{
    char   *spec = spec_for("hash", "abandoned");
    char    path[512];
    map_t  *map = map_create(spec, 0, 0644);

    assert_int_equal(map_update(map, "k", "v"), MAP_OK);
    map_close(map);
    snprintf(path, sizeof(path), "%s/abandoned.db", unit_temp_dir());
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/abandoned.db.%ld.tmp", unit_temp_dir(), (long) getpid());
    assert_int_not_equal(access(path, F_OK), 0);
    free(spec);
}

static void test_created_file_mode_and_replacement_keeps_mode(void **state)
{
    static const char *const pairs[] = {"a", "1", NULL};
    char   *spec = spec_for("hash", "mode");
    char    path[512];
    struct stat st;
    map_t  *map;

    snprintf(path, sizeof(path), "%s/mode.db", unit_temp_dir());
    unlink(path);
    map = map_create(spec, 0, 0640);
    assert_int_equal(map_commit(map), MAP_OK);
    map_close(map);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(chmod(path, 0604), 0);
    build(spec, 0, pairs);                          /* replacing keeps the old mode */
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0604);
    free(spec);
}

static void test_lmdb_grows_past_its_initial_size(void **state)
{
    char   *spec = spec_for("lmdb", "grow");
    char    key[32];
    char    value[200];
    map_t  *map;

    var_lmdb_map_size = 64 * 1024;
    map = map_create(spec, 0, 0644);
    memset(value, 'v', sizeof(value) - 1);
    value[sizeof(value) - 1] = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        assert_int_equal(map_update(map, key, value), MAP_OK);
    }
    assert_int_equal(map_commit(map), MAP_OK);
    map_close(map);
    map = map_open(spec, MAP_UPDATE, 0);
    for (int i = 5000; i < 7000; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        assert_int_equal(map_update(map, key, value), MAP_OK);
    }
    map_close(map);
    map = map_open(spec, MAP_READ, 0);
    assert_lookup(map, "key0", value);
    assert_lookup(map, "key4999", value);
    assert_lookup(map, "key6999", value);
    map_close(map);
    var_lmdb_map_size = 0;
    free(spec);
}

static void test_reader_follows_replacement_and_in_place_update(void **state)
{
    static const char *const old_pairs[] = {"key", "old", "gone", "x", NULL};
    static const char *const new_pairs[] = {"key", "new", NULL};

    for (size_t i = 0; i < TYPE_COUNT; i++) {
        char   *spec = spec_for(database_types[i], "follow");
        map_t  *reader;
        map_t  *writer;

        build(spec, 0, old_pairs);
        reader = map_open(spec, MAP_READ, 0);
        assert_lookup(reader, "key", "old");
        build(spec, 0, new_pairs);                  /* renamed over the open file */
        assert_lookup(reader, "key", "new");
        assert_lookup(reader, "gone", NULL);
        assert_null(map_changed_name());
        if (strcmp(database_types[i], "cdb") != 0) {
            writer = map_open(spec, MAP_UPDATE, 0);
            assert_int_equal(map_update(writer, "added", "later"), MAP_OK);
            map_close(writer);
            assert_lookup(reader, "added", "later");
        }
        map_close(reader);
        free(spec);
    }
}

static void test_unreachable_change_is_reported(void **state)
{
    static const char *const pairs[] = {"key", "old", NULL};
    char   *spec = spec_for("hash", "moved");
    char    path[512];
    char    moved[512];
    map_t  *reader;

    build(spec, 0, pairs);
    reader = map_open(spec, MAP_READ, 0);
    snprintf(path, sizeof(path), "%s/moved.db", unit_temp_dir());
    snprintf(moved, sizeof(moved), "%s/moved-away.db", unit_temp_dir());
    assert_int_equal(rename(path, moved), 0);       /* the name leads nowhere now */
    assert_lookup(reader, "key", "old");            /* still served, no error */
    assert_string_equal(map_changed_name(), spec);
    map_close(reader);
    assert_null(map_changed_name());
    free(spec);
}

/* After chroot the name means another file: keep the old table, report it. */
static void chrooted_reader(const char *spec, const char *jail)
{
    static const char *const new_pairs[] = {"key", "new", NULL};
    const char *value;
    map_t  *reader = map_open(spec, MAP_READ, 0);

    build(spec, 0, new_pairs);
    if (chroot(jail) < 0 || chdir("/") < 0)
        _exit(2);
    if (map_lookup(reader, "key", &value) != MAP_OK || strcmp(value, "old") != 0)
        _exit(3);
    if (map_changed_name() == NULL || strcmp(map_changed_name(), spec) != 0)
        _exit(4);
    _exit(0);
}

static void test_chrooted_reader_reports_change(void **state)
{
    static const char *const old_pairs[] = {"key", "old", NULL};
    char   *spec = spec_for("btree", "jailed");
    char    jail[512];
    int     status;
    pid_t   pid;

    if (geteuid() != 0) {                           /* without root: same decision, */
        test_unreachable_change_is_reported(state); /* reached through a missing name */
        free(spec);
        return;
    }
    snprintf(jail, sizeof(jail), "%s/jail", unit_temp_dir());
    mkdir(jail, 0755);
    build(spec, 0, old_pairs);
    if ((pid = fork()) == 0)
        chrooted_reader(spec, jail);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    free(spec);
}

/* A reader looking up while the table is replaced sees old or new, never an error. */
static void test_concurrent_replacement_never_fails_a_reader(void **state)
{
    static const char *const old_pairs[] = {"key", "old", NULL};
    static const char *const new_pairs[] = {"key", "new", NULL};

    for (size_t t = 0; t < TYPE_COUNT; t++) {
        char   *spec = spec_for(database_types[t], "race");
        int     status;
        pid_t   pid;

        build(spec, 0, old_pairs);
        if ((pid = fork()) == 0) {
            map_t  *reader = map_open(spec, MAP_READ, 0);
            const char *value;

            for (int i = 0; i < 20000; i++)
                if (map_lookup(reader, "key", &value) != MAP_OK
                    || (strcmp(value, "old") != 0 && strcmp(value, "new") != 0))
                    _exit(1);
            _exit(0);
        }
        for (int i = 0; waitpid(pid, &status, WNOHANG) == 0; i++)
            build(spec, 0, i % 2 ? old_pairs : new_pairs);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        free(spec);
    }
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_database_type),
        cmocka_unit_test(test_sequence_lists_every_entry),
        cmocka_unit_test(test_duplicates_warn_ignore_or_replace),
        cmocka_unit_test(test_nul_convention),
        cmocka_unit_test(test_update_and_delete_in_place),
        cmocka_unit_test(test_open_errors_make_a_broken_table),
        cmocka_unit_test(test_type_registry),
        cmocka_unit_test(test_wrong_database_format_is_an_error),
        cmocka_unit_test(test_uncommitted_creation_leaves_nothing),
        cmocka_unit_test(test_created_file_mode_and_replacement_keeps_mode),
        cmocka_unit_test(test_lmdb_grows_past_its_initial_size),
        cmocka_unit_test(test_reader_follows_replacement_and_in_place_update),
        cmocka_unit_test(test_unreachable_change_is_reported),
        cmocka_unit_test(test_chrooted_reader_reports_change),
        cmocka_unit_test(test_concurrent_replacement_never_fails_a_reader),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
