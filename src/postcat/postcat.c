/*
 * postcat - show the content of queue files (postcat(1)).
 *
 *   postcat [-c dir] [-ehbo] -q queue_id ...    look the IDs up in the queues
 *   postcat [-c dir] [-ehbo] [file ...]         named files, or standard input
 *
 * -e shows the envelope, -h the headers, -b the body (default: all three).
 * The "*** SECTION path ***" markers appear when the envelope is shown.
 * -o prints each record's offset. Records are read one at a time, so a
 * damaged file (from corrupt/) is shown up to the damage, followed by a
 * warning naming the offset and the problem. Exit status 0, or 1 when a
 * file could not be found or was damaged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "mail_params.h"
#include "msg.h"
#include "queue_file.h"
#include "record.h"
#include "stream.h"
#include "strbuf.h"

#define SHOW_ENVELOPE  (1 << 0)
#define SHOW_HEADERS   (1 << 1)
#define SHOW_BODY      (1 << 2)
#define SHOW_OFFSETS   (1 << 3)

/* Queues searched by -q, in Postfix's order. */
static const char *const search_queues[] = {
    QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, QUEUE_MAILDROP, QUEUE_CORRUPT,
    NULL,
};

typedef struct printer {
    int     flags;
    off_t   offset;                     /* of the record being printed */
    const char *label;
    int     in_content;
    int     in_body;
    int     partial;                    /* a C record is waiting for its L */
} printer;

static const char *envelope_label(int type)
{
    switch (type) {
    case REC_TYPE_ATTR: return "named_attribute";
    case REC_TYPE_SENDER: return "sender";
    case REC_TYPE_FULLNAME: return "sender_fullname";
    case REC_TYPE_ORIG_RCPT: return "original_recipient";
    case REC_TYPE_DSN_ORCPT: return "dsn_orig_rcpt";
    case REC_TYPE_DSN_NOTIFY: return "dsn_notify_flags";
    case REC_TYPE_RCPT: return "recipient";
    case REC_TYPE_DONE: return "done_recipient";
    case REC_TYPE_VERSION: return "message_size";
    default: return NULL;
    }
}

static void print_offset(const printer *p)
{
    if (p->flags & SHOW_OFFSETS)
        printf("%9ld ", (long) p->offset);
}

static void print_time(const printer *p, const char *label, const char *text)
{
    char    stamp[64];
    time_t  when = (time_t) strtol(text, NULL, 10);
    struct tm tm;

    localtime_r(&when, &tm);
    strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S %Y", &tm);
    print_offset(p);
    printf("%s: %s\n", label, stamp);
}

static void print_envelope_record(const printer *p, int type, const strbuf *data)
{
    if (!(p->flags & SHOW_ENVELOPE))
        return;
    if (type == REC_TYPE_TIME) {
        print_time(p, "message_arrival_time", data->data);
    } else if (type == REC_TYPE_WARN && strtol(data->data, NULL, 10) > 0) {
        print_time(p, "delay_warning_time", data->data);
    } else if (envelope_label(type)) {
        print_offset(p);
        printf("%s: %s\n", envelope_label(type), data->data);
    }
}

static void print_marker(const printer *p, const char *section)
{
    if (p->flags & SHOW_ENVELOPE) {
        print_offset(p);
        printf("*** %s %s ***\n", section, p->label);
    }
}

static void print_content_record(printer *p, int type, const strbuf *data)
{
    if (!p->partial && !p->in_body && type == REC_TYPE_LINE && data->len == 0)
        p->in_body = 1;                 /* the empty line opens the body */
    if (p->flags & (p->in_body ? SHOW_BODY : SHOW_HEADERS)) {
        fwrite(data->data, 1, data->len, stdout);
        if (type == REC_TYPE_LINE)
            putchar('\n');
    }
    p->partial = type == REC_TYPE_PARTIAL;
}

static void print_record(printer *p, int type, const strbuf *data, off_t offset)
{
    p->offset = offset;
    switch (type) {
    case REC_TYPE_MESSAGE:
        print_marker(p, "MESSAGE CONTENTS");
        p->in_content = 1;
        break;
    case REC_TYPE_EXTRACTED:
        print_marker(p, "HEADER EXTRACTED");
        p->in_content = 0;
        break;
    case REC_TYPE_END:
        print_marker(p, "MESSAGE FILE END");
        break;
    case REC_TYPE_LINE:
    case REC_TYPE_PARTIAL:
        if (p->in_content) {
            print_content_record(p, type, data);
            break;
        }
        /* FALLTHROUGH */
    default:
        print_envelope_record(p, type, data);
    }
}

/* Prints one file; returns 0, or 1 when it is damaged. */
static int print_file(int fd, const char *label, int flags)
{
    stream *s = stream_open_fd(fd, 0);
    strbuf *data = strbuf_new(256);
    printer p = {.flags = flags & ~SHOW_OFFSETS,.label = label };
    int     type = 0;
    off_t   offset = 0;

    print_marker(&p, "ENVELOPE RECORDS");
    p.flags = flags;
    while (type != REC_TYPE_END) {
        offset = stream_tell(s);
        if ((type = rec_get(s, data, REC_DATA_MAX)) < 0)
            break;
        print_record(&p, type, data, offset);
    }
    fflush(stdout);
    if (type < 0 && !(type == REC_EOF && offset == 0 && label[0] == '-'))
        msg_warn("%s: %s at offset %ld", label, rec_strerror(type), (long) offset);
    stream_close(s);
    strbuf_free(data);
    return type == REC_TYPE_END ? 0 : 1;
}

/* Finds a queue ID in the queues; returns an open descriptor or -1. */
static int open_queue_id(const char *id, strbuf *label)
{
    if (!queue_id_valid(id)) {
        msg_warn("bad queue id: %s", id);
        return -1;
    }
    for (int i = 0; search_queues[i]; i++) {
        int     fd;

        queue_path(label, search_queues[i], id);
        if ((fd = open(label->data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
            return fd;
        if (errno != ENOENT)
            msg_warn("open %s: %m", label->data);
    }
    msg_warn("no message found with queue id %s", id);
    return -1;
}

static int show_queue_ids(char **ids, int flags)
{
    strbuf *label = strbuf_new(64);
    int     status = 0;

    if (chdir(var_queue_directory) < 0)
        msg_fatal("chdir %s: %m", var_queue_directory);
    for (; *ids; ids++) {
        int     fd = open_queue_id(*ids, label);

        status |= fd < 0 ? 1 : print_file(fd, label->data, flags);
    }
    strbuf_free(label);
    return status;
}

static int show_files(char **files, int flags)
{
    int     status = 0;

    if (*files == NULL)
        return print_file(dup(STDIN_FILENO), "-", flags);
    for (; *files; files++) {
        int     fd = open(*files, O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
            msg_warn("open %s: %m", *files);
            status = 1;
            continue;
        }
        status |= print_file(fd, *files, flags);
    }
    return status;
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    int     by_id = 0;
    int     flags = 0;
    int     ch;

    msg_open("postfix/postcat", MSG_TO_STDERR);
    while ((ch = getopt(argc, argv, "c:ehboqv")) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'e': flags |= SHOW_ENVELOPE; break;
        case 'h': flags |= SHOW_HEADERS; break;
        case 'b': flags |= SHOW_BODY; break;
        case 'o': flags |= SHOW_OFFSETS; break;
        case 'q': by_id = 1; break;
        case 'v': msg_verbose++; break;
        default:
            msg_fatal_status(EX_USAGE, "usage: postcat [-c config_dir] [-b] [-e] [-h] [-o] "
                             "[-q] [files or queue ids...]");
        }
    }
    if ((flags & (SHOW_ENVELOPE | SHOW_HEADERS | SHOW_BODY)) == 0)
        flags |= SHOW_ENVELOPE | SHOW_HEADERS | SHOW_BODY;
    config_init(config);
    params_load();
    if (by_id && optind >= argc)
        msg_fatal_status(EX_USAGE, "-q requires one or more queue ids");
    return by_id ? show_queue_ids(argv + optind, flags) : show_files(argv + optind, flags);
}
