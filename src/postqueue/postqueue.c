/*
 * postqueue - queue control for users (postqueue(1)); docs/postqueue.md.
 *
 *   postqueue [-v] [-c config_dir] -p        the queue, as mailq shows it
 *   postqueue [-v] [-c config_dir] -j        one JSON object per message
 *   postqueue [-v] [-c config_dir] -f        retry all deferred mail now
 *   postqueue [-v] [-c config_dir] -s site   retry the mail for one site
 *   postqueue [-v] [-c config_dir] -i id     retry one message
 *
 * Installed set-gid postdrop, so any local user can reach public/showq,
 * public/qmgr and public/flush; everything the caller controls is hostile:
 * the configuration directory is checked (config_secure), the environment
 * is replaced by import_environment, and -p/-j need authorized_mailq_users,
 * -f/-s/-i authorized_flush_users (string lists of login names; root and
 * mail_owner are always allowed). Messages go to standard error and the
 * system log as "postqueue"; errors exit with sysexits codes and Postfix's
 * texts ("Queue report unavailable - mail system is down", "Cannot flush
 * mail queue - mail system is down", "User NAME(UID) is not allowed to ...").
 *
 * Listing: -p prints Postfix's layout from showq's frames; -j prints
 * JSON with Postfix's field names (queue_name, queue_id, arrival_time,
 * message_size, forced_expire, sender, recipients[address, delay_reason]).
 * Text from the queue is never trusted: control characters are escaped in
 * JSON and replaced in -p output.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "attr.h"
#include "config.h"
#include "config_secure.h"
#include "flush_clnt.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "match_list.h"
#include "mem.h"
#include "msg.h"
#include "queue_file.h"
#include "strbuf.h"

#define POSTQUEUE_RCPT_MAX     1000000
#define SHOWQ_SERVICE          "showq"
#define QMGR_SERVICE           "qmgr"
#define QMGR_FLUSH_REQUEST     "FA"

typedef enum listing { LIST_MAILQ, LIST_JSON } listing;

typedef struct rcpt_view {
    strbuf *address;
    strbuf *reason;
    int     has_reason;
} rcpt_view;

typedef struct message_view {
    strbuf *queue_name;
    strbuf *queue_id;
    strbuf *sender;
    long    arrival;
    long    size;
    int     rcpt_count;
} message_view;

static void usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: postqueue -f | postqueue -i queueid | postqueue -j | "
                     "postqueue -p | postqueue -s site");
}

/* Authorization --------------------------------------------------------- */

static const char *user_name(uid_t uid, strbuf *buf)
{
    struct passwd *pw = getpwuid(uid);

    if (pw)
        strbuf_set(buf, pw->pw_name);
    else
        strbuf_printf(buf, "%ld", (long) uid);
    return buf->data;
}

static void check_user(const char *param_name, const char *patterns, const char *what)
{
    uid_t   uid = getuid();
    strbuf *name = strbuf_new(32);
    struct passwd *owner = getpwnam(var_mail_owner);
    match_list *list;
    int     allowed;

    user_name(uid, name);
    if (uid == 0 || (owner && owner->pw_uid == uid)) {
        strbuf_free(name);
        return;
    }
    list = string_list_new(param_name, patterns);
    allowed = string_list_match(list, name->data);
    if (allowed == MATCH_LIST_ERROR)
        msg_fatal_status(EX_TEMPFAIL, "%s: table lookup problem: %s", param_name,
                         match_list_error(list));
    if (allowed == 0)
        msg_fatal_status(EX_NOPERM, "User %s(%ld) is not allowed to %s the mail queue",
                         name->data, (long) uid, what);
    match_list_free(list);
    strbuf_free(name);
}

/* Output ---------------------------------------------------------------- */

/* Appends text with control characters replaced by '?'. */
static void append_printable(strbuf *out, const strbuf *text)
{
    for (size_t i = 0; i < text->len; i++) {
        unsigned char ch = (unsigned char) text->data[i];

        strbuf_append_char(out, ch < 0x20 || ch == 0x7f ? '?' : ch);
    }
}

/* Appends text as the inside of a JSON string. */
static void append_json(strbuf *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) text[i];

        if (ch == '"' || ch == '\\')
            strbuf_append_printf(out, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            strbuf_append_printf(out, "\\u%04X", ch);
        else
            strbuf_append_char(out, ch);
    }
}

static void write_out(const strbuf *text)
{
    if (fwrite(text->data, 1, text->len, stdout) != text->len)
        msg_fatal_status(EX_IOERR, "output write error: %m");
}

static const char *shown_sender(const message_view *m)
{
    return m->sender->len ? m->sender->data : "MAILER-DAEMON";
}

static void print_mailq_message(const message_view *m, rcpt_view *rcpt, int count)
{
    strbuf *out = strbuf_new(256);
    strbuf *id = strbuf_new(16);
    strbuf *sender = strbuf_from(shown_sender(m));
    char    date[32];
    time_t  when = (time_t) m->arrival;
    struct tm tm;
    const char *last_reason = NULL;

    strbuf_set(id, m->queue_id->data);
    if (strcmp(m->queue_name->data, QUEUE_ACTIVE) == 0)
        strbuf_append_char(id, '*');
    else if (strcmp(m->queue_name->data, QUEUE_HOLD) == 0)
        strbuf_append_char(id, '!');
    localtime_r(&when, &tm);
    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
    strbuf_printf(out, "%-11s %7ld %20.20s ", id->data, m->size, date);
    append_printable(out, sender);
    strbuf_append_char(out, '\n');
    for (int i = 0; i < count; i++) {
        if (rcpt[i].has_reason && (last_reason == NULL
                                   || strcmp(last_reason, rcpt[i].reason->data) != 0)) {
            int     pad = 76 - (int) rcpt[i].reason->len;

            strbuf_append_printf(out, "%*s(", pad > 0 ? pad : 0, "");
            append_printable(out, rcpt[i].reason);
            strbuf_append_str(out, ")\n");
            last_reason = rcpt[i].reason->data;
        }
        strbuf_append_printf(out, "%41s", "");
        append_printable(out, rcpt[i].address);
        strbuf_append_char(out, '\n');
    }
    strbuf_append_char(out, '\n');
    write_out(out);
    strbuf_free(out);
    strbuf_free(id);
    strbuf_free(sender);
}

static void print_json_message(const message_view *m, rcpt_view *rcpt, int count)
{
    strbuf *out = strbuf_new(256);
    const char *sender = shown_sender(m);

    strbuf_append_str(out, "{\"queue_name\": \"");
    append_json(out, m->queue_name->data, m->queue_name->len);
    strbuf_append_str(out, "\", \"queue_id\": \"");
    append_json(out, m->queue_id->data, m->queue_id->len);
    strbuf_append_printf(out, "\", \"arrival_time\": %ld, \"message_size\": %ld, "
                         "\"forced_expire\": false, \"sender\": \"", m->arrival, m->size);
    append_json(out, sender, strlen(sender));
    strbuf_append_str(out, "\", \"recipients\": [");
    for (int i = 0; i < count; i++) {
        strbuf_append_str(out, i ? ", {\"address\": \"" : "{\"address\": \"");
        append_json(out, rcpt[i].address->data, rcpt[i].address->len);
        strbuf_append_char(out, '"');
        if (rcpt[i].has_reason) {
            strbuf_append_str(out, ", \"delay_reason\": \"");
            append_json(out, rcpt[i].reason->data, rcpt[i].reason->len);
            strbuf_append_char(out, '"');
        }
        strbuf_append_char(out, '}');
    }
    strbuf_append_str(out, "]}\n");
    write_out(out);
    strbuf_free(out);
}

/* Listing --------------------------------------------------------------- */

static int read_message(stream *s, message_view *m, int *more)
{
    attr_spec spec[] = {
        ATTR_INT("more", more),
        ATTR_OPT_STR("queue_name", m->queue_name),
        ATTR_OPT_STR("queue_id", m->queue_id),
        ATTR_OPT_LONG("arrival_time", &m->arrival),
        ATTR_OPT_LONG("message_size", &m->size),
        ATTR_OPT_STR("sender", m->sender),
        ATTR_OPT_INT("rcpt_count", &m->rcpt_count),
        ATTR_END,
    };
    int     got = attr_scan(s, 0, spec);

    if (got < 0)
        return -1;
    if (*more == 0)
        return got == 1 ? 0 : -1;
    if (got != 7 || m->rcpt_count < 0 || m->rcpt_count > POSTQUEUE_RCPT_MAX)
        return -1;
    return 0;
}

static int read_recipients(stream *s, rcpt_view *rcpt, int count)
{
    for (int i = 0; i < count; i++) {
        attr_spec spec[] = {
            ATTR_STR("address", rcpt[i].address),
            ATTR_OPT_STR("reason", rcpt[i].reason),
            ATTR_END,
        };
        int     got = attr_scan(s, 0, spec);

        if (got < 0)
            return -1;
        rcpt[i].has_reason = got == 2;
    }
    return 0;
}

static rcpt_view *rcpt_views(int count)
{
    rcpt_view *rcpt = xcalloc(count ? (size_t) count : 1, sizeof(*rcpt));

    for (int i = 0; i < count; i++) {
        rcpt[i].address = strbuf_new(64);
        rcpt[i].reason = strbuf_new(64);
    }
    return rcpt;
}

static void rcpt_views_free(rcpt_view *rcpt, int count)
{
    for (int i = 0; i < count; i++) {
        strbuf_free(rcpt[i].address);
        strbuf_free(rcpt[i].reason);
    }
    free(rcpt);
}

static void list_queue(listing mode)
{
    stream *s = mail_connect(MAIL_CLASS_PUBLIC, SHOWQ_SERVICE, var_ipc_timeout);
    message_view m = {strbuf_new(16), strbuf_new(16), strbuf_new(64), 0, 0, 0};
    unsigned long total_size = 0;
    unsigned long messages = 0;
    int     more = 1;

    if (s == NULL)
        msg_fatal_status(EX_UNAVAILABLE, "Queue report unavailable - mail system is down "
                         "(Connect to the %s %s service: %m)", MAIL_CLASS_PUBLIC, SHOWQ_SERVICE);
    while (more) {
        rcpt_view *rcpt;

        if (read_message(s, &m, &more) < 0)
            msg_fatal_status(EX_SOFTWARE, "malformed showq server response");
        if (!more)
            break;
        rcpt = rcpt_views(m.rcpt_count);
        if (read_recipients(s, rcpt, m.rcpt_count) < 0)
            msg_fatal_status(EX_SOFTWARE, "malformed showq server response");
        if (mode == LIST_JSON) {
            print_json_message(&m, rcpt, m.rcpt_count);
        } else {
            if (messages == 0)
                printf("%-11s %7s %-20s %s\n", "-Queue ID-", "--Size--",
                       "----Arrival Time----", "-Sender/Recipient-------");
            print_mailq_message(&m, rcpt, m.rcpt_count);
        }
        rcpt_views_free(rcpt, m.rcpt_count);
        messages++;
        total_size += m.size > 0 ? (unsigned long) m.size : 0;
    }
    stream_close(s);
    if (mode == LIST_MAILQ && messages == 0)
        printf("Mail queue is empty\n");
    else if (mode == LIST_MAILQ)
        printf("-- %lu Kbytes in %lu Request%s.\n", total_size / 1024, messages,
               messages == 1 ? "" : "s");
    if (fflush(stdout) != 0)
        msg_fatal_status(EX_IOERR, "output write error: %m");
    strbuf_free(m.queue_name);
    strbuf_free(m.queue_id);
    strbuf_free(m.sender);
}

/* Flushing -------------------------------------------------------------- */

static void flush_all(void)
{
    if (mail_trigger(MAIL_CLASS_PUBLIC, QMGR_SERVICE, QMGR_FLUSH_REQUEST,
                     strlen(QMGR_FLUSH_REQUEST)) < 0)
        msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
}

static void flush_status(int status, const char *what)
{
    switch (status) {
    case FLUSH_STAT_OK:
        return;
    case FLUSH_STAT_FAIL:
        msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
    case FLUSH_STAT_UNKNOWN:
    case FLUSH_STAT_DENY:
        msg_fatal_status(EX_UNAVAILABLE, "Flush service is not configured for destination "
                         "\"%s\"", what);
    case FLUSH_STAT_BAD:
        msg_fatal_status(EX_USAGE, "Invalid request: \"%s\"", what);
    default:
        msg_fatal_status(EX_SOFTWARE, "Unknown flush server reply status %d", status);
    }
}

static int site_valid(const char *site)
{
    size_t  len = strlen(site);

    if (len == 0 || len > 255)
        return 0;
    for (const char *cp = site; *cp; cp++)
        if ((unsigned char) *cp <= ' ' || *cp == 0x7f || *cp == '/' || *cp == '\\')
            return 0;
    return 1;
}

static void flush_site(const char *site)
{
    if (!site_valid(site))
        msg_fatal_status(EX_USAGE, "Cannot flush mail queue - invalid destination: \"%.100s%s\"",
                         site, strlen(site) > 100 ? "..." : "");
    flush_status(flush_clnt_send_site(site), site);
}

static void flush_file(const char *id)
{
    if (!queue_id_valid(id))
        msg_fatal_status(EX_USAGE, "Cannot flush queue ID - invalid name: \"%.100s%s\"",
                         id, strlen(id) > 100 ? "..." : "");
    flush_status(flush_clnt_request("send_file", "queue_id", id), id);
}

/* Start-up -------------------------------------------------------------- */

static void open_logging(void)
{
    strbuf *ident = strbuf_new(32);

    strbuf_printf(ident, "%s/postqueue", var_syslog_name);
    msg_open(ident->data, MSG_TO_STDERR | MSG_TO_SYSLOG);
    strbuf_free(ident);
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    const char *argument = NULL;
    int     mode = 0;
    int     ch;

    config_secure_descriptors();
    msg_open("postqueue", MSG_TO_STDERR);
    while ((ch = getopt(argc, argv, "c:fi:jps:v")) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'v': if (getuid() == 0) msg_verbose++; break;
        case 'f': case 'j': case 'p': mode = ch; break;
        case 'i': case 's': mode = ch; argument = optarg; break;
        default: usage();
        }
    }
    if (mode == 0 || optind < argc)
        usage();
    config_secure_init(config);
    params_load();
    config_secure_environment();
    open_logging();
    if (chdir(var_queue_directory) < 0)
        msg_fatal_status(EX_UNAVAILABLE, "chdir %s: %m", var_queue_directory);
    if (mode == 'p' || mode == 'j') {
        check_user("authorized_mailq_users", var_authorized_mailq_users, "view");
        list_queue(mode == 'j' ? LIST_JSON : LIST_MAILQ);
    } else {
        check_user("authorized_flush_users", var_authorized_flush_users, "flush");
        if (mode == 'f')
            flush_all();
        else if (mode == 's')
            flush_site(argument);
        else
            flush_file(argument);
    }
    return 0;
}
