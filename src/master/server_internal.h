/*
 * server_internal - what the three skeletons share (server_common.c).
 * Not for daemons: they include server.h only.
 *
 * server_start() does everything up to serving (see server.h) and returns
 * once post_init ran. server_run() registers `ready` for every listening
 * descriptor and runs the event loop; it never returns.
 *
 * The skeletons tell the common part what happens:
 *   server_report(status)    one status record to master (child_proto.h)
 *   server_work_begins()     a client or trigger is being served: no idle exit
 *   server_work_ends()       nothing left to do: exits now if it should
 *                            (use limit, exit requested), else starts the
 *                            max_idle timer
 *   server_count_use()       one more client or trigger served
 *   server_may_accept()      call when a listening descriptor is readable:
 *                            notices a vanished master, runs pre_accept;
 *                            0 means leave the client alone (and exits when
 *                            the skeleton says it is idle)
 *   server_tables_changed()  a lookup table changed and cannot be reopened:
 *                            logs it once, asks to exit when idle, returns 1
 *   server_accept_client()   accept4 (and, for type pass, receive the passed
 *                            descriptor); -1 when there was nothing to take
 *   server_stop_accepting()  no more clients for this process: stops
 *                            listening and tells master it is leaving
 *   server_exit()            reports CHILD_STATUS_EXIT and exits 0
 */
#ifndef POSTERN_SERVER_INTERNAL_H
#define POSTERN_SERVER_INTERNAL_H

#include "server.h"
#include "services.h"

extern server_ctx server_context;
extern const server_spec *server_spec_in_use;
extern service_kind server_kind;

void    server_start(int argc, char **argv, const server_spec *spec, int (*is_idle)(void));
void    server_run(void (*ready)(int listen_fd)) __attribute__((noreturn));
void    server_report(int status);
void    server_work_begins(void);
void    server_work_ends(void);
void    server_count_use(void);
int     server_may_accept(void);
int     server_tables_changed(void);
int     server_accept_client(int listen_fd);
void    server_stop_accepting(void);
void    server_exit(void) __attribute__((noreturn));

#endif
