/*
 * master.h - the master daemon's modules and their shared state.
 *
 *   master.c          start-up, signals, shutdown, the event loop
 *   master_service.c  running services: listening endpoints, when to spawn,
 *                     wake-ups, throttling, status records from children
 *   master_spawn.c    forking children with the descriptors and environment
 *                     of child_proto.h; the process table; reaping
 *   master_reload.c   SIGHUP: validate, re-read, apply the new services
 *   master_jail.c     the chroot jail's copies of /etc files
 *
 * Ownership: master_services owns each master_serv, which owns its
 * service_def and endpoints; the process table owns master_proc entries.
 * A process whose service went away in a reload stays in the table with
 * service == NULL ("retired") until it is reaped.
 */
#ifndef POSTERN_MASTER_H
#define POSTERN_MASTER_H

#include <sys/types.h>

#include "argv.h"
#include "services.h"
#include "strbuf.h"

struct event;
struct event_base;

typedef struct master_endpoint {
    char   *key;                        /* service_endpoint key */
    int     fd;                         /* -1 once closed or handed on */
    struct event *event;                /* readable: a client is waiting */
} master_endpoint;

typedef struct master_serv {
    service_def *def;
    master_endpoint *endpoints;         /* def->endpoint_count */
    int     status_pipe[2];             /* children write [1], master reads [0] */
    struct event *status_event;
    struct event *wakeup_timer;
    struct event *throttle_timer;
    strbuf *status_input;               /* bytes of an incomplete record */
    int     total;                      /* processes of this generation */
    int     avail;                      /* of which ready for work */
    int     throttled;
    int     listening;
    struct master_serv *next;
} master_serv;

typedef struct master_proc {
    pid_t   pid;
    master_serv *service;            /* NULL: retired by a reload */
    char   *path;                       /* program, for log messages */
    int     available;
    unsigned long use_count;            /* busy reports */
    int     signalled;                  /* master asked it to terminate */
    struct master_proc *next;
} master_proc;

/* master.c */
extern struct event_base *master_base;
extern master_serv *master_services;
extern int master_stopping;
extern int master_is_root;
extern uid_t master_owner_uid;
extern gid_t master_owner_gid;
extern argv_t *master_child_env;
int     master_inet_families(strbuf *why);
void    master_build_child_env(void);
void    master_check_finished(void);

/* master_service.c */
int     master_apply_services(service_table *table, strbuf *why);
void    master_service_update_listen(master_serv *svc);
void    master_service_drain_status(master_serv *svc);
void    master_service_throttle(master_serv *svc);
void    master_close_all_endpoints(void);

/* master_spawn.c */
void    master_spawn(master_serv *svc);
void    master_reap(void);
void    master_proc_status(master_serv *svc, pid_t pid, int status);
void    master_retire_children(master_serv *svc);
void    master_signal_children(master_serv *svc, int sig);
size_t  master_proc_count(void);

/* master_reload.c */
void    master_reload(void);

/* master_jail.c */
void    master_prepare_jail(void);

#endif
