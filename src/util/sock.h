/*
 * sock - create, connect and pass sockets.
 *
 * All descriptors are created close-on-exec; the caller clears the flag for
 * descriptors a child must inherit. Functions return a descriptor or -1 with
 * errno set; they never log, so callers decide how loud a failure is.
 *
 * inet addresses are "host", "[v6addr]" or "" / "*" for any; ports are
 * numbers or /etc/services names. sock_addr_text() renders a peer as
 * Postfix logs it (IPv4 dotted, IPv6 without brackets) with its port.
 */
#ifndef POSTERN_SOCK_H
#define POSTERN_SOCK_H

#include <sys/socket.h>
#include <sys/types.h>

#include "strbuf.h"

int unix_listen(const char *path, int backlog, mode_t mode);
int unix_connect(const char *path, int timeout);
int unix_dgram_listen(const char *path, mode_t mode);
int unix_dgram_send(const char *path, const void *data, size_t len);
int fifo_listen(const char *path, mode_t mode);
int fifo_trigger(const char *path, const void *data, size_t len);
int inet_listen(const char *host, const char *port, int family, int backlog);
int inet_connect(const char *host, const char *port, int family, int timeout);
int sock_connect_addr(const struct sockaddr *sa, socklen_t len, int timeout);
int sock_set_nonblock(int fd, int on);
int sock_set_cloexec(int fd, int on);
int sock_send_fd(int channel, int fd);
int sock_recv_fd(int channel);
int sock_addr_text(const struct sockaddr *sa, socklen_t len, strbuf *addr, strbuf *port);
int sock_port_number(const char *port);

#endif
