/*
 * Unit tests for mbox_open: creation, refusal of links and foreign owners,
 * dot locks (busy, stale), fcntl locks, truncation after a failed write.
 */
#include "unit.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <utime.h>

#include "mail_params.h"
#include "mbox_open.h"

static char path[400];

static void setup_params(void)
{
    var_deliver_lock_attempts = 2;
    var_deliver_lock_delay = 1;
    var_stale_lock_time = 500;
}

static const char *box(const char *name)
{
    snprintf(path, sizeof(path), "%s/%s", unit_temp_dir(), name);
    return path;
}

static void test_create_and_append(void **state)
{
    strbuf *why = strbuf_new(16);
    const char *p = box("new");
    mbox   *mb;
    struct stat st;

    (void) state;
    mb = mbox_open(p, getuid(), getgid(), MBOX_LOCK_FCNTL | MBOX_LOCK_DOTLOCK, why);
    assert_non_null(mb);
    assert_int_equal(mb->orig_size, 0);
    stream_puts(mb->stream, "hello\n");
    assert_int_equal(lstat(box("new.lock"), &st), 0);
    assert_int_equal(mbox_close(mb), 0);
    assert_int_not_equal(lstat(box("new.lock"), &st), 0);
    assert_int_equal(stat(box("new"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 6);
    strbuf_free(why);
}

static void test_truncate_after_failure(void **state)
{
    strbuf *why = strbuf_new(16);
    const char *p = box("trunc");
    mbox   *mb;
    struct stat st;

    (void) state;
    mb = mbox_open(p, (uid_t) -1, (gid_t) -1, MBOX_LOCK_FLOCK, why);
    stream_puts(mb->stream, "first message\n");
    mbox_close(mb);
    mb = mbox_open(p, (uid_t) -1, (gid_t) -1, MBOX_LOCK_FLOCK, why);
    assert_int_equal(mb->orig_size, 14);
    stream_puts(mb->stream, "half a mess");
    stream_flush(mb->stream);
    assert_int_equal(mbox_truncate(mb), 0);
    mbox_close(mb);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 14);
    strbuf_free(why);
}

static void test_refuses_links_and_owner(void **state)
{
    strbuf *why = strbuf_new(16);
    char    target[400];

    (void) state;
    snprintf(target, sizeof(target), "%s", box("target"));
    close(open(target, O_CREAT | O_WRONLY, 0644));
    assert_int_equal(symlink(target, box("symlinked")), 0);
    assert_null(mbox_open(box("symlinked"), (uid_t) -1, (gid_t) -1, 0, why));
    assert_non_null(strstr(why->data, "symbolic link"));
    assert_int_equal(link(target, box("hardlinked")), 0);
    assert_null(mbox_open(box("hardlinked"), (uid_t) -1, (gid_t) -1, 0, why));
    assert_non_null(strstr(why->data, "hard links"));
    unlink(box("hardlinked"));
    assert_null(mbox_open(target, getuid() + 1, (gid_t) -1, 0, why));
    assert_non_null(strstr(why->data, "wrong owner"));
    assert_int_equal(access(box("target.lock"), F_OK), -1);
    strbuf_free(why);
}

static void test_dot_lock_busy_and_stale(void **state)
{
    strbuf *why = strbuf_new(16);
    const char *lock = box("busy.lock");
    struct utimbuf old = {.actime = 1000,.modtime = 1000 };
    char    lock_copy[400];
    mbox   *mb;

    (void) state;
    snprintf(lock_copy, sizeof(lock_copy), "%s", lock);
    close(open(lock_copy, O_CREAT | O_WRONLY, 0600));
    var_deliver_lock_attempts = 1;
    assert_null(mbox_open(box("busy"), (uid_t) -1, (gid_t) -1, MBOX_LOCK_DOTLOCK, why));
    assert_non_null(strstr(why->data, "unable to create lock file"));
    assert_int_equal(utime(lock_copy, &old), 0);
    var_deliver_lock_attempts = 2;
    mb = mbox_open(box("busy"), (uid_t) -1, (gid_t) -1, MBOX_LOCK_DOTLOCK, why);
    assert_non_null(mb);
    mbox_close(mb);
    strbuf_free(why);
}

static void test_fcntl_lock_held_elsewhere(void **state)
{
    strbuf *why = strbuf_new(16);
    char    p[400];
    int     ready[2];
    pid_t   pid;
    char    byte;

    (void) state;
    snprintf(p, sizeof(p), "%s", box("held"));
    assert_int_equal(pipe(ready), 0);
    if ((pid = fork()) == 0) {
        int     fd = open(p, O_CREAT | O_WRONLY, 0600);
        struct flock lk = {.l_type = F_WRLCK,.l_whence = SEEK_SET };

        fcntl(fd, F_SETLK, &lk);
        (void) write(ready[1], "x", 1);
        sleep(5);
        _exit(0);
    }
    assert_int_equal(read(ready[0], &byte, 1), 1);
    var_deliver_lock_attempts = 1;
    assert_null(mbox_open(p, (uid_t) -1, (gid_t) -1, MBOX_LOCK_FCNTL, why));
    assert_non_null(strstr(why->data, "unable to lock for exclusive access"));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    setup_params();
    strbuf_free(why);
}

static void test_lock_styles(void **state)
{
    (void) state;
    assert_int_equal(mbox_lock_styles("fcntl, dotlock"), MBOX_LOCK_FCNTL | MBOX_LOCK_DOTLOCK);
    assert_int_equal(mbox_lock_styles("flock"), MBOX_LOCK_FLOCK);
    assert_int_equal(mbox_lock_styles(""), 0);
    assert_int_equal(mbox_lock_styles("fcntl, lockf"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_append),
        cmocka_unit_test(test_truncate_after_failure),
        cmocka_unit_test(test_refuses_links_and_owner),
        cmocka_unit_test(test_dot_lock_busy_and_stale),
        cmocka_unit_test(test_fcntl_lock_held_elsewhere),
        cmocka_unit_test(test_lock_styles),
    };

    setup_params();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
