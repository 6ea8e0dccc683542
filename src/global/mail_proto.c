/*
 * mail_proto - connect to and trigger Postern services. See mail_proto.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail_params.h"
#include "mail_proto.h"
#include "mem.h"
#include "sock.h"
#include "strbuf.h"

static char *queue_root;

void mail_proto_set_root(const char *root)
{
    free(queue_root);
    queue_root = xstrdup(root);
}

static int plain_name(const char *name)
{
    return *name && strchr(name, '/') == NULL && strcmp(name, ".") != 0
        && strcmp(name, "..") != 0;
}

/* Builds ROOT/class/service into path; -1 (EINVAL) for unusable names. */
static int service_path(strbuf *path, const char *class, const char *service)
{
    const char *root = queue_root ? queue_root : var_queue_directory;

    if (root == NULL || !plain_name(class) || !plain_name(service)) {
        errno = EINVAL;
        return -1;
    }
    strbuf_printf(path, "%s%s%s/%s", root, strcmp(root, "/") == 0 ? "" : "/",
                  class, service);
    return 0;
}

stream *mail_connect(const char *class, const char *service, int timeout)
{
    strbuf *path = strbuf_new(128);
    int     fd = -1;

    if (service_path(path, class, service) == 0)
        fd = unix_connect(path->data, timeout > 0 ? timeout : var_ipc_timeout);
    strbuf_free(path);
    return fd < 0 ? NULL : stream_open_fd(fd, timeout);
}

/* Writes all of data to a connected socket within the trigger timeout. */
static int socket_trigger(const char *path, const void *data, size_t len)
{
    int     fd = unix_connect(path, var_trigger_timeout);
    const char *cp = data;
    int     saved;

    if (fd < 0)
        return -1;
    while (len > 0) {
        ssize_t n;

        if (fd_wait(fd, POLLOUT, var_trigger_timeout) < 0)
            break;
        if ((n = send(fd, cp, len, MSG_NOSIGNAL)) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        cp += n;
        len -= (size_t) n;
    }
    saved = errno;
    close(fd);
    errno = saved;
    return len == 0 ? 0 : -1;
}

int mail_trigger(const char *class, const char *service, const void *data, size_t len)
{
    strbuf *path = strbuf_new(128);
    struct stat st;
    int     result = -1;

    if (service_path(path, class, service) == 0 && stat(path->data, &st) == 0) {
        if (S_ISFIFO(st.st_mode))
            result = fifo_trigger(path->data, data, len);
        else if (S_ISSOCK(st.st_mode))
            result = socket_trigger(path->data, data, len);
        else
            errno = ENOTSOCK;
    }
    strbuf_free(path);
    return result;
}
