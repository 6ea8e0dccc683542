/*
 * pipe - the pipe(8) delivery agent: hand a message to an external
 * command, as master.cf describes it:
 *
 *   filter unix - n n - 10 pipe
 *     flags=DRhu user=filter size=10240000 argv=/usr/bin/filter -f ${sender} -- ${recipient}
 *
 * Attributes: flags= (B D F O R X h q u . >), user=name[:group] (never
 * root, never mail_owner), size= (larger messages bounce), eol= (line
 * ending, \n by default; \r and \n escapes understood), directory= (the
 * command's working directory), null_sender= (what ${sender} becomes for
 * <>, MAILER-DAEMON by default), argv= (the command and its arguments,
 * last). Arguments are expanded per request: ${sender}, ${nexthop},
 * ${queue_id}, ${size}, ${client_*}, ${sasl_username}, and, repeated
 * once per recipient when an argument names one of them, ${recipient},
 * ${original_recipient}, ${user}, ${extension}, ${domain}, ${mailbox}.
 * A value is always one argument: the command runs without a shell, so
 * no character of an address can become shell syntax.
 *
 * The command runs as user= through command_run (time limit
 * SERVICE_time_limit, default command_time_limit); its exit status maps
 * through sysexits.h (EX_TEMPFAIL defers, EX_NOUSER bounces, ...), and
 * every recipient of the request gets that outcome. Between commands the
 * agent works as mail_owner.
 */
#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr_find.h"
#include "command_run.h"
#include "config.h"
#include "delivery.h"
#include "expand.h"
#include "mail_addr.h"
#include "mail_copy.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "set_eugid.h"

#define PIPE_FLAG_FOLD_HOST  (1 << 0)   /* h */
#define PIPE_FLAG_QUOTE      (1 << 1)   /* q */
#define PIPE_FLAG_FOLD_USER  (1 << 2)   /* u */
#define PIPE_FLAG_FINAL      (1 << 3)   /* X */

typedef struct pipe_attr {
    int     copy_flags;                 /* MAIL_COPY_* */
    int     flags;                      /* PIPE_FLAG_* */
    uid_t   uid;
    gid_t   gid;
    long    size_limit;
    char   *eol;
    char   *directory;
    char   *null_sender;
    argv_t *argv;
    int     time_limit;
    const char *service;
} pipe_attr;

static pipe_attr attr;
static uid_t owner_uid;
static gid_t owner_gid;

static const char *const rcpt_macros[] = {"recipient", "original_recipient", "user",
    "extension", "domain", "mailbox", NULL};

static const struct {
    char    letter;
    int     copy_flag;                  /* MAIL_COPY_*, or 0 */
    int     pipe_flag;                  /* PIPE_FLAG_*, or 0 */
} pipe_flag_table[] = {
    {'B', MAIL_COPY_BLANK, 0},
    {'D', MAIL_COPY_DELIVERED, 0},
    {'F', MAIL_COPY_FROM, 0},
    {'O', MAIL_COPY_ORIG_RCPT, 0},
    {'R', MAIL_COPY_RETURN_PATH, 0},
    {'.', MAIL_COPY_DOT, 0},
    {'>', MAIL_COPY_QUOTE, 0},
    {'X', 0, PIPE_FLAG_FINAL},
    {'h', 0, PIPE_FLAG_FOLD_HOST},
    {'q', 0, PIPE_FLAG_QUOTE},
    {'u', 0, PIPE_FLAG_FOLD_USER},
};

static void parse_flags(const char *value)
{
    for (const char *p = value; *p; p++) {
        size_t  i;

        for (i = 0; i < sizeof(pipe_flag_table) / sizeof(pipe_flag_table[0]); i++)
            if (pipe_flag_table[i].letter == *p)
                break;
        if (i == sizeof(pipe_flag_table) / sizeof(pipe_flag_table[0]))
            msg_fatal("unknown flag in flags=%s: %c", value, *p);
        attr.copy_flags |= pipe_flag_table[i].copy_flag;
        attr.flags |= pipe_flag_table[i].pipe_flag;
    }
}

static void parse_user(const char *value)
{
    char   *name = xstrdup(value);
    char   *group = strchr(name, ':');
    struct passwd *pw;
    struct group *gr;

    if (group)
        *group++ = 0;
    if ((pw = getpwnam(name)) == NULL)
        msg_fatal("user= command-line attribute: unknown user name: %s", name);
    attr.uid = pw->pw_uid;
    attr.gid = pw->pw_gid;
    if (group) {
        if ((gr = getgrnam(group)) == NULL)
            msg_fatal("user= command-line attribute: unknown group name: %s", group);
        attr.gid = gr->gr_gid;
    }
    if (attr.uid == 0 || attr.gid == 0)
        msg_fatal("user= command-line attribute specifies root privileges: %s", value);
    if (attr.uid == owner_uid && getuid() == 0)
        msg_fatal("user= command-line attribute specifies mail system owner %s", name);
    free(name);
}

static char *unescape_eol(const char *value)
{
    strbuf *out = strbuf_new(4);

    for (const char *p = value; *p; p++) {
        if (*p == '\\' && (p[1] == 'n' || p[1] == 'r' || p[1] == 't' || p[1] == '\\')) {
            p++;
            strbuf_append_char(out, *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 't' ? '\t' : '\\');
        } else {
            strbuf_append_char(out, *p);
        }
    }
    return strbuf_steal(out);
}

static void parse_attributes(const server_ctx *ctx)
{
    size_t  i;
    int     have_user = 0;

    attr.eol = xstrdup("\n");
    attr.null_sender = xstrdup("MAILER-DAEMON");
    for (i = 0; i < ctx->arg_count; i++) {
        const char *arg = ctx->args[i];

        if (strncmp(arg, "flags=", 6) == 0) {
            parse_flags(arg + 6);
        } else if (strncmp(arg, "user=", 5) == 0) {
            parse_user(arg + 5);
            have_user = 1;
        } else if (strncmp(arg, "size=", 5) == 0) {
            attr.size_limit = strtol(arg + 5, NULL, 10);
        } else if (strncmp(arg, "eol=", 4) == 0) {
            free(attr.eol);
            attr.eol = unescape_eol(arg + 4);
        } else if (strncmp(arg, "directory=", 10) == 0) {
            attr.directory = xstrdup(arg + 10);
        } else if (strncmp(arg, "null_sender=", 12) == 0) {
            free(attr.null_sender);
            attr.null_sender = xstrdup(arg + 12);
        } else if (strncmp(arg, "argv=", 5) == 0) {
            break;
        } else {
            msg_fatal("unknown attribute name: %s", arg);
        }
    }
    if (!have_user)
        msg_fatal("missing user= command-line attribute");
    if (i == ctx->arg_count || ctx->args[i][5] == 0)
        msg_fatal("missing argv= command-line attribute");
    attr.argv = argv_new(8);
    argv_add(attr.argv, ctx->args[i] + 5);
    for (i++; i < ctx->arg_count; i++)
        argv_add(attr.argv, ctx->args[i]);
}

static int time_limit(const char *service)
{
    strbuf *name = strbuf_new(64);
    strbuf *value = strbuf_new(16);
    long    seconds;
    int     limit = var_command_time_limit;

    strbuf_printf(name, "%s_time_limit", service);
    if (config_name_valid(name->data) && config_eval(name->data, value) == 0 && value->len) {
        if (param_parse_time(value->data, 's', &seconds) == 0 && seconds > 0 && seconds < 1 << 30)
            limit = (int) seconds;
        else
            msg_fatal("bad %s value: %s", name->data, value->data);
    }
    strbuf_free(name);
    strbuf_free(value);
    return limit;
}

/* Macro values for one recipient (or none). */
typedef struct macro_ctx {
    const deliver_request *req;
    const deliver_recipient *rcpt;
    int     uses_recipient;
    strbuf *scratch[8];
} macro_ctx;

static void fold(strbuf *text, size_t from, size_t to)
{
    for (size_t i = from; i < to && i < text->len; i++)
        text->data[i] = (char) tolower((unsigned char) text->data[i]);
}

/* An address as the flags want it: q quotes; u and h fold recipients only. */
static void format_address(strbuf *out, const char *address, int recipient)
{
    mail_addr_parts parts;
    size_t  local_end;

    strbuf_reset(out);
    mail_addr_split(address, strlen(address), &parts);
    if (attr.flags & PIPE_FLAG_QUOTE)
        mail_addr_quote_local(out, parts.local, parts.local_len);
    else
        strbuf_append(out, parts.local, parts.local_len);
    local_end = out->len;
    if (parts.domain) {
        strbuf_append_char(out, '@');
        strbuf_append(out, parts.domain, parts.domain_len);
    }
    if (recipient && (attr.flags & PIPE_FLAG_FOLD_USER))
        fold(out, 0, local_end);
    if (recipient && (attr.flags & PIPE_FLAG_FOLD_HOST))
        fold(out, local_end, out->len);
}

static const char *recipient_macro(macro_ctx *m, const char *name)
{
    const char *address = m->rcpt->address;
    mail_addr_parts parts;
    strbuf *out = m->scratch[0];
    size_t  base_len;

    mail_addr_split(address, strlen(address), &parts);
    if (strcmp(name, "recipient") == 0) {
        format_address(out, address, 1);
    } else if (strcmp(name, "original_recipient") == 0) {
        format_address(out, m->rcpt->orig_rcpt[0] ? m->rcpt->orig_rcpt : address, 1);
    } else if (strcmp(name, "mailbox") == 0) {
        strbuf_set_mem(out, parts.local, parts.local_len);
        if (attr.flags & PIPE_FLAG_FOLD_USER)
            fold(out, 0, out->len);
    } else if (strcmp(name, "domain") == 0) {
        strbuf_set_mem(out, parts.domain ? parts.domain : "", parts.domain ? parts.domain_len : 0);
        if (attr.flags & PIPE_FLAG_FOLD_HOST)
            fold(out, 0, out->len);
    } else {
        strbuf_set_mem(out, parts.local, parts.local_len);
        if (attr.flags & PIPE_FLAG_FOLD_USER)
            fold(out, 0, out->len);
        if (!addr_split_extension(out->data, var_recipient_delimiter, &base_len))
            base_len = out->len;
        if (strcmp(name, "user") == 0)
            strbuf_truncate(out, base_len);
        else if (base_len < out->len)
            strbuf_set(out, out->data + base_len + 1);
        else
            strbuf_reset(out);
    }
    return out->data;
}

static const char *macro_lookup(const char *name, void *context)
{
    macro_ctx *m = context;
    const deliver_request *req = m->req;
    strbuf *out = m->scratch[1];

    for (size_t i = 0; rcpt_macros[i]; i++)
        if (strcmp(name, rcpt_macros[i]) == 0) {
            m->uses_recipient = 1;
            return m->rcpt ? recipient_macro(m, name) : "";
        }
    if (strcmp(name, "sender") == 0) {
        if (*req->sender == 0)
            return attr.null_sender;
        format_address(out, req->sender, 0);
        return out->data;
    }
    if (strcmp(name, "nexthop") == 0) {
        strbuf_set(out, req->nexthop);
        if (attr.flags & PIPE_FLAG_FOLD_HOST)
            fold(out, 0, out->len);
        return out->data;
    }
    if (strcmp(name, "queue_id") == 0)
        return req->queue_id;
    if (strcmp(name, "size") == 0) {
        strbuf_printf(out, "%ld", req->data_size);
        return out->data;
    }
    if (strcmp(name, "client_address") == 0)
        return req->client_address;
    if (strcmp(name, "client_hostname") == 0)
        return req->client_name;
    if (strcmp(name, "client_helo") == 0)
        return req->client_helo;
    if (strcmp(name, "client_protocol") == 0)
        return req->client_protocol;
    if (strcmp(name, "sasl_username") == 0)
        return req->sasl_username;
    return NULL;
}

/* The command line: an argument naming a recipient macro repeats per recipient. */
static int build_argv(const deliver_request *req, argv_t *out, strbuf *why)
{
    macro_ctx m = {.req = req };
    strbuf *value = strbuf_new(64);
    int     rc = 0;

    for (size_t i = 0; i < 2; i++)
        m.scratch[i] = strbuf_new(64);
    for (size_t a = 0; a < attr.argv->count && rc == 0; a++) {
        expand_ctx ectx = {.lookup = macro_lookup,.context = &m };

        m.uses_recipient = 0;
        m.rcpt = NULL;
        strbuf_reset(value);
        if ((rc = expand_text(value, attr.argv->items[a], &ectx, why)) < 0)
            break;
        if (!m.uses_recipient) {
            argv_add(out, value->data);
            continue;
        }
        for (size_t r = 0; r < req->rcpt_count && rc == 0; r++) {
            m.rcpt = &req->rcpt[r];
            strbuf_reset(value);
            rc = expand_text(value, attr.argv->items[a], &ectx, why);
            argv_add(out, value->data);
        }
    }
    for (size_t i = 0; i < 2; i++)
        strbuf_free(m.scratch[i]);
    strbuf_free(value);
    return rc;
}

typedef struct pipe_input {
    delivery *d;
    int     read_ok;
} pipe_input;

static int write_message(stream *to_child, void *context)
{
    pipe_input *input = context;
    const deliver_request *req = input->d->req;
    mail_copy_args args = {.sender = req->sender,.delivered_to = req->rcpt[0].address,
        .orig_rcpt = req->rcpt[0].orig_rcpt[0] ? req->rcpt[0].orig_rcpt : req->rcpt[0].address,
        .eol = attr.eol,.flags = attr.copy_flags };
    strbuf *why = strbuf_new(32);

    input->read_ok = mail_copy(input->d->qf->stream, req->data_offset, to_child, &args,
                               why) != MAIL_COPY_READ_ERROR;
    strbuf_free(why);
    return input->read_ok ? 0 : -1;
}

static void report_all(delivery *d, enum command_verdict verdict, const char *dsn,
                       const char *reason)
{
    for (size_t i = 0; i < d->req->rcpt_count; i++) {
        if (verdict == COMMAND_SENT)
            delivery_sent(d, i, attr.service, dsn, reason,
                          (attr.flags & PIPE_FLAG_FINAL) ? "delivered" : "relayed");
        else if (verdict == COMMAND_BOUNCE)
            delivery_bounced(d, i, attr.service, dsn, reason, NULL);
        else
            delivery_deferred(d, i, attr.service, dsn, reason, NULL);
    }
}

static void run_pipe(delivery *d)
{
    argv_t *args = argv_new(8);
    argv_t *env = argv_new(4);
    strbuf *reason = strbuf_new(128);
    pipe_input input = {.d = d,.read_ok = 1 };
    command_spec spec = {.uid = attr.uid,.gid = attr.gid,.cwd = attr.directory,
        .time_limit = attr.time_limit,.write_input = write_message,.context = &input };
    command_result res;
    char    dsn[16];
    enum command_verdict verdict;
    argv_t *exported = argv_split(var_export_environment, ARGV_LIST_DELIMITERS);

    for (size_t i = 0; i < exported->count; i++) {
        const char *value = getenv(exported->items[i]);

        if (value) {
            strbuf_printf(reason, "%s=%s", exported->items[i], value);
            argv_add(env, reason->data);
        }
    }
    argv_free(exported);
    argv_add(env, "PATH=/usr/bin:/bin");
    if (build_argv(d->req, args, reason) < 0) {
        report_all(d, COMMAND_DEFER, "4.3.5", "bad argv= command-line attribute");
    } else {
        spec.argv = args->items;
        spec.env = env->items;
        command_run(&spec, &res);
        verdict = command_outcome(&res, attr.argv->items[0], dsn, reason);
        if (!input.read_ok)
            report_all(d, COMMAND_DEFER, "4.3.0", "error reading message: queue file damaged");
        else if (verdict == COMMAND_SENT) {
            strbuf_printf(reason, "delivered via %s service", attr.service);
            report_all(d, verdict, dsn, reason->data);
        } else {
            report_all(d, verdict, dsn, reason->data);
        }
        command_result_free(&res);
    }
    argv_free(args);
    argv_free(env);
    strbuf_free(reason);
}

static void pipe_service(stream *client, const server_ctx *ctx)
{
    delivery *d = delivery_start(client);

    (void) ctx;
    if (d == NULL)
        return;
    set_eugid(owner_uid, owner_gid);
    if (attr.size_limit > 0 && d->req->data_size > attr.size_limit)
        report_all(d, COMMAND_BOUNCE, "5.2.3", "message too large");
    else if (d->req->rcpt_count > 0)
        run_pipe(d);
    delivery_finish(d, client, 0, NULL, NULL);
    set_eugid(0, 0);
}

static void pipe_pre_init(const server_ctx *ctx)
{
    struct passwd *pw;

    if (getuid() == 0) {
        if ((pw = getpwnam(var_mail_owner)) == NULL)
            msg_fatal("unknown mail_owner user: %s", var_mail_owner);
        owner_uid = pw->pw_uid;
        owner_gid = pw->pw_gid;
    }
    parse_attributes(ctx);
    attr.service = ctx->service_name;
    attr.time_limit = time_limit(ctx->service_name);
}

int main(int argc, char **argv)
{
    static const server_spec spec = {
        .pre_init = pipe_pre_init,
        .service = pipe_service,
    };

    single_server_main(argc, argv, &spec);
}
