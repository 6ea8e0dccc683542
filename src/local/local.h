/*
 * local - private interface between the modules of local(8).
 *
 * One request recipient is delivered by local_deliver_recipient() with a
 * local_ctx; while its aliases, :include: files and .forward files expand,
 * each level works with a local_level (where the address came from and
 * with whose rights files and commands are written and run). Outcomes go
 * through local_report(): the recipient's own outcome when nothing was
 * expanded (level 0), else one outcome per expanded member
 * (delivery_member_*), and the recipient is marked done at the end when
 * every member finished.
 *
 * Memory: a local_ctx owns its lists and tables; local_level values live
 * on the stack of the expansion and point into strings their parent owns.
 */
#ifndef POSTERN_LOCAL_H
#define POSTERN_LOCAL_H

#include <sys/types.h>

#include "argv.h"
#include "delivery.h"
#include "htable.h"
#include "maps.h"
#include "match_list.h"
#include "strbuf.h"

#define LOCAL_RELAY           "local"
#define LOCAL_NESTING_MAX     100       /* alias / include / forward depth */
#define LOCAL_DUPLICATE_DEFAULT 1000    /* duplicate_filter_limit when unset */

/* Where a destination came from: decides what allow_mail_to_* permits. */
enum local_class { LOCAL_CLASS_TOP, LOCAL_CLASS_ALIAS, LOCAL_CLASS_FORWARD,
                   LOCAL_CLASS_INCLUDE };

enum local_verdict { LOCAL_SENT, LOCAL_DEFER, LOCAL_BOUNCE };

typedef struct local_user {
    char   *name;
    char   *home;
    char   *shell;
    uid_t   uid;
    gid_t   gid;
} local_user;

typedef struct local_level {
    int     depth;                      /* 0: the request recipient itself */
    enum local_class class;
    uid_t   uid;                        /* rights for files and commands */
    gid_t   gid;
    const local_user *user;             /* account whose .forward/alias this is, or NULL */
    const char *owner;                  /* owner-alias sender for forwarding, or NULL */
} local_level;

typedef struct local_forward {
    char   *address;
    char   *owner;                      /* sender for the copy; "" keeps the original */
    int     depth;                      /* level that asked for it, for the report */
} local_forward;

typedef struct local_ctx {
    delivery *d;
    size_t  rcpt;
    const char *delivered_to;           /* the request recipient (frozen) */
    argv_t *path;                       /* addresses being expanded, outermost first */
    htable *seen;                       /* duplicate filter */
    local_forward *forward;             /* remote members to resubmit */
    size_t  forward_count;
    int     members;                    /* member outcomes reported */
    int     member_failed;              /* a member outcome could not be recorded */
    int     member_deferred;
    int     finished;                   /* the recipient's own outcome was reported */
} local_ctx;

/* Configuration opened at start-up (local.c). */
extern maps_t *local_alias_maps;
extern maps_t *local_command_maps;
extern maps_t *local_transport_maps;
extern maps_t *local_fallback_maps;
extern match_list *local_destinations;
extern int local_lock_styles;
extern uid_t local_default_uid;
extern uid_t local_owner_uid;
extern gid_t local_owner_gid;
extern gid_t local_default_gid;

/* local.c */
void    local_rest(void);
void    local_report(local_ctx *ctx, const local_level *level, const char *address,
                     enum local_verdict verdict, const char *dsn, const char *reason,
                     const char *action);
int     local_seen(local_ctx *ctx, const char *kind, const char *what);
local_user *local_user_lookup(const char *name);
local_user *local_user_by_uid(uid_t uid);
void    local_user_free(local_user *user);
int     local_class_allowed(const char *list, enum local_class class);
const char *local_expand_lookup(const char *name, void *context);

/* local_expand.c */
void    local_deliver_address(local_ctx *ctx, const local_level *level, const char *address);
size_t  local_deliver_list(local_ctx *ctx, const local_level *level, const char *list);

/* local_mailbox.c */
void    local_deliver_mailbox(local_ctx *ctx, const local_level *level, const char *address,
                              const local_user *user, const char *extension);
void    local_deliver_file(local_ctx *ctx, const local_level *level, const char *address,
                           const char *path);

int     local_wants_delivered_to(const char *kind);
struct mail_copy_args;
void    local_copy_args(struct mail_copy_args *args, local_ctx *ctx, const char *kind);

/* local_command.c */
void    local_deliver_command(local_ctx *ctx, const local_level *level, const char *address,
                              const char *command, const local_user *user,
                              const char *extension);
void    local_command_env(argv_t *env, local_ctx *ctx, const char *address,
                          const local_user *user, const char *extension);

/* local_forward.c */
void    local_forward_add(local_ctx *ctx, const local_level *level, const char *address);
void    local_forward_flush(local_ctx *ctx);
void    local_deliver_transport(local_ctx *ctx, const local_level *level, const char *address,
                                const char *transport);

#endif
