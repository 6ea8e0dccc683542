/*
 * queue_scan - list the files of one queue directory. See queue_scan.h.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue_file.h"
#include "queue_scan.h"
#include "strbuf.h"

static int is_hash_dir_name(const char *name)
{
    return isxdigit((unsigned char) name[0]) && name[1] == 0;
}

/* True for a directory entry that is a real directory (not a symlink). */
static int is_directory(DIR *dir, const struct dirent *entry)
{
    struct stat st;

    if (entry->d_type == DT_DIR)
        return 1;
    if (entry->d_type != DT_UNKNOWN)
        return 0;
    return fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
        && S_ISDIR(st.st_mode);
}

static int walk(strbuf *path, int depth, queue_visit_fn visit, void *context)
{
    DIR    *dir = opendir(path->data);
    size_t  base = path->len;
    struct dirent *entry;

    if (dir == NULL)
        return -1;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        strbuf_truncate(path, base);
        strbuf_append_printf(path, "/%s", entry->d_name);
        if (depth < QUEUE_SCAN_DEPTH_MAX && is_hash_dir_name(entry->d_name)
            && is_directory(dir, entry))
            (void) walk(path, depth + 1, visit, context);
        else
            visit(path->data, entry->d_name, context);
    }
    strbuf_truncate(path, base);
    closedir(dir);
    return 0;
}

int queue_walk(const char *queue_name, queue_visit_fn visit, void *context)
{
    strbuf *path = strbuf_from(queue_name);
    int     rc = walk(path, 0, visit, context);

    strbuf_free(path);
    return rc;
}

static void collect_id(const char *path, const char *name, void *context)
{
    (void) path;
    if (queue_id_valid(name))
        argv_add((argv_t *) context, name);
}

int queue_scan(const char *queue_name, argv_t *ids)
{
    return queue_walk(queue_name, collect_id, ids);
}
