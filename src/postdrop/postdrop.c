/*
 * postdrop - put a local user's message into maildrop/ (docs/postdrop.md).
 *
 *   postdrop [-rv] [-c config_dir]
 *
 * Reads a message as records on standard input (docs/queue-file.md,
 * "Maildrop files"; sendmail writes them), checks every record, and writes
 * them after a T record (the submission time) to a new file in maildrop/,
 * owned by the submitting user. The file is 0600 while it is written and
 * becomes 0744 once complete and fsync'd (the owner execute bit is the
 * complete mark pickup waits for), so pickup never reads a partial file.
 * Then postdrop writes one attribute frame with the file's queue ID to
 * standard output and wakes pickup with "W". If the mail system is down,
 * the file waits in maildrop/ until pickup runs.
 *
 * postdrop is set-gid setgid_group (the only privilege it has: write
 * access to maildrop/ and public/), so everything about its caller is
 * hostile:
 *   - descriptors 0, 1 and 2 are opened on /dev/null when closed, core
 *     dumps are off, and the environment is emptied (MAIL_CONFIG is read
 *     first);
 *   - a configuration directory other than the default (-c or MAIL_CONFIG)
 *     is honoured only for root, or when the default main.cf lists it in
 *     alternate_config_directories or multi_instance_directories;
 *   - the login name of the real user must be in authorized_submit_users;
 *   - input is bounded: message_size_limit bytes of content plus
 *     POSTDROP_ENVELOPE_MAX of envelope, records as maildrop.h allows;
 *   - on a signal, an error or bad input the file is removed.
 *
 * Exit status (sysexits.h): 0 queued; EX_USAGE bad options; EX_NOPERM not
 * allowed; EX_DATAERR bad input; EX_TEMPFAIL the file could not be written.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>

#include "argv.h"
#include "attr.h"
#include "config.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "maillog.h"
#include "match_list.h"
#include "msg.h"
#include "queue_file.h"
#include "record.h"

#define POSTDROP_ENVELOPE_MAX  (4 * 1024 * 1024)

static char temp_path[512];             /* the maildrop file while it is written */

static void remove_temp_file(void)
{
    if (temp_path[0])
        (void) unlink(temp_path);
}

static void on_signal(int sig)
{
    (void) sig;
    remove_temp_file();
    _exit(EX_TEMPFAIL);
}

/* No core dumps, the standard descriptors open, signals handled. */
static void harden_process(void)
{
    struct rlimit no_core = {0, 0};
    struct sigaction sa;

    (void) setrlimit(RLIMIT_CORE, &no_core);
    (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
            _exit(EX_OSERR);
    umask(077);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    (void) sigaction(SIGHUP, &sa, NULL);
    (void) sigaction(SIGINT, &sa, NULL);
    (void) sigaction(SIGQUIT, &sa, NULL);
    (void) sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
}

/* Is `dir` listed in the default main.cf (alternate/multi-instance dirs)? */
static int config_dir_authorized(const char *dir)
{
    static const char *const lists[] = {"alternate_config_directories",
                                        "multi_instance_directories", NULL};
    strbuf *error = strbuf_new(64);
    conf_file *cf = conf_file_read(DEF_CONFIG_DIRECTORY "/main.cf", error);
    int     found = 0;

    for (const char *const *name = lists; cf && *name && !found; name++) {
        const conf_entry *entry = conf_file_find(cf, *name);
        argv_t *dirs = argv_split(entry ? entry->value : "", ARGV_LIST_DELIMITERS);

        found = argv_contains(dirs, dir);
        argv_free(dirs);
    }
    if (cf)
        conf_file_free(cf);
    strbuf_free(error);
    return found;
}

static const char *choose_config_dir(const char *option, char *env_value)
{
    const char *dir = option ? option : env_value;

    if (dir == NULL || strcmp(dir, DEF_CONFIG_DIRECTORY) == 0)
        return DEF_CONFIG_DIRECTORY;
    if (getuid() != 0 && !config_dir_authorized(dir))
        msg_fatal_status(EX_NOPERM, "untrusted configuration directory: %s (not listed in "
                         "alternate_config_directories of %s/main.cf)", dir,
                         DEF_CONFIG_DIRECTORY);
    return dir;
}

static const char *login_name(void)
{
    struct passwd *pw = getpwuid(getuid());

    return pw ? pw->pw_name : "unknown";
}

static void check_submit_access(void)
{
    match_list *list = string_list_new("authorized_submit_users", var_authorized_submit_users);
    const char *name = login_name();
    int     allowed = string_list_match(list, name);

    match_list_free(list);
    if (allowed == MATCH_LIST_ERROR)
        msg_fatal_status(EX_TEMPFAIL, "authorized_submit_users: cannot decide for user %s",
                         name);
    if (!allowed)
        msg_fatal_status(EX_NOPERM, "User %s(%ld) is not allowed to submit mail", name,
                         (long) getuid());
}

static queue_file *create_file(void)
{
    strbuf *why = strbuf_new(64);
    queue_file *qf;
    sigset_t block;
    sigset_t saved;

    sigemptyset(&block);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGQUIT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &saved);
    qf = queue_file_create(QUEUE_MAILDROP, why);
    if (qf)
        snprintf(temp_path, sizeof(temp_path), "%s", qf->path->data);
    sigprocmask(SIG_SETMASK, &saved, NULL);
    if (qf == NULL)
        msg_fatal_status(EX_TEMPFAIL, "uid=%ld: %s", (long) getuid(), why->data);
    strbuf_free(why);
    return qf;
}

/* Copies the records from standard input, checking each; fatal on bad input. */
static void copy_records(stream *in, queue_file *qf)
{
    maildrop_check check;
    strbuf *data = strbuf_new(1024);
    strbuf *why = strbuf_new(64);
    long    envelope = 0;
    long    content = 0;
    int     type;

    maildrop_check_init(&check, MAILDROP_INPUT);
    while ((type = rec_get(in, data, REC_DATA_MAX)) >= 0) {
        if (maildrop_check_record(&check, type, data, why) < 0)
            msg_fatal_status(EX_DATAERR, "uid=%ld: malformed input: %s", (long) getuid(),
                             why->data);
        if (type == REC_TYPE_LINE || type == REC_TYPE_PARTIAL)
            content += (long) data->len + 1;
        else
            envelope += (long) data->len + 5;
        if (envelope > POSTDROP_ENVELOPE_MAX
            || (var_message_size_limit > 0 && content > var_message_size_limit))
            msg_fatal_status(EX_DATAERR, "uid=%ld: message file too big", (long) getuid());
        if (rec_put(qf->stream, type, data->data, data->len) < 0)
            msg_fatal_status(EX_TEMPFAIL, "uid=%ld: write %s: %m", (long) getuid(), temp_path);
    }
    if (type != REC_EOF)
        msg_fatal_status(EX_DATAERR, "uid=%ld: malformed input: %s", (long) getuid(),
                         rec_strerror(type));
    if (maildrop_check_end(&check, why) < 0)
        msg_fatal_status(EX_DATAERR, "uid=%ld: malformed input: %s", (long) getuid(),
                         why->data);
    maildrop_check_free(&check);
    strbuf_free(data);
    strbuf_free(why);
}

/*
 * pickup removes incomplete files that did not change for a day (a killed
 * postdrop). A postdrop that waited that long on its input must not then
 * report success for a file that is gone.
 */
static void check_still_linked(queue_file *qf)
{
    struct stat st;

    if (stream_flush(qf->stream) < 0 || fstat(qf->stream->fd, &st) < 0 || st.st_nlink == 0)
        msg_fatal_status(EX_TEMPFAIL, "uid=%ld: %s was removed while it was written",
                         (long) getuid(), temp_path);
}

static void drop_message(void)
{
    stream *in = stream_open_fd(STDIN_FILENO, 0);
    stream *out = stream_open_fd(STDOUT_FILENO, 0);
    queue_file *qf = create_file();
    strbuf *why = strbuf_new(64);
    char    id[QUEUE_ID_MAX + 1];
    struct timeval now;

    gettimeofday(&now, NULL);
    rec_printf(qf->stream, REC_TYPE_TIME, "%ld.%06ld", (long) now.tv_sec, (long) now.tv_usec);
    copy_records(in, qf);
    snprintf(id, sizeof(id), "%s", qf->id);
    check_still_linked(qf);
    if (queue_file_commit_as(qf, QUEUE_MAILDROP, 0744, why) < 0)
        msg_fatal_status(EX_TEMPFAIL, "uid=%ld: %s", (long) getuid(), why->data);
    temp_path[0] = 0;
    attr_put_str(out, "queue_id", id);
    (void) attr_end(out);
    if (mail_trigger(MAIL_CLASS_PUBLIC, "pickup", "W", 1) < 0)
        msg_warn("unable to look up public/pickup: %m");
    stream_release(in);
    stream_release(out);
    strbuf_free(why);
}

int     main(int argc, char **argv)
{
    char   *env_config = getenv("MAIL_CONFIG") ? strdup(getenv("MAIL_CONFIG")) : NULL;
    const char *config = NULL;
    int     ch;

    harden_process();
    if (clearenv() != 0)
        _exit(EX_OSERR);
    msg_open("postfix/postdrop", MSG_TO_STDERR);
    msg_set_exit_hook(remove_temp_file);
    while ((ch = getopt(argc, argv, "c:rv")) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case 'r':
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            msg_fatal_status(EX_USAGE, "usage: %s [-rv] [-c config_dir]", argv[0]);
        }
    }
    if (optind != argc)
        msg_fatal_status(EX_USAGE, "usage: %s [-rv] [-c config_dir]", argv[0]);
    config_init(choose_config_dir(config, env_config));
    params_load();
    maillog_command_logging("postdrop");
    check_submit_access();
    if (chdir(var_queue_directory) < 0)
        msg_fatal_status(EX_TEMPFAIL, "chdir %s: %m", var_queue_directory);
    drop_message();
    free(env_config);
    return 0;
}
