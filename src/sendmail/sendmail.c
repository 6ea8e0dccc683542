/*
 * sendmail - Postfix's sendmail(1) interface (docs/sendmail.md).
 *
 *   sendmail [option ...] [recipient ...]      deliver (-bm, the default)
 *   mailq, sendmail -bp                        list the queue (postqueue -p)
 *   newaliases, sendmail -bi, -I               rebuild alias_database (postalias)
 *   sendmail -q, -qRsite, -qIqueueid           flush (postqueue -f, -s, -i)
 *   sendmail -bs                               SMTP on standard input/output
 *   sendmail -bd, -bl                          postfix start
 *
 * Delivery options: -t (recipients from To/Cc/Bcc, Resent- forms first,
 * added to the arguments), -i and -oi (a lone "." is data), -f and -r
 * (envelope sender; "" or "<>" is the null sender), -F (full name, else
 * $NAME, else the password file), -N (DSN NOTIFY: never, or success,
 * delay, failure), -R (full or hdrs), -V (envelope ID), -B (7BIT or
 * 8BITMIME), -C (main.cf or its directory), -v (more logging). Accepted and
 * ignored as in Postfix: -Am -Ac -bh -bH -c -e -G -h -L -m -n -O -o7 -o8
 * -om "-o x value" -p -U -x -X, and -q with an interval. -bv is not
 * supported. Recipients are arguments in external form; an argument may
 * hold several addresses ("a@x, Bob <b@y>").
 *
 * A message goes to postdrop as maildrop records; sendmail itself has no
 * privilege. Exit status (sysexits.h): 0 when postdrop took the message,
 * else the failure's status, with "sendmail: fatal: USER(UID): text" on
 * standard error as Postfix prints it. Addresses are data throughout: no
 * shell ever sees them.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "dsn.h"
#include "header_addr.h"
#include "mail_addr.h"
#include "mail_params.h"
#include "maildrop.h"
#include "maillog.h"
#include "match_list.h"
#include "mem.h"
#include "msg.h"
#include "sendmail.h"

enum sendmail_mode {
    MODE_DELIVER, MODE_SMTP, MODE_MAILQ, MODE_NEWALIASES, MODE_FLUSH, MODE_DAEMON,
    MODE_NOTHING,
};

typedef struct sendmail_opts {
    enum sendmail_mode mode;
    const char *sender;                 /* as given; NULL: the login name */
    const char *fullname;
    int     extract;
    int     ignore_dots;
    int     dsn_notify;
    int     dsn_ret;
    const char *envid;
    const char *encoding;
    const char *alias_database;         /* -oA */
    const char *flush_site;             /* -qR */
    const char *flush_id;               /* -qI */
} sendmail_opts;

const char *sendmail_config_dir;

void    sendmail_fatal(int status, const char *fmt, ...)
{
    int     saved_errno = errno;        /* for %m */
    struct passwd *pw = getpwuid(getuid());
    strbuf *text = strbuf_new(128);
    va_list ap;

    strbuf_printf(text, "%s(%ld): ", pw ? pw->pw_name : "unknown", (long) getuid());
    errno = saved_errno;
    va_start(ap, fmt);
    strbuf_append_vprintf(text, fmt, ap);
    va_end(ap);
    msg_fatal_status(status, "%s", text->data);
}

static void usage_error(const char *fmt, const char *arg)
{
    sendmail_fatal(EX_USAGE, fmt, arg);
}

static int parse_notify(const char *text)
{
    argv_t *words = argv_split(text, ", \t");
    int     flags = 0;

    for (size_t i = 0; i < words->count; i++) {
        if (strcasecmp(words->items[i], "never") == 0 && words->count == 1)
            flags = DSN_NOTIFY_NEVER;
        else if (strcasecmp(words->items[i], "success") == 0)
            flags |= DSN_NOTIFY_SUCCESS;
        else if (strcasecmp(words->items[i], "delay") == 0)
            flags |= DSN_NOTIFY_DELAY;
        else if (strcasecmp(words->items[i], "failure") == 0)
            flags |= DSN_NOTIFY_FAILURE;
        else
            usage_error("bad -N option value: %s", text);
    }
    argv_free(words);
    if (flags == 0)
        usage_error("bad -N option value: %s", text);
    return flags;
}

static void parse_b_option(sendmail_opts *o, const char *arg)
{
    static const struct {
        const char *name;
        enum sendmail_mode mode;
    } modes[] = {
        {"m", MODE_DELIVER}, {"s", MODE_SMTP}, {"p", MODE_MAILQ}, {"i", MODE_NEWALIASES},
        {"d", MODE_DAEMON}, {"l", MODE_DAEMON}, {"h", MODE_NOTHING}, {"H", MODE_NOTHING},
    };

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(arg, modes[i].name) == 0) {
            o->mode = modes[i].mode;
            return;
        }
    }
    usage_error("unsupported: -b%s", arg);
}

/* -o: -oi, -oAfile, "-o x value"; everything else is ignored. */
static void parse_o_option(sendmail_opts *o, const char *arg, int argc, char **argv)
{
    if (strcmp(arg, "i") == 0)
        o->ignore_dots = 1;
    else if (arg[0] == 'A' && arg[1])
        o->alias_database = arg + 1;
    else if (arg[0] == 'A' && optind < argc)
        o->alias_database = argv[optind++];
    else if (strlen(arg) == 1 && strchr("m78", arg[0]) == NULL && optind < argc)
        optind++;
}

static void parse_q_option(sendmail_opts *o, const char *arg)
{
    if (arg == NULL || *arg == 0)
        o->mode = MODE_FLUSH;
    else if (arg[0] == 'R' && arg[1])
        o->mode = MODE_FLUSH, o->flush_site = arg + 1;
    else if (arg[0] == 'I' && arg[1])
        o->mode = MODE_FLUSH, o->flush_id = arg + 1;
    else if (arg[0] == 'S')
        usage_error("-q%s is not implemented", arg);
    else if (o->mode == MODE_DELIVER)
        o->mode = MODE_NOTHING;         /* -q30m: an interval, ignored */
}

static const char *parse_encoding(const char *arg)
{
    if (strcasecmp(arg, "7BIT") == 0)
        return "7bit";
    if (strcasecmp(arg, "8BITMIME") == 0)
        return "8bitmime";
    usage_error("-B option needs 7BIT or 8BITMIME: %s", arg);
    return NULL;
}

static int parse_ret(const char *arg)
{
    if (strcasecmp(arg, "full") == 0)
        return DSN_RET_FULL;
    if (strcasecmp(arg, "hdrs") == 0)
        return DSN_RET_HDRS;
    usage_error("bad -R option value: %s", arg);
    return 0;
}

static void set_config(const char *arg)
{
    struct stat st;
    char   *copy;

    if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
        copy = xstrdup(arg);
        sendmail_config_dir = xstrdup(dirname(copy));
        free(copy);
    } else {
        sendmail_config_dir = arg;
    }
}

static void parse_options(sendmail_opts *o, int argc, char **argv)
{
    int     ch;

    opterr = 0;
    while ((ch = getopt(argc, argv, "+A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:q::r:tvx")) != -1) {
        switch (ch) {
        case 'B': o->encoding = parse_encoding(optarg); break;
        case 'C': set_config(optarg); break;
        case 'F': o->fullname = optarg; break;
        case 'I': o->mode = MODE_NEWALIASES; break;
        case 'N': o->dsn_notify = parse_notify(optarg); break;
        case 'R': o->dsn_ret = parse_ret(optarg); break;
        case 'V': o->envid = optarg; break;
        case 'b': parse_b_option(o, optarg); break;
        case 'f':
        case 'r': o->sender = optarg; break;
        case 'i': o->ignore_dots = 1; break;
        case 'o': parse_o_option(o, optarg, argc, argv); break;
        case 'q': parse_q_option(o, optarg); break;
        case 't': o->extract = 1; break;
        case 'v': msg_verbose++; break;
        case '?': usage_error("illegal option -- %s", (char[]) {(char) optopt, 0});
        default: break;                 /* accepted and ignored */
        }
    }
}

static int has_control(const char *text)
{
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++)
        if (*cp < 0x20 || *cp == 0x7f)
            return 1;
    return 0;
}

/* The internal form of an external address given on the command line. */
static char *internal_address(const char *text, const char *what)
{
    size_t  len = strlen(text);
    strbuf *out = strbuf_new(len + 1);

    if (has_control(text))
        sendmail_fatal(EX_USAGE, "bad %s address syntax: control character", what);
    if (len >= 2 && text[0] == '<' && text[len - 1] == '>') {
        text++;
        len -= 2;
    }
    if (mail_addr_unquote(out, text, len) < 0)
        strbuf_set_mem(out, text, len);
    return strbuf_steal(out);
}

static argv_t *recipient_list(int argc, char **argv)
{
    argv_t *list = argv_new(8);

    for (int i = optind; i < argc; i++) {
        header_addr_list *parsed;

        if (has_control(argv[i]))
            sendmail_fatal(EX_USAGE, "bad recipient address syntax: control character");
        parsed = header_addr_parse(argv[i], strlen(argv[i]),
                                   (size_t) var_header_address_token_limit);
        for (size_t n = 0; n < parsed->count; n++)
            if (parsed->items[n].parsed->len)
                argv_add(list, parsed->items[n].parsed->data);
        header_addr_list_free(parsed);
    }
    return list;
}

/* -F, else $NAME, else the password file's name field ('&' is the login). */
static char *full_name(const char *option, const struct passwd *pw)
{
    const char *source = option ? option : getenv("NAME");
    strbuf *name = strbuf_new(64);

    if (source == NULL && pw && pw->pw_gecos) {
        for (const char *cp = pw->pw_gecos; *cp && *cp != ','; cp++) {
            if (*cp != '&')
                strbuf_append_char(name, *cp);
            else if (pw->pw_name[0]) {
                strbuf_append_char(name, pw->pw_name[0] >= 'a' && pw->pw_name[0] <= 'z' ?
                                   pw->pw_name[0] - 'a' + 'A' : pw->pw_name[0]);
                strbuf_append_str(name, pw->pw_name + 1);
            }
        }
    } else if (source) {
        strbuf_set(name, source);
    }
    for (size_t i = 0; i < name->len; i++)
        if ((unsigned char) name->data[i] < 0x20 || name->data[i] == 0x7f)
            name->data[i] = ' ';
    if (name->len > MAILDROP_FULLNAME_MAX)
        strbuf_truncate(name, MAILDROP_FULLNAME_MAX);
    return strbuf_steal(name);
}

static void check_submit_access(const struct passwd *pw)
{
    match_list *list = string_list_new("authorized_submit_users", var_authorized_submit_users);
    const char *name = pw ? pw->pw_name : "unknown";
    int     allowed = string_list_match(list, name);

    match_list_free(list);
    if (allowed != 1)
        sendmail_fatal(allowed == 0 ? EX_NOPERM : EX_TEMPFAIL,
                       "User %s(%ld) is not allowed to submit mail", name, (long) getuid());
}

static int deliver(const sendmail_opts *o, int argc, char **argv, const struct passwd *pw)
{
    char   *fullname = full_name(o->fullname, pw);
    char   *sender;
    sendmail_submission sub = {
        .fullname = fullname,.extract = o->extract,.dsn_notify = o->dsn_notify,
        .dsn_ret = o->dsn_ret,.dsn_envid = o->envid,.encoding = o->encoding,
    };
    postdrop_pipe p;
    strbuf *queue_id = strbuf_new(32);
    int     status;

    if (o->sender == NULL && pw == NULL)
        sendmail_fatal(EX_OSERR, "no login name found for user ID %ld", (long) getuid());
    sender = internal_address(o->sender ? o->sender : pw->pw_name, "sender");
    if (o->envid && (strlen(o->envid) > MAILDROP_ENVID_MAX || has_control(o->envid)
                     || strchr(o->envid, ' ')))
        usage_error("bad -V option value: %s", o->envid);
    sub.sender = sender;
    sub.recipients = recipient_list(argc, argv);
    if (sub.recipients->count == 0 && !o->extract)
        sendmail_fatal(EX_TEMPFAIL, "Recipient addresses must be specified on the command "
                       "line or via the -t option");
    postdrop_start(&p, &sub);
    sendmail_read_message(&p, o->ignore_dots, o->extract && sub.recipients->count == 0);
    if ((status = postdrop_finish(&p, queue_id)) != 0)
        sendmail_fatal(status >= EX__BASE && status <= EX__MAX ? status : EX_TEMPFAIL,
                       "the message was not accepted (postdrop exit status %d)", status);
    argv_free(sub.recipients);
    strbuf_free(queue_id);
    free(sender);
    free(fullname);
    return 0;
}

/* Runs another Postern command from command_directory in our place. */
static void exec_command(const char *name, argv_t *args) __attribute__((noreturn));

static void exec_command(const char *name, argv_t *args)
{
    strbuf *path = strbuf_new(64);

    strbuf_printf(path, "%s/%s", var_command_directory, name);
    argv_insert(args, 0, config_dir());
    argv_insert(args, 0, "-c");
    argv_insert(args, 0, name);
    execv(path->data, args->items);
    sendmail_fatal(EX_UNAVAILABLE, "execv %s: %m", path->data);
}

static void run_mode(const sendmail_opts *o)
{
    argv_t *args = argv_new(8);

    switch (o->mode) {
    case MODE_MAILQ:
        argv_add(args, "-p");
        exec_command("postqueue", args);
    case MODE_FLUSH:
        argv_add(args, o->flush_site ? "-s" : o->flush_id ? "-i" : "-f");
        if (o->flush_site || o->flush_id)
            argv_add(args, o->flush_site ? o->flush_site : o->flush_id);
        exec_command("postqueue", args);
    case MODE_NEWALIASES:
        argv_free(args);
        args = argv_split(o->alias_database ? o->alias_database : var_alias_database,
                          ARGV_LIST_DELIMITERS);
        if (args->count == 0)
            exit(0);
        exec_command("postalias", args);
    case MODE_DAEMON:
        argv_add(args, "start");
        exec_command("postfix", args);
    default:
        exit(0);
    }
}

int     main(int argc, char **argv)
{
    sendmail_opts opts = {.mode = MODE_DELIVER };
    char   *copy = xstrdup(argv[0]);
    const char *program = basename(copy);
    const struct passwd *pw;
    char   *fullname;

    signal(SIGPIPE, SIG_IGN);
    msg_open("sendmail", MSG_TO_STDERR);
    if (strcmp(program, "mailq") == 0)
        opts.mode = MODE_MAILQ;
    else if (strcmp(program, "newaliases") == 0)
        opts.mode = MODE_NEWALIASES;
    parse_options(&opts, argc, argv);
    config_init(sendmail_config_dir);
    params_load();
    maillog_command_logging(strcmp(program, "mailq") == 0 || strcmp(program, "newaliases") == 0 ?
                            program : "sendmail");
    if (opts.mode != MODE_DELIVER && opts.mode != MODE_SMTP)
        run_mode(&opts);
    pw = getpwuid(getuid());
    check_submit_access(pw);
    if (opts.mode == MODE_SMTP) {
        fullname = full_name(opts.fullname, pw);
        return sendmail_smtp(fullname);
    }
    return deliver(&opts, argc, argv, pw);
}
