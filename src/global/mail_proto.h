/*
 * mail_proto - reach another Postern service through its socket.
 *
 * Services listen in queue_directory/private/NAME (mail system only) or
 * queue_directory/public/NAME (also local users, through set-gid commands).
 *
 * mail_connect(class, service, timeout) connects to the UNIX-domain stream
 * socket of that service ("private" or "public") and returns a stream with
 * the given I/O timeout (seconds; 0 = none), or NULL with errno set (ENOENT
 * when nothing listens there, ETIMEDOUT, ...). The caller owns the stream
 * and closes it with stream_close(). Connection failures are not logged;
 * the caller knows how serious they are.
 *
 * mail_trigger(class, service, data, len) wakes a trigger service: it writes
 * the bytes (usually one request letter such as "W") to its fifo or UNIX
 * socket, whichever is there, waiting at most trigger_timeout, and returns
 * 0 or -1 with errno set. The trigger is fire-and-forget: no reply.
 *
 * Paths are built from the queue root: var_queue_directory, or "/" inside a
 * process that chrooted into the queue directory. The daemon skeleton calls
 * mail_proto_set_root("/") after its chroot; no one else needs to.
 * Class and service names must be plain names (no '/'): EINVAL otherwise.
 */
#ifndef POSTERN_MAIL_PROTO_H
#define POSTERN_MAIL_PROTO_H

#include <stddef.h>

#include "stream.h"

#define MAIL_CLASS_PRIVATE  "private"
#define MAIL_CLASS_PUBLIC   "public"

stream *mail_connect(const char *class, const char *service, int timeout);
int     mail_trigger(const char *class, const char *service, const void *data, size_t len);
void    mail_proto_set_root(const char *root);

#endif
