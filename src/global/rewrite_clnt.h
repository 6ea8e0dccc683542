/*
 * rewrite_clnt - ask trivial-rewrite to rewrite or resolve an address.
 *
 * The client side of the trivial-rewrite conversation (docs/protocols.md).
 * One connection per process, opened on first use, reopened when the
 * server went away or the connection sat idle longer than ipc_idle.
 *
 * rewrite_clnt() canonicalizes `address` in the REWRITE_LOCAL or
 * REWRITE_REMOTE context into `result`. resolve_clnt() fills a
 * resolve_reply (initialise it once with resolve_reply_init(), release it
 * with resolve_reply_free()). Both return 0, or -1 when trivial-rewrite
 * could not be reached after a few attempts (logged): the caller defers.
 * A reply flagged RESOLVE_FLAG_FAIL means trivial-rewrite could not decide
 * (a table failed): also defer, never guess.
 */
#ifndef POSTERN_REWRITE_CLNT_H
#define POSTERN_REWRITE_CLNT_H

#include "strbuf.h"

#define REWRITE_LOCAL   "local"
#define REWRITE_REMOTE  "remote"

#define RESOLVE_FLAG_FINAL      (1 << 0)
#define RESOLVE_FLAG_ROUTED     (1 << 1)
#define RESOLVE_FLAG_ERROR      (1 << 2)
#define RESOLVE_FLAG_FAIL       (1 << 3)
#define RESOLVE_CLASS_LOCAL     (1 << 8)
#define RESOLVE_CLASS_ALIAS     (1 << 9)
#define RESOLVE_CLASS_VIRTUAL   (1 << 10)
#define RESOLVE_CLASS_RELAY     (1 << 11)
#define RESOLVE_CLASS_DEFAULT   (1 << 12)
#define RESOLVE_CLASS_MASK      (RESOLVE_CLASS_LOCAL | RESOLVE_CLASS_ALIAS \
                                 | RESOLVE_CLASS_VIRTUAL | RESOLVE_CLASS_RELAY \
                                 | RESOLVE_CLASS_DEFAULT)
#define RESOLVE_CLASS_FINAL     (RESOLVE_CLASS_LOCAL | RESOLVE_CLASS_ALIAS \
                                 | RESOLVE_CLASS_VIRTUAL)

typedef struct resolve_reply {
    int     flags;
    strbuf *transport;
    strbuf *nexthop;
    strbuf *recipient;
} resolve_reply;

void resolve_reply_init(resolve_reply *reply);
void resolve_reply_free(resolve_reply *reply);
int  rewrite_clnt(const char *rule, const char *address, strbuf *result);
int  resolve_clnt(const char *sender, const char *address, resolve_reply *reply);
void rewrite_clnt_disconnect(void);

#endif
