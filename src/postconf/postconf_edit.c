/*
 * postconf_edit - change main.cf in place: -e (set), -X (remove), -# (comment).
 *
 * Parses "name=value" (or names) from the command line, lets
 * main_cf_edit_text() produce the new text, and replaces main.cf atomically:
 * a temporary file in the same directory with the same owner and mode,
 * fsync, rename, fsync of the directory. A reader sees the old or the new
 * file, never a mix.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logical_line.h"
#include "main_cf_edit.h"
#include "mem.h"
#include "msg.h"
#include "postconf.h"
#include "strbuf.h"

static char *trimmed(const char *start, size_t len)
{
    while (len && isspace((unsigned char) *start)) {
        start++;
        len--;
    }
    while (len && isspace((unsigned char) start[len - 1]))
        len--;
    return xstrndup(start, len);
}

static void parse_argument(const char *arg, enum main_cf_edit mode, char **name, char **value)
{
    const char *eq = strchr(arg, '=');
    strbuf *why = strbuf_new(64);

    if (mode != MAIN_CF_SET) {
        *name = trimmed(arg, strlen(arg));
        *value = NULL;
    } else if (eq == NULL) {
        msg_fatal("missing '=' after attribute name: \"%s\"", arg);
    } else {
        *name = trimmed(arg, (size_t) (eq - arg));
        *value = trimmed(eq + 1, strlen(eq + 1));
    }
    if (main_cf_edit_check(*name, *value, why) < 0)
        msg_fatal("%s", why->data);
    strbuf_free(why);
}

static void replace_file(const char *path, const strbuf *text)
{
    strbuf *temp = strbuf_new(128);
    char   *dir_copy = xstrdup(path);
    struct stat st;
    int     fd;

    if (stat(path, &st) < 0)
        msg_fatal("stat %s: %m", path);
    strbuf_printf(temp, "%s.tmp.%ld", path, (long) getpid());
    if ((fd = open(temp->data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777)) < 0)
        msg_fatal("create %s: %m", temp->data);
    if (fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EPERM)
        msg_warn("set owner of %s: %m", temp->data);
    if (write(fd, text->data, text->len) != (ssize_t) text->len || fsync(fd) < 0
        || close(fd) < 0 || rename(temp->data, path) < 0) {
        unlink(temp->data);
        msg_fatal("write %s: %m", path);
    }
    if ((fd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir_copy);
    strbuf_free(temp);
}

int postconf_edit_main_cf(const char *path, enum main_cf_edit mode, char **args)
{
    size_t  count = 0;
    char  **names;
    char  **values;
    strbuf *text = strbuf_new(8192);
    strbuf *error = strbuf_new(64);
    strbuf *out = strbuf_new(8192);

    while (args[count])
        count++;
    names = xcalloc(count, sizeof(char *));
    values = xcalloc(count, sizeof(char *));
    for (size_t i = 0; i < count; i++)
        parse_argument(args[i], mode, &names[i], &values[i]);
    if (file_read_text(path, text, error) < 0)
        msg_fatal("%s", error->data);
    main_cf_edit_text(text->data, mode, names, values, count, out);
    replace_file(path, out);
    for (size_t i = 0; i < count; i++) {
        free(names[i]);
        free(values[i]);
    }
    free(names);
    free(values);
    strbuf_free(text);
    strbuf_free(error);
    strbuf_free(out);
    return 0;
}
