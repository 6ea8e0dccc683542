/*
 * master_jail - the files a chrooted daemon needs from /etc.
 *
 * master_prepare_jail() copies /etc/services, resolv.conf, hosts,
 * localtime, nsswitch.conf and host.conf, when they exist, to
 * queue_directory/etc/ (created mode 0755, owned by master, i.e. root),
 * each written to a temporary name and renamed into place, mode 0644.
 * Called at start-up and on every reload, when master runs as root.
 * Problems are warnings: a daemon that misses a file logs its own error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail_params.h"
#include "master.h"
#include "msg.h"
#include "strbuf.h"

#define JAIL_FILE_MAX  (4 * 1024 * 1024)

static const char *const jail_files[] = {
    "services", "resolv.conf", "hosts", "localtime", "nsswitch.conf", "host.conf",
};

/* Copies all of in to out; 0 ok, -1 error or oversize. */
static int copy_bytes(int in, int out)
{
    char    buf[8192];
    size_t  total = 0;
    ssize_t n;

    while ((n = read(in, buf, sizeof(buf))) > 0) {
        total += (size_t) n;
        if (total > JAIL_FILE_MAX || write(out, buf, (size_t) n) != n)
            return -1;
    }
    return n < 0 ? -1 : 0;
}

static void copy_into_jail(const char *jail, const char *name)
{
    strbuf *source = strbuf_new(64);
    strbuf *target = strbuf_new(128);
    strbuf *temp = strbuf_new(128);
    int     in;
    int     out;
    int     ok;

    strbuf_printf(source, "/etc/%s", name);
    strbuf_printf(target, "%s/%s", jail, name);
    strbuf_printf(temp, "%s/.%s.new", jail, name);
    if ((in = open(source->data, O_RDONLY | O_CLOEXEC)) >= 0) {
        unlink(temp->data);
        out = open(temp->data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        ok = out >= 0 && copy_bytes(in, out) == 0 && fchmod(out, 0644) == 0;
        if (out >= 0 && close(out) < 0)
            ok = 0;
        close(in);
        if (!ok || rename(temp->data, target->data) < 0) {
            msg_warn("cannot copy %s to %s: %m", source->data, target->data);
            unlink(temp->data);
        }
    }
    strbuf_free(source);
    strbuf_free(target);
    strbuf_free(temp);
}

void master_prepare_jail(void)
{
    strbuf *jail = strbuf_new(128);
    struct stat st;

    strbuf_printf(jail, "%s/etc", var_queue_directory);
    if (mkdir(jail->data, 0755) < 0 && errno != EEXIST) {
        msg_warn("cannot create %s: %m", jail->data);
    } else if (lstat(jail->data, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
        msg_warn("%s is not a directory owned by root; not copying files into the chroot jail",
                 jail->data);
    } else {
        for (size_t i = 0; i < sizeof(jail_files) / sizeof(jail_files[0]); i++)
            copy_into_jail(jail->data, jail_files[i]);
    }
    strbuf_free(jail);
}
