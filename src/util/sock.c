/*
 * sock - create, connect and pass sockets. See sock.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock.h"
#include "stream.h"

int sock_set_nonblock(int fd, int on)
{
    int     flags = fcntl(fd, F_GETFL);

    if (flags < 0)
        return -1;
    flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    return fcntl(fd, F_SETFL, flags);
}

int sock_set_cloexec(int fd, int on)
{
    return fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0);
}

static int unix_address(const char *path, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sun->sun_path, path);
    return 0;
}

static int unix_bind(int type, const char *path, mode_t mode)
{
    struct sockaddr_un sun;
    int     fd;

    if (unix_address(path, &sun) < 0)
        return -1;
    if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    if ((unlink(path) < 0 && errno != ENOENT)
        || bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
        || chmod(path, mode) < 0) {
        int     saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int unix_listen(const char *path, int backlog, mode_t mode)
{
    int     fd = unix_bind(SOCK_STREAM, path, mode);

    if (fd >= 0 && listen(fd, backlog) < 0) {
        int     saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int unix_dgram_listen(const char *path, mode_t mode)
{
    return unix_bind(SOCK_DGRAM, path, mode);
}

int sock_connect_addr(const struct sockaddr *sa, socklen_t len, int timeout)
{
    int     fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int     err = 0;
    socklen_t errlen = sizeof(err);

    if (fd < 0)
        return -1;
    if (connect(fd, sa, len) < 0) {
        if (errno != EINPROGRESS && errno != EAGAIN)
            goto fail;
        if (fd_wait(fd, POLLOUT, timeout) < 0)
            goto fail;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
            goto fail;
        if (err) {
            errno = err;
            goto fail;
        }
    }
    if (sock_set_nonblock(fd, 0) < 0)
        goto fail;
    return fd;

fail:
    err = errno;
    close(fd);
    errno = err;
    return -1;
}

int unix_connect(const char *path, int timeout)
{
    struct sockaddr_un sun;

    if (unix_address(path, &sun) < 0)
        return -1;
    return sock_connect_addr((struct sockaddr *) &sun, sizeof(sun), timeout);
}

int unix_dgram_send(const char *path, const void *data, size_t len)
{
    struct sockaddr_un sun;
    int     fd;
    ssize_t n;

    if (unix_address(path, &sun) < 0)
        return -1;
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    n = sendto(fd, data, len, MSG_DONTWAIT, (struct sockaddr *) &sun, sizeof(sun));
    close(fd);
    return n == (ssize_t) len ? 0 : -1;
}

int fifo_listen(const char *path, mode_t mode)
{
    int     fd;

    if ((unlink(path) < 0 && errno != ENOENT) || mkfifo(path, mode) < 0)
        return -1;
    if (chmod(path, mode) < 0)
        return -1;
    /* Open read-write so the fifo never reports EOF when writers go away. */
    if ((fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
        return -1;
    return fd;
}

int fifo_trigger(const char *path, const void *data, size_t len)
{
    int     fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = write(fd, data, len);
    close(fd);
    return n == (ssize_t) len ? 0 : -1;
}

int sock_port_number(const char *port)
{
    struct servent *se;
    char   *end;
    long    number = strtol(port, &end, 10);

    if (*port && *end == 0)
        return number > 0 && number < 65536 ? (int) number : -1;
    if ((se = getservbyname(port, "tcp")) == NULL)
        return -1;
    return ntohs((unsigned short) se->s_port);
}

static struct addrinfo *resolve(const char *host, const char *port, int family, int passive)
{
    struct addrinfo hints = {0};
    struct addrinfo *res = NULL;
    char    portnum[16];
    char   *bare = NULL;
    int     number = sock_port_number(port);

    if (number < 0) {
        errno = EINVAL;
        return NULL;
    }
    snprintf(portnum, sizeof(portnum), "%d", number);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    if (host && host[0] == '[') {
        size_t  len = strlen(host);

        if (len < 3 || host[len - 1] != ']') {
            errno = EINVAL;
            return NULL;
        }
        bare = strndup(host + 1, len - 2);
        host = bare;
        hints.ai_flags |= AI_NUMERICHOST;
    }
    if (host && (*host == 0 || strcmp(host, "*") == 0))
        host = NULL;
    if (getaddrinfo(host, portnum, &hints, &res) != 0)
        res = NULL;
    free(bare);
    if (res == NULL)
        errno = EADDRNOTAVAIL;
    return res;
}

int inet_listen(const char *host, const char *port, int family, int backlog)
{
    struct addrinfo *res = resolve(host, port, family, 1);
    int     fd;
    int     on = 1;

    if (res == NULL)
        return -1;
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (res->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
        if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
            int     saved = errno;

            close(fd);
            fd = -1;
            errno = saved;
        }
    }
    freeaddrinfo(res);
    return fd;
}

int inet_connect(const char *host, const char *port, int family, int timeout)
{
    struct addrinfo *res = resolve(host, port, family, 0);
    int     fd = -1;

    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = sock_connect_addr(ai->ai_addr, ai->ai_addrlen, timeout);
    if (res)
        freeaddrinfo(res);
    return fd;
}

int sock_send_fd(int channel, int fd)
{
    struct msghdr msg = {0};
    char    control[CMSG_SPACE(sizeof(int))] = {0};
    char    byte = 'F';
    struct iovec iov = {.iov_base = &byte,.iov_len = 1 };
    struct cmsghdr *cmsg;

    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    return sendmsg(channel, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

int sock_recv_fd(int channel)
{
    struct msghdr msg = {0};
    char    control[CMSG_SPACE(sizeof(int))];
    char    byte;
    struct iovec iov = {.iov_base = &byte,.iov_len = 1 };
    struct cmsghdr *cmsg;
    int     fd;

    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    if (recvmsg(channel, &msg, MSG_CMSG_CLOEXEC) != 1)
        return -1;
    cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS
        || cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
        errno = EPROTO;
        return -1;
    }
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    return fd;
}

int sock_addr_text(const struct sockaddr *sa, socklen_t len, strbuf *addr, strbuf *port)
{
    char    host[NI_MAXHOST];
    char    serv[NI_MAXSERV];

    if (sa->sa_family == AF_UNIX) {
        strbuf_set(addr, "127.0.0.1");
        if (port)
            strbuf_set(port, "0");
        return 0;
    }
    if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return -1;
    /* Show IPv4-mapped IPv6 peers as plain IPv4, as Postfix does. */
    if (strncmp(host, "::ffff:", 7) == 0 && strchr(host + 7, ':') == NULL)
        strbuf_set(addr, host + 7);
    else
        strbuf_set(addr, host);
    if (port)
        strbuf_set(port, serv);
    return 0;
}
