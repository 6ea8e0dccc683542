/*
 * local_command - "|command" destinations and mailbox_command.
 *
 * Commands from aliases, :include: and .forward files run with the rights
 * of their level (alias database owner or default_privs, include file
 * owner, the user); mailbox_command runs as the recipient (as
 * default_privs when that would be root, as for any command), after $name
 * expansion whose values are filtered by command_expansion_filter (each
 * other character becomes '_'), so no envelope text reaches a shell
 * unfiltered. A command with shell metacharacters runs through /bin/sh -c
 * (or local_command_shell); otherwise it is split on white space and run
 * directly. The environment is built from scratch: export_environment,
 * PATH, HOME, LOGNAME, USER, SHELL, SENDER, RECIPIENT, LOCAL, DOMAIN,
 * EXTENSION, ORIGINAL_RECIPIENT, ENVID and the CLIENT_* attributes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "command_run.h"
#include "expand.h"
#include "local.h"
#include "mail_addr.h"
#include "mail_copy.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"

#define LOCAL_SHELL_METACHARS  "!\"#$&'()*;<>?[\\]`{|}~\n\r\t"

typedef struct command_input {
    local_ctx *ctx;
    int     ok;
} command_input;

static void env_add(argv_t *env, const char *name, const char *value)
{
    strbuf *pair = strbuf_new(64);

    strbuf_printf(pair, "%s=%s", name, value ? value : "");
    argv_add(env, pair->data);
    strbuf_free(pair);
}

void local_command_env(argv_t *env, local_ctx *ctx, const char *address,
                       const local_user *user, const char *extension)
{
    const deliver_request *req = ctx->d->req;
    const deliver_recipient *rcpt = &req->rcpt[ctx->rcpt];
    argv_t *exported = argv_split(var_export_environment, ARGV_LIST_DELIMITERS);
    mail_addr_parts parts;
    strbuf *local = strbuf_new(32);

    for (size_t i = 0; i < exported->count; i++) {
        const char *value = getenv(exported->items[i]);

        if (value && strcmp(exported->items[i], "PATH") != 0)
            env_add(env, exported->items[i], value);
    }
    argv_free(exported);
    env_add(env, "PATH", "/usr/bin:/bin");
    if (user) {
        env_add(env, "HOME", user->home);
        env_add(env, "LOGNAME", user->name);
        env_add(env, "USER", user->name);
        env_add(env, "SHELL", user->shell);
    }
    mail_addr_split(address, strlen(address), &parts);
    strbuf_set_mem(local, parts.local, parts.local_len);
    env_add(env, "SENDER", req->sender);
    env_add(env, "RECIPIENT", address);
    env_add(env, "LOCAL", local->data);
    env_add(env, "DOMAIN", parts.domain ? parts.domain : "");
    env_add(env, "EXTENSION", extension);
    env_add(env, "ORIGINAL_RECIPIENT", rcpt->orig_rcpt[0] ? rcpt->orig_rcpt : rcpt->address);
    env_add(env, "ENVID", req->dsn_envid);
    env_add(env, "CLIENT_HOSTNAME", req->client_name);
    env_add(env, "CLIENT_ADDRESS", req->client_address);
    env_add(env, "CLIENT_HELO", req->client_helo);
    env_add(env, "CLIENT_PROTOCOL", req->client_protocol);
    env_add(env, "SASL_USERNAME", req->sasl_username);
    strbuf_free(local);
}

/* $name expansion of mailbox_command, values filtered. */
static int expand_command(strbuf *out, local_ctx *ctx, const char *command, const char *address,
                          const local_user *user, const char *extension)
{
    const deliver_request *req = ctx->d->req;
    const deliver_recipient *rcpt = &req->rcpt[ctx->rcpt];
    mail_addr_parts parts;
    strbuf *local = strbuf_new(32);
    strbuf *domain = strbuf_new(32);
    strbuf *mailbox = strbuf_new(64);
    strbuf *why = strbuf_new(32);
    int     rc;

    mail_addr_split(address, strlen(address), &parts);
    strbuf_set_mem(local, parts.local, parts.local_len);
    strbuf_set_mem(domain, parts.domain ? parts.domain : "", parts.domain ? parts.domain_len : 0);
    strbuf_printf(mailbox, "%s/%s", var_mail_spool_directory, user->name);
    {
        const char *values[] = {"client_address", req->client_address,
            "client_hostname", req->client_name, "client_helo", req->client_helo,
            "client_protocol", req->client_protocol, "domain", domain->data,
            "extension", extension, "home", user->home, "local", local->data,
            "mailbox", mailbox->data, "original_recipient",
            rcpt->orig_rcpt[0] ? rcpt->orig_rcpt : rcpt->address,
            "recipient", address, "recipient_delimiter", var_recipient_delimiter,
            "sasl_username", req->sasl_username, "sender", req->sender,
            "shell", user->shell, "user", user->name, NULL};
        expand_ctx ectx = {.lookup = local_expand_lookup,.context = (void *) values,
            .filter = var_command_expansion_filter };

        rc = expand_text(out, command, &ectx, why);
    }
    if (rc < 0)
        msg_warn("%s: bad mailbox_command: %s", req->queue_id, why->data);
    strbuf_free(local);
    strbuf_free(domain);
    strbuf_free(mailbox);
    strbuf_free(why);
    return rc;
}

static argv_t *command_argv(const char *command)
{
    argv_t *args;

    if (*var_local_command_shell) {
        args = argv_split(var_local_command_shell, " \t");
        argv_add(args, command);
    } else if (strpbrk(command, LOCAL_SHELL_METACHARS)) {
        args = argv_new(3);
        argv_add(args, "/bin/sh");
        argv_add(args, "-c");
        argv_add(args, command);
    } else {
        args = argv_split(command, " \t");
    }
    return args;
}

static int write_message(stream *to_child, void *context)
{
    command_input *input = context;
    local_ctx *ctx = input->ctx;
    mail_copy_args args;
    strbuf *why = strbuf_new(32);

    local_copy_args(&args, ctx, "command");
    args.flags |= MAIL_COPY_FROM;
    input->ok = mail_copy(ctx->d->qf->stream, ctx->d->req->data_offset, to_child, &args,
                          why) != MAIL_COPY_READ_ERROR;
    strbuf_free(why);
    return input->ok ? 0 : -1;
}

static void run_command(local_ctx *ctx, const local_level *level, const char *address,
                        const char *command, const local_user *env_user, uid_t uid, gid_t gid,
                        const char *extension)
{
    argv_t *args = command_argv(command);
    argv_t *env = argv_new(24);
    command_input input = {.ctx = ctx,.ok = 1 };
    command_spec spec = {.argv = args->items,.uid = uid,.gid = gid,
        .cwd = env_user ? env_user->home : "/",.time_limit = var_command_time_limit,
        .write_input = write_message,.context = &input };
    command_result res;
    strbuf *reason = strbuf_new(64);
    char    dsn[16];
    enum command_verdict verdict;

    if (uid == 0) {
        spec.uid = local_default_uid;
        spec.gid = local_default_gid;
    }
    local_command_env(env, ctx, address, env_user, extension);
    spec.env = env->items;
    if (args->count == 0) {
        local_report(ctx, level, address, LOCAL_BOUNCE, "5.3.5", "empty command", NULL);
    } else {
        command_run(&spec, &res);
        verdict = input.ok ? command_outcome(&res, command, dsn, reason) : COMMAND_DEFER;
        if (!input.ok)
            local_report(ctx, level, address, LOCAL_DEFER, "4.3.0",
                         "error reading message: queue file damaged", NULL);
        else if (verdict == COMMAND_SENT) {
            strbuf_printf(reason, "delivered to command: %s", command);
            local_report(ctx, level, address, LOCAL_SENT, "2.0.0", reason->data, "delivered");
        } else {
            local_report(ctx, level, address, verdict == COMMAND_DEFER ? LOCAL_DEFER
                         : LOCAL_BOUNCE, dsn, reason->data, NULL);
        }
        command_result_free(&res);
    }
    strbuf_free(reason);
    argv_free(args);
    argv_free(env);
}

void local_deliver_command(local_ctx *ctx, const local_level *level, const char *address,
                           const char *command, const local_user *user, const char *extension)
{
    strbuf *key = strbuf_new(64);

    while (isspace((unsigned char) *command))
        command++;
    if (user) {
        strbuf *expanded = strbuf_new(128);

        if (expand_command(expanded, ctx, command, address, user, extension) < 0)
            local_report(ctx, level, address, LOCAL_DEFER, "4.3.5",
                         "bad mailbox_command setting", NULL);
        else
            run_command(ctx, level, address, expanded->data, user, user->uid, user->gid,
                        extension);
        strbuf_free(expanded);
    } else {
        local_user *runner = level->user ? NULL : local_user_by_uid(level->uid);

        strbuf_printf(key, "%ld:%s", (long) level->uid, command);
        if (!local_seen(ctx, "command", key->data))
            run_command(ctx, level, address, command, level->user ? level->user : runner,
                        level->uid, level->gid, "");
        local_user_free(runner);
    }
    strbuf_free(key);
}
