/*
 * postsuper - queue maintenance for the administrator (postsuper(1));
 * docs/postsuper.md.
 *
 *   postsuper [-psv] [-c config_dir] [-d queue_id] [-h queue_id]
 *             [-H queue_id] [-r queue_id] [queue...]
 *
 * Runs as root (or mail_owner), in queue_directory. Each of -d (delete),
 * -h (hold), -H (release from hold) and -r (requeue through pickup and
 * cleanup) takes a queue ID, "ALL", or "-" (IDs read from standard input,
 * one per line); the options may repeat. The queue arguments limit where
 * IDs are looked for (default: hold, incoming, active, deferred; -d also
 * looks in maildrop when it is named). Each message acted on is reported
 * as Postfix does ("postsuper: C96E4A725B1: removed", "placed on hold",
 * "released from hold", "requeued") and each action ends with a summary
 * ("postsuper: Deleted: 1 message"), on standard error and in the log.
 *
 * -s repairs the structure: files in the wrong hash subdirectory move to the
 * right one, a file whose name does not match its inode (restored from a
 * backup) is renamed, with its logs, to the queue ID its inode gives.
 * -p removes temporary files (queue_file_create's tmp.* names) and
 * incomplete files (no owner-execute bit) from incoming/ and maildrop/;
 * while a master runs, only those older than daemon_timeout. Without any
 * option postsuper does -s and -p, as Postfix does before start-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "instance_lock.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "maillog.h"
#include "msg.h"
#include "postsuper.h"
#include "queue_file.h"
#include "queue_scan.h"
#include "strbuf.h"
#include "stream.h"

static const char *const default_queues[] = {
    QUEUE_HOLD, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, NULL,
};
static const char *const log_queues[] = {QUEUE_DEFER, QUEUE_BOUNCE, QUEUE_TRACE, NULL};

typedef struct postsuper_action {
    int     option;                     /* d h H r */
    const char *summary;                /* "Deleted" ... */
    int     count;
    argv_t *ids;                        /* IDs or "ALL" */
} postsuper_action;

static postsuper_action actions[] = {
    {'d', "Deleted", 0, NULL},
    {'h', "Placed on hold", 0, NULL},
    {'H', "Released from hold", 0, NULL},
    {'r', "Requeued", 0, NULL},
};

#define ACTION_COUNT (sizeof(actions) / sizeof(actions[0]))

static void usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: postsuper [-c config_dir] [-d queue_id (delete)] "
                     "[-h queue_id (hold)] [-H queue_id (un-hold)] [-p (purge temporary files)] "
                     "[-r queue_id (requeue)] [-s (structure fix)] [-v (verbose)] [queue...]");
}

static postsuper_action *action_for(int option)
{
    for (size_t i = 0; i < ACTION_COUNT; i++)
        if (actions[i].option == option)
            return &actions[i];
    return NULL;
}

/* Adds an ID argument: a queue ID, ALL, or "-" for IDs on standard input. */
static void add_ids(postsuper_action *action, const char *arg)
{
    if (action->ids == NULL)
        action->ids = argv_new(8);
    if (strcmp(arg, "-") == 0) {
        stream *in = stream_open_fd(STDIN_FILENO, 0);
        strbuf *line = strbuf_new(64);

        while (stream_get_line(in, line, 1024) != STREAM_LINE_NONE) {
            argv_t *words = argv_split(line->data, " \t\r\n");

            for (size_t i = 0; i < words->count; i++)
                argv_add(action->ids, words->items[i]);
            argv_free(words);
        }
        strbuf_free(line);
        stream_release(in);
    } else {
        argv_add(action->ids, arg);
    }
}

/* Whether the message with this ID is in the queue. */
static int in_queue(const char *queue, const char *id)
{
    strbuf *path = strbuf_new(64);
    struct stat st;
    int     found;

    queue_path(path, queue, id);
    found = lstat(path->data, &st) == 0 && S_ISREG(st.st_mode);
    strbuf_free(path);
    return found;
}

static void remove_logs(const char *id)
{
    for (int i = 0; log_queues[i]; i++)
        if (queue_file_remove(log_queues[i], id) < 0 && errno != ENOENT)
            msg_warn("remove %s/%s: %m", log_queues[i], id);
}

/* One action on one message found in `queue`; 1 when it was done. */
static int act(int option, const char *queue, const char *id)
{
    strbuf *why = strbuf_new(64);
    int     done = 0;

    switch (option) {
    case 'd':
        if (queue_file_remove(queue, id) == 0) {
            remove_logs(id);
            msg_info("%s: removed", id);
            done = 1;
        } else if (errno != ENOENT) {
            msg_warn("remove %s/%s: %m", queue, id);
        }
        break;
    case 'h':
        if (strcmp(queue, QUEUE_HOLD) != 0 && queue_file_move(queue, id, QUEUE_HOLD, why) == 0) {
            msg_info("%s: placed on hold", id);
            done = 1;
        }
        break;
    case 'H':
        if (strcmp(queue, QUEUE_HOLD) == 0
            && queue_file_move(QUEUE_HOLD, id, QUEUE_DEFERRED, why) == 0) {
            postsuper_touch(QUEUE_DEFERRED, id);
            msg_info("%s: released from hold", id);
            done = 1;
        }
        break;
    case 'r':
        if (postsuper_requeue(queue, id) == 0) {
            msg_info("%s: requeued", id);
            done = 1;
        }
        break;
    }
    strbuf_free(why);
    return done;
}

static int queue_applies(int option, const char *queue)
{
    if (option == 'h')
        return strcmp(queue, QUEUE_HOLD) != 0 && strcmp(queue, QUEUE_MAILDROP) != 0;
    if (option == 'H')
        return strcmp(queue, QUEUE_HOLD) == 0;
    if (option == 'r')
        return strcmp(queue, QUEUE_MAILDROP) != 0;
    return 1;
}

static void run_action(postsuper_action *action, const argv_t *queues)
{
    for (size_t q = 0; q < queues->count; q++) {
        const char *queue = queues->items[q];
        argv_t *ids = action->ids;
        argv_t *all = NULL;

        if (!queue_applies(action->option, queue))
            continue;
        if (argv_contains(ids, "ALL")) {
            all = argv_new(64);
            if (queue_scan(queue, all) < 0 && errno != ENOENT)
                msg_warn("scan %s: %m", queue);
            ids = all;
        }
        for (size_t i = 0; i < ids->count; i++)
            if (strcmp(ids->items[i], "ALL") != 0 && in_queue(queue, ids->items[i]))
                action->count += act(action->option, queue, ids->items[i]);
        argv_free(all);
    }
}

/* Drops (with a warning) arguments that are not queue IDs: they never
 * become paths. */
static void check_ids(postsuper_action *action)
{
    argv_t *valid = argv_new(action->ids->count);

    for (size_t i = 0; i < action->ids->count; i++) {
        const char *id = action->ids->items[i];

        if (strcmp(id, "ALL") == 0 || queue_id_valid(id))
            argv_add(valid, id);
        else
            msg_warn("invalid mail queue id: %s", id);
    }
    argv_free(action->ids);
    action->ids = valid;
}

static argv_t *queue_arguments(char **args, int count)
{
    argv_t *queues = argv_new(8);

    for (int i = 0; i < count; i++) {
        if (!queue_name_valid(args[i]) || strcmp(args[i], QUEUE_CORRUPT) == 0
            || strcmp(args[i], QUEUE_SAVED) == 0 || strcmp(args[i], QUEUE_DEFER) == 0
            || strcmp(args[i], QUEUE_BOUNCE) == 0 || strcmp(args[i], QUEUE_TRACE) == 0)
            msg_fatal_status(EX_USAGE, "invalid directory name: %s", args[i]);
        argv_add(queues, args[i]);
    }
    if (queues->count == 0)
        for (int i = 0; default_queues[i]; i++)
            argv_add(queues, default_queues[i]);
    return queues;
}

static void wake_up(int requeued, int released)
{
    if (requeued && mail_trigger(MAIL_CLASS_PUBLIC, "pickup", "W", 1) < 0 && msg_verbose)
        msg_info("cannot wake up pickup: %m");
    if (released && mail_trigger(MAIL_CLASS_PUBLIC, "qmgr", "D", 1) < 0 && msg_verbose)
        msg_info("cannot wake up qmgr: %m");
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    int     structure = 0;
    int     purge = 0;
    int     any_action = 0;
    argv_t *queues;
    int     ch;

    msg_open("postsuper", MSG_TO_STDERR);
    while ((ch = getopt(argc, argv, "c:d:h:H:r:psv")) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'p': purge = 1; break;
        case 's': structure = 1; break;
        case 'v': msg_verbose++; break;
        case 'd': case 'h': case 'H': case 'r':
            add_ids(action_for(ch), optarg);
            any_action = 1;
            break;
        default: usage();
        }
    }
    config_init(config);
    params_load();
    maillog_command_logging("postsuper");
    if (chdir(var_queue_directory) < 0)
        msg_fatal("chdir %s: %m", var_queue_directory);
    if (!any_action && !purge && !structure)
        purge = structure = 1;
    queues = queue_arguments(argv + optind, argc - optind);
    if (structure)
        postsuper_structure();
    if (purge)
        postsuper_purge();
    for (size_t i = 0; i < ACTION_COUNT; i++) {
        if (actions[i].ids == NULL)
            continue;
        check_ids(&actions[i]);
        run_action(&actions[i], queues);
        msg_info("%s: %d message%s", actions[i].summary, actions[i].count,
                 actions[i].count == 1 ? "" : "s");
    }
    wake_up(action_for('r')->count > 0, action_for('H')->count > 0);
    argv_free(queues);
    return 0;
}
