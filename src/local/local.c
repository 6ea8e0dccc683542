/*
 * local - the local delivery agent (local(8)): mailboxes, aliases,
 * .forward files, files and commands, as Postfix's local(8) does.
 *
 * A single-connection server under master (master.cf: unpriv n, chroot n):
 * it keeps root only to take on the identity of each recipient; every file
 * it writes is written, and every command runs, with the rights of the
 * recipient, of the alias database owner or of default_privs. One request
 * from qmgr per connection (delivery.h); each recipient is delivered by
 * local_deliver_recipient(), reported with delivery_* and the request is
 * answered by delivery_finish(). docs/local.md describes the behaviour.
 */
#include <ctype.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "local.h"
#include "mail_copy.h"
#include "mail_params.h"
#include "mbox_open.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "set_eugid.h"

maps_t *local_alias_maps;
maps_t *local_command_maps;
maps_t *local_transport_maps;
maps_t *local_fallback_maps;
match_list *local_destinations;
int     local_lock_styles;
uid_t   local_default_uid;
gid_t   local_default_gid;
uid_t   local_owner_uid;
gid_t   local_owner_gid;

/* Between user file accesses local works as mail_owner, so the status logs
 * and queue file updates it writes belong to the mail system. */
void local_rest(void)
{
    set_eugid(local_owner_uid, local_owner_gid);
}

local_user *local_user_lookup(const char *name)
{
    struct passwd *pw = getpwnam(name);
    local_user *user;

    if (pw == NULL)
        return NULL;
    user = xcalloc(1, sizeof(*user));
    user->name = xstrdup(pw->pw_name);
    user->home = xstrdup(pw->pw_dir);
    user->shell = xstrdup(pw->pw_shell);
    user->uid = pw->pw_uid;
    user->gid = pw->pw_gid;
    return user;
}

local_user *local_user_by_uid(uid_t uid)
{
    struct passwd *pw = getpwuid(uid);

    return pw ? local_user_lookup(pw->pw_name) : NULL;
}

void local_user_free(local_user *user)
{
    if (user == NULL)
        return;
    free(user->name);
    free(user->home);
    free(user->shell);
    free(user);
}

int local_class_allowed(const char *list, enum local_class class)
{
    static const char *const names[] = {"", "alias", "forward", "include"};
    argv_t *words = argv_split(list, ARGV_LIST_DELIMITERS);
    int     allowed = 0;

    for (size_t i = 0; i < words->count; i++)
        if (strcasecmp(words->items[i], names[class]) == 0)
            allowed = 1;
    argv_free(words);
    return allowed || class == LOCAL_CLASS_TOP;
}

/* Lookup for expand_text() over a NULL-terminated name, value, ... array. */
const char *local_expand_lookup(const char *name, void *context)
{
    const char *const *pairs = context;

    for (size_t i = 0; pairs[i]; i += 2)
        if (strcmp(pairs[i], name) == 0)
            return pairs[i + 1];
    return NULL;
}

/* duplicate_filter_limit belongs to cleanup's parameters (intake.def);
 * read by name so local works whichever area declares it. */
static long duplicate_limit(void)
{
    strbuf *value = strbuf_new(16);
    long    limit = LOCAL_DUPLICATE_DEFAULT;

    if (config_eval("duplicate_filter_limit", value) == 0 && value->len
        && param_parse_long(value->data, &limit) < 0)
        msg_fatal("bad duplicate_filter_limit value: %s", value->data);
    strbuf_free(value);
    return limit < 0 ? 0 : limit;
}

static long local_duplicate_limit;

int local_seen(local_ctx *ctx, const char *kind, const char *what)
{
    strbuf *key = strbuf_new(64);
    int     seen;

    strbuf_printf(key, "%s:%s", kind, what);
    if (!(seen = htable_get(ctx->seen, key->data) != NULL)
        && (local_duplicate_limit == 0 || ctx->seen->used < (size_t) local_duplicate_limit))
        htable_put(ctx->seen, key->data, (void *) 1, NULL);
    strbuf_free(key);
    return seen;
}

void local_report(local_ctx *ctx, const local_level *level, const char *address,
                  enum local_verdict verdict, const char *dsn, const char *reason,
                  const char *action)
{
    delivery *d = ctx->d;

    if (level->depth == 0) {
        ctx->finished = 1;
        if (verdict == LOCAL_SENT)
            delivery_sent(d, ctx->rcpt, LOCAL_RELAY, dsn, reason, action);
        else if (verdict == LOCAL_BOUNCE)
            delivery_bounced(d, ctx->rcpt, LOCAL_RELAY, dsn, reason, NULL);
        else
            delivery_deferred(d, ctx->rcpt, LOCAL_RELAY, dsn, reason, NULL);
        return;
    }
    ctx->members++;
    if (verdict == LOCAL_DEFER) {
        ctx->member_deferred = 1;
        delivery_member_deferred(d, ctx->rcpt, address, LOCAL_RELAY, dsn, reason);
    } else if ((verdict == LOCAL_SENT
                ? delivery_member_sent(d, ctx->rcpt, address, LOCAL_RELAY, dsn, reason, action)
                : delivery_member_bounced(d, ctx->rcpt, address, LOCAL_RELAY, dsn, reason)) < 0) {
        ctx->member_failed = 1;
    }
}

/* After the expansion: mark the recipient done when every member finished. */
static void finish_recipient(local_ctx *ctx)
{
    if (ctx->finished)
        return;
    if (ctx->member_failed)
        delivery_deferred(ctx->d, ctx->rcpt, LOCAL_RELAY, "4.3.0",
                          "cannot record delivery status", NULL);
    else if (ctx->member_deferred)
        ctx->d->deferred = 1;
    else if (ctx->members == 0)
        delivery_deferred(ctx->d, ctx->rcpt, LOCAL_RELAY, "4.3.0",
                          "expansion produced no deliveries", NULL);
    else
        delivery_done(ctx->d, ctx->rcpt);
}

static void deliver_one(delivery *d, size_t i)
{
    local_ctx ctx = {.d = d,.rcpt = i,.delivered_to = d->req->rcpt[i].address };
    local_level top = {.depth = 0,.class = LOCAL_CLASS_TOP,
        .uid = local_default_uid,.gid = local_default_gid };
    int     loop;

    ctx.path = argv_new(8);
    ctx.seen = htable_new(16);
    loop = mail_copy_has_delivered_to(d->qf->stream, d->req->data_offset, ctx.delivered_to);
    if (loop < 0) {
        local_report(&ctx, &top, ctx.delivered_to, LOCAL_DEFER, "4.3.0",
                     "error reading message: queue file damaged", NULL);
    } else if (loop > 0) {
        strbuf *why = strbuf_new(64);

        strbuf_printf(why, "mail forwarding loop for %s", ctx.delivered_to);
        local_report(&ctx, &top, ctx.delivered_to, LOCAL_BOUNCE, "5.4.6", why->data, NULL);
        strbuf_free(why);
    } else {
        local_deliver_address(&ctx, &top, ctx.delivered_to);
        local_forward_flush(&ctx);
    }
    finish_recipient(&ctx);
    argv_free(ctx.path);
    htable_free(ctx.seen, NULL);
}

static void local_service(stream *client, const server_ctx *sctx)
{
    delivery *d = delivery_start(client);

    (void) sctx;
    if (d == NULL)
        return;
    local_rest();
    for (size_t i = 0; i < d->req->rcpt_count; i++)
        deliver_one(d, i);
    delivery_finish(d, client, 0, NULL, NULL);
    set_eugid(0, 0);
}

static void local_pre_init(const server_ctx *sctx)
{
    struct passwd *pw;

    (void) sctx;
    if ((pw = getpwnam(var_default_privs)) == NULL)
        msg_fatal("unknown default_privs user: %s", var_default_privs);
    if (pw->pw_uid == 0)
        msg_fatal("default_privs must not be a privileged user: %s", var_default_privs);
    local_default_uid = pw->pw_uid;
    local_default_gid = pw->pw_gid;
    if (getuid() == 0) {
        if ((pw = getpwnam(var_mail_owner)) == NULL)
            msg_fatal("unknown mail_owner user: %s", var_mail_owner);
        local_owner_uid = pw->pw_uid;
        local_owner_gid = pw->pw_gid;
    }
    if ((local_lock_styles = mbox_lock_styles(var_mailbox_delivery_lock)) < 0)
        msg_fatal("bad mailbox_delivery_lock value: %s", var_mailbox_delivery_lock);
    local_alias_maps = maps_open("alias_maps", var_alias_maps, MAP_FLAG_FOLD);
    local_command_maps = maps_open("mailbox_command_maps", var_mailbox_command_maps,
                                   MAP_FLAG_FOLD);
    local_transport_maps = maps_open("mailbox_transport_maps", var_mailbox_transport_maps,
                                     MAP_FLAG_FOLD);
    local_fallback_maps = maps_open("fallback_transport_maps", var_fallback_transport_maps,
                                    MAP_FLAG_FOLD);
    local_destinations = domain_list_new("mydestination", var_mydestination);
    local_duplicate_limit = duplicate_limit();
}

int main(int argc, char **argv)
{
    static const server_spec spec = {
        .pre_init = local_pre_init,
        .service = local_service,
    };

    single_server_main(argc, argv, &spec);
}
