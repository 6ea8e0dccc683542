/*
 * local_expand - from an address to its deliveries, in Postfix's order:
 * aliases (alias_maps), .forward files (forward_path), mailbox_transport
 * (for users and unknown names alike), then the mailbox (local_mailbox.c)
 * or, for unknown users, fallback_transport and luser_relay; and the
 * destinations an expansion lists: addresses, "|command", "/file",
 * "\user", ":include:/file".
 *
 * Loops: the addresses being expanded form a path (ctx->path); an address
 * that comes back to itself directly ("alice: alice, ...") is delivered to
 * its mailbox, an address that comes back through others ("a: b", "b: a")
 * is bounced as "mail forwarding loop". Duplicates within one recipient's
 * expansion are delivered once (local_seen).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr_find.h"
#include "config.h"
#include "expand.h"
#include "local.h"
#include "mail_addr.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "set_eugid.h"

#define LOCAL_LIST_FILE_MAX  (1024 * 1024)  /* bytes read from a .forward or :include: file */

static void report_text(local_ctx *ctx, const local_level *level, const char *address,
                        enum local_verdict verdict, const char *dsn, const char *fmt,
                        const char *arg)
{
    strbuf *why = strbuf_new(64);

    strbuf_printf(why, fmt, arg);
    local_report(ctx, level, address, verdict, dsn, why->data, NULL);
    strbuf_free(why);
}

/* The local part, lowercased, with its extension split off. */
static void split_local(const char *address, strbuf *local, strbuf *base, strbuf *extension,
                        strbuf *domain)
{
    mail_addr_parts parts;
    size_t  base_len;

    mail_addr_split(address, strlen(address), &parts);
    strbuf_set_mem(local, parts.local, parts.local_len);
    strbuf_lowercase(local);
    strbuf_set_mem(domain, parts.domain ? parts.domain : "", parts.domain ? parts.domain_len : 0);
    strbuf_lowercase(domain);
    if (addr_split_extension(local->data, var_recipient_delimiter, &base_len)) {
        strbuf_set_mem(base, local->data, base_len);
        strbuf_set(extension, local->data + base_len + 1);
    } else {
        strbuf_set(base, local->data);
        strbuf_reset(extension);
    }
}

static int is_local_domain(const char *domain)
{
    return *domain == 0 || domain_list_match(local_destinations, domain) == 1;
}

/* A bare local part gets @$myorigin, as trivial-rewrite would add. */
static char *qualify(const char *address)
{
    strbuf *full = strbuf_from(address);

    if (strchr(address, '@') == NULL)
        strbuf_append_printf(full, "@%s", var_myorigin);
    return strbuf_steal(full);
}

/* -1: the address is on the path through other addresses; 1: it is the
 * parent itself (self-reference); 0: not on the path. */
static int path_position(const local_ctx *ctx, const char *address)
{
    for (size_t i = 0; i < ctx->path->count; i++)
        if (strcasecmp(ctx->path->items[i], address) == 0)
            return i + 1 == ctx->path->count ? 1 : -1;
    return 0;
}

/* Rights for deliveries from the alias database: its owner, unless root. */
static void alias_rights(uid_t *uid, gid_t *gid)
{
    argv_t *tables = argv_split(var_alias_maps, ARGV_LIST_DELIMITERS);
    struct stat st;
    const char *colon;

    *uid = local_default_uid;
    *gid = local_default_gid;
    if (tables->count && (colon = strchr(tables->items[0], ':')) != NULL) {
        strbuf *path = strbuf_from(colon + 1);

        if (strncmp(tables->items[0], "hash:", 5) == 0 || strncmp(tables->items[0], "btree:", 6) == 0)
            strbuf_append_str(path, ".db");
        if (path->data[0] == '/' && stat(path->data, &st) == 0 && st.st_uid != 0) {
            *uid = st.st_uid;
            *gid = st.st_gid;
        }
        strbuf_free(path);
    }
    argv_free(tables);
}

/* owner-NAME, when the alias database has it and owner_request_special. */
static char *owner_alias(const char *name)
{
    strbuf *key = strbuf_new(64);
    const char *value;
    char   *owner = NULL;

    strbuf_printf(key, "owner-%s", name);
    if (var_owner_request_special && strncmp(name, "owner-", 6) != 0
        && maps_find(local_alias_maps, key->data, 0, &value) == MAP_OK)
        owner = qualify(var_expand_owner_alias ? value : key->data);
    strbuf_free(key);
    return owner;
}

/* 1 when an alias was found and expanded (or failed), 0 when there is none. */
static int expand_alias(local_ctx *ctx, const local_level *level, const char *address,
                        const char *local)
{
    const char *value;
    int     status = maps_find(local_alias_maps, local, 0, &value);
    local_level next;
    char   *list;
    char   *owner;

    if (status == MAP_NOTFOUND)
        return 0;
    if (status == MAP_ERROR) {
        local_report(ctx, level, address, LOCAL_DEFER, "4.3.0",
                     "alias database unavailable", NULL);
        return 1;
    }
    list = xstrdup(value);
    owner = owner_alias(local);
    next = (local_level) {.depth = level->depth + 1,.class = LOCAL_CLASS_ALIAS,
        .owner = owner ? owner : level->owner };
    alias_rights(&next.uid, &next.gid);
    argv_add(ctx->path, address);
    local_deliver_list(ctx, &next, list);
    argv_truncate(ctx->path, ctx->path->count - 1);
    free(owner);
    free(list);
    return 1;
}

/* Reads a list file (.forward or :include:) as uid:gid into `text`. */
static int read_list_file(const char *path, uid_t uid, gid_t gid, strbuf *text,
                          struct stat *st, strbuf *why)
{
    int     fd;
    char    buf[4096];
    ssize_t n;

    set_eugid(uid, gid);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    local_rest();
    if (fd < 0) {
        strbuf_printf(why, "cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT ? 0 : -1;
    }
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        strbuf_printf(why, "%s is not a regular file", path);
        close(fd);
        return -1;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0 && text->len < LOCAL_LIST_FILE_MAX)
        strbuf_append(text, buf, (size_t) n);
    close(fd);
    if (n < 0) {
        strbuf_printf(why, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    return 1;
}

static void deliver_include(local_ctx *ctx, const local_level *level, const char *address,
                            const char *path)
{
    strbuf *text = strbuf_new(256);
    strbuf *why = strbuf_new(64);
    struct stat st;
    int     got;

    if (*path != '/') {
        report_text(ctx, level, address, LOCAL_BOUNCE, "5.3.5",
                    ":include:%s uses a relative path", path);
    } else if (local_seen(ctx, "include", path)) {
        /* listed twice: its members were delivered the first time */
    } else if ((got = read_list_file(path, level->uid, level->gid, text, &st, why)) <= 0) {
        local_report(ctx, level, address, got == 0 ? LOCAL_BOUNCE : LOCAL_DEFER,
                     got == 0 ? "5.3.5" : "4.3.0", why->data, NULL);
    } else if (st.st_mode & S_IWOTH) {
        report_text(ctx, level, address, LOCAL_BOUNCE, "5.7.1",
                    ":include: file %s is world-writable", path);
    } else {
        local_level next = *level;

        next.depth = level->depth + 1;
        next.class = LOCAL_CLASS_INCLUDE;
        if (st.st_uid != 0) {
            next.uid = st.st_uid;
            next.gid = st.st_gid;
        }
        local_deliver_list(ctx, &next, text->data);
    }
    strbuf_free(text);
    strbuf_free(why);
}

/* One destination of an expansion. */
static void deliver_token(local_ctx *ctx, const local_level *level, const char *token)
{
    const char *parent = ctx->path->count ? ctx->path->items[ctx->path->count - 1] : "";

    if (level->depth > LOCAL_NESTING_MAX) {
        local_report(ctx, level, parent, LOCAL_BOUNCE, "5.4.6",
                     "mail forwarding loop: too many nested expansions", NULL);
    } else if (*token == '|') {
        if (!local_class_allowed(var_allow_mail_to_commands, level->class))
            local_report(ctx, level, parent, LOCAL_BOUNCE, "5.7.1",
                         "mail to command is restricted", NULL);
        else
            local_deliver_command(ctx, level, parent, token + 1, NULL, "");
    } else if (*token == '/') {
        if (!local_class_allowed(var_allow_mail_to_files, level->class))
            local_report(ctx, level, parent, LOCAL_BOUNCE, "5.7.1",
                         "mail to file is restricted", NULL);
        else
            local_deliver_file(ctx, level, parent, token);
    } else if (strncasecmp(token, ":include:", 9) == 0) {
        deliver_include(ctx, level, parent, token + 9);
    } else if (*token == '\\') {
        char   *address = qualify(token + 1);

        argv_add(ctx->path, address);
        local_deliver_address(ctx, level, address);
        argv_truncate(ctx->path, ctx->path->count - 1);
        free(address);
    } else {
        char   *address = qualify(token);

        local_deliver_address(ctx, level, address);
        free(address);
    }
}

/* Next token of a list: comma or newline separated; a quoted token keeps
 * its commas and spaces; an unquoted one ends at white space too, unless it
 * is a command. */
static const char *next_token(const char *p, strbuf *token)
{
    strbuf_reset(token);
    while (*p && (isspace((unsigned char) *p) || *p == ','))
        p++;
    if (*p == '#') {
        while (*p && *p != '\n')
            p++;
        return p;
    }
    if (*p == '"') {
        for (p++; *p && *p != '"' && *p != '\n'; p++) {
            if (*p == '\\' && p[1] && p[1] != '\n')
                p++;
            strbuf_append_char(token, *p);
        }
        if (*p == '"')
            p++;
        while (*p && !isspace((unsigned char) *p) && *p != ',')
            strbuf_append_char(token, *p++);
        return p;
    }
    while (*p && *p != ',' && *p != '\n'
           && (*token->data == '|' || !isspace((unsigned char) *p)))
        strbuf_append_char(token, *p++);
    while (token->len && isspace((unsigned char) token->data[token->len - 1]))
        strbuf_truncate(token, token->len - 1);
    return p;
}

size_t local_deliver_list(local_ctx *ctx, const local_level *level, const char *list)
{
    strbuf *token = strbuf_new(64);
    size_t  count = 0;

    for (const char *p = list; *p;) {
        p = next_token(p, token);
        if (token->len) {
            deliver_token(ctx, level, token->data);
            count++;
        }
    }
    strbuf_free(token);
    return count;
}

/* An empty value counts as undefined: a forward_path entry that uses one
 * ("$home/.forward${recipient_delimiter}${extension}" without extension)
 * is skipped. */
typedef struct forward_vars {
    const char *const *pairs;
    int     undefined;
} forward_vars;

static const char *forward_lookup(const char *name, void *context)
{
    forward_vars *vars = context;
    const char *value = local_expand_lookup(name, (void *) vars->pairs);

    return value && *value ? value : NULL;
}

static void forward_undefined(const char *name, void *context)
{
    (void) name;
    ((forward_vars *) context)->undefined = 1;
}

/* forward_path entries, expanded for this user; the first file that exists. */
static int try_forward(local_ctx *ctx, const local_level *level, const char *address,
                       const local_user *user, const char *extension)
{
    const char *values[] = {"home", user->home, "user", user->name, "extension", extension,
        "recipient_delimiter", var_recipient_delimiter, "shell", user->shell, NULL};
    forward_vars vars = {.pairs = values };
    argv_t *paths = argv_split(var_forward_path, ",");
    strbuf *path = strbuf_new(64);
    strbuf *text = strbuf_new(256);
    strbuf *why = strbuf_new(64);
    int     used = 0;

    for (size_t i = 0; i < paths->count && !used; i++) {
        expand_ctx ectx = {.lookup = forward_lookup,.undefined = forward_undefined,
            .context = &vars };
        struct stat st;
        int     got;

        vars.undefined = 0;
        strbuf_reset(path);
        if (expand_text(path, paths->items[i], &ectx, why) < 0 || vars.undefined)
            continue;
        while (path->len && isspace((unsigned char) path->data[0]))
            memmove(path->data, path->data + 1, path->len--);
        if (path->data[0] != '/')
            continue;
        strbuf_reset(text);
        if ((got = read_list_file(path->data, user->uid, user->gid, text, &st, why)) < 0) {
            msg_warn("%s: %s", ctx->d->req->queue_id, why->data);
            local_report(ctx, level, address, LOCAL_DEFER, "4.3.0", why->data, NULL);
            used = 1;
        } else if (got > 0) {
            local_level next = {.depth = level->depth + 1,.class = LOCAL_CLASS_FORWARD,
                .uid = user->uid,.gid = user->gid,.user = user,.owner = level->owner };

            if ((st.st_uid != user->uid && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
                msg_warn("%s: %s is writable by others or not owned by %s: "
                         "treating it as an :include: file", ctx->d->req->queue_id,
                         path->data, user->name);
                next.class = LOCAL_CLASS_INCLUDE;
            }
            argv_add(ctx->path, address);
            used = local_deliver_list(ctx, &next, text->data) > 0;
            argv_truncate(ctx->path, ctx->path->count - 1);
        }
    }
    argv_free(paths);
    strbuf_free(path);
    strbuf_free(text);
    strbuf_free(why);
    return used;
}

/* Unknown users: fallback_transport_maps, fallback_transport, luser_relay. */
static void unknown_user(local_ctx *ctx, const local_level *level, const char *address,
                         const char *base, const char *extension, const char *domain)
{
    const char *transport;

    if (maps_find(local_fallback_maps, base, 0, &transport) != MAP_OK)
        transport = var_fallback_transport;
    if (*transport) {
        local_deliver_transport(ctx, level, address, transport);
    } else if (*var_luser_relay) {
        const char *values[] = {"user", base, "extension", extension, "domain", domain,
            "local", base, "recipient", address, "recipient_delimiter",
            var_recipient_delimiter, NULL};
        expand_ctx ectx = {.lookup = local_expand_lookup,.context = (void *) values };
        strbuf *relay = strbuf_new(64);
        strbuf *why = strbuf_new(16);

        if (expand_text(relay, var_luser_relay, &ectx, why) == 0 && relay->len) {
            char   *target = qualify(relay->data);

            local_forward_add(ctx, level, target);
            free(target);
        } else {
            local_report(ctx, level, address, LOCAL_DEFER, "4.3.5",
                         "bad luser_relay setting", NULL);
        }
        strbuf_free(relay);
        strbuf_free(why);
    } else {
        report_text(ctx, level, address, LOCAL_BOUNCE, "5.1.1", "unknown user: \"%s\"", base);
    }
}

/* mailbox_transport_maps (by user name), mailbox_transport: 1 when used. */
static int mailbox_transport(local_ctx *ctx, const local_level *level, const char *address,
                             const char *base)
{
    const char *transport;

    if (maps_find(local_transport_maps, base, 0, &transport) != MAP_OK)
        transport = var_mailbox_transport;
    if (*transport == 0)
        return 0;
    if (!local_seen(ctx, "mailbox", base))
        local_deliver_transport(ctx, level, address, transport);
    return 1;
}

/* An alias whose expansion leads back into itself: reported for that alias. */
static void report_loop(local_ctx *ctx, const local_level *level)
{
    const char *alias = ctx->path->items[ctx->path->count - 1];
    mail_addr_parts parts;
    strbuf *name = strbuf_new(32);

    mail_addr_split(alias, strlen(alias), &parts);
    strbuf_set_mem(name, parts.local, parts.local_len);
    msg_warn("alias database loop for %s", name->data);
    report_text(ctx, level, alias, LOCAL_BOUNCE, "5.4.6", "alias database loop for %s",
                name->data);
    strbuf_free(name);
}

void local_deliver_address(local_ctx *ctx, const local_level *level, const char *address)
{
    strbuf *local = strbuf_new(32);
    strbuf *base = strbuf_new(32);
    strbuf *extension = strbuf_new(16);
    strbuf *domain = strbuf_new(32);
    int     position = path_position(ctx, address);
    local_user *user = NULL;

    split_local(address, local, base, extension, domain);
    if (position < 0 && level->class == LOCAL_CLASS_ALIAS) {
        report_loop(ctx, level);
    } else if (position < 0) {
        report_text(ctx, level, address, LOCAL_BOUNCE, "5.4.6",
                    "mail forwarding loop for %s", address);
    } else if (!is_local_domain(domain->data)) {
        local_forward_add(ctx, level, address);
    } else if (position == 0 && (expand_alias(ctx, level, address, local->data)
                                 || (extension->len
                                     && expand_alias(ctx, level, address, base->data)))) {
        /* delivered as the alias says */
    } else if ((user = local_user_lookup(base->data)) != NULL && position == 0
               && try_forward(ctx, level, address, user, extension->data)) {
        /* delivered as the .forward file says */
    } else if (mailbox_transport(ctx, level, address, base->data)) {
        /* handed to mailbox_transport, user or not */
    } else if (user == NULL) {
        unknown_user(ctx, level, address, base->data, extension->data, domain->data);
    } else {
        local_deliver_mailbox(ctx, level, address, user, extension->data);
    }
    local_user_free(user);
    strbuf_free(local);
    strbuf_free(base);
    strbuf_free(extension);
    strbuf_free(domain);
}
