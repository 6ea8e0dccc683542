/*
 * flush - the fast flush service (flush(8)); docs/flush.md.
 *
 * A single server on public/flush. It keeps, per destination site listed in
 * fast_flush_domains, a log flush/SITE of the queue IDs of deferred mail
 * for that site, so ETRN and "postqueue -s site" deliver exactly that mail
 * without reading the whole deferred queue. One request per connection
 * (docs/protocols.md, "flush"):
 *
 *   add        site, queue_id: remember a deferred message (qmgr calls it
 *              when it defers a message with a recipient at site)
 *   send_site  site: move the site's deferred messages to incoming/ and
 *              wake qmgr ("FI": forget dead destinations, scan incoming)
 *   send_file  queue_id: the same for one message
 *   refresh    drop IDs of messages no longer queued from logs not read
 *              for fast_flush_refresh_time, remove empty logs unchanged for
 *              fast_flush_purge_time
 *   purge      the same for every log, now
 *
 * Reply: status 0 ok, 1 the site is not eligible (FLUSH_STAT_UNKNOWN), 2 a
 * bad request. master's periodic wake-up ("W" instead of a request) runs a
 * refresh. Site names are checked (a host name or an address literal, at
 * most 255 bytes) and lowercased before they become file names; logs are
 * read and rewritten under an exclusive flock, so concurrent flush
 * processes never lose an entry.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "attr.h"
#include "flush_clnt.h"
#include "htable.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "match_list.h"
#include "mem.h"
#include "msg.h"
#include "queue_file.h"
#include "queue_scan.h"
#include "server.h"

#define FLUSH_DIR          "flush"
#define FLUSH_SITE_MAX     255
#define FLUSH_LOG_MAX      (16 * 1024 * 1024)
#define FLUSH_QMGR_REQUEST "FI"

static match_list *flush_domains;

/* Sites ----------------------------------------------------------------- */

/* Lowercases a site name into `out`; 0, or -1 when it is not a safe name. */
static int site_normalize(const char *site, strbuf *out)
{
    size_t  len = strlen(site);

    if (len == 0 || len > FLUSH_SITE_MAX || site[0] == '.')
        return -1;
    strbuf_reset(out);
    for (const char *cp = site; *cp; cp++) {
        unsigned char ch = (unsigned char) *cp;

        if (!isalnum(ch) && !strchr(".-_[]:", ch))
            return -1;
        strbuf_append_char(out, tolower(ch));
    }
    return 0;
}

static int site_eligible(const char *site)
{
    return domain_list_match(flush_domains, site) == 1;
}

static void log_path(strbuf *path, const char *site)
{
    strbuf_printf(path, "%s/%s", FLUSH_DIR, site);
}

/* Logs ------------------------------------------------------------------ */

static int append_id(const char *site, const char *id)
{
    strbuf *path = strbuf_new(64);
    strbuf *line = strbuf_new(32);
    int     fd;
    int     rc = -1;

    log_path(path, site);
    fd = open(path->data, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        msg_warn("open %s: %m", path->data);
    } else {
        strbuf_printf(line, "%s\n", id);
        if (flock(fd, LOCK_EX) < 0 || write(fd, line->data, line->len) != (ssize_t) line->len)
            msg_warn("append to %s: %m", path->data);
        else
            rc = 0;
        close(fd);
    }
    strbuf_free(path);
    strbuf_free(line);
    return rc;
}

/* The distinct valid queue IDs in an open log. */
static argv_t *read_ids(int fd, const char *path)
{
    argv_t *ids = argv_new(16);
    struct stat st;
    char   *text;
    ssize_t got;

    if (fstat(fd, &st) < 0 || st.st_size > FLUSH_LOG_MAX) {
        msg_warn("%s: cannot read, or larger than %d bytes", path, FLUSH_LOG_MAX);
        return ids;
    }
    text = xcalloc(1, (size_t) st.st_size + 1);
    got = pread(fd, text, (size_t) st.st_size, 0);
    if (got > 0) {
        argv_t *lines;

        text[got] = 0;
        lines = argv_split(text, "\n");
        for (size_t i = 0; i < lines->count; i++)
            if (queue_id_valid(lines->items[i]) && !argv_contains(ids, lines->items[i]))
                argv_add(ids, lines->items[i]);
        argv_free(lines);
    }
    free(text);
    return ids;
}

static int still_queued(const char *id)
{
    static const char *const queues[] = {
        QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, NULL,
    };
    strbuf *path = strbuf_new(64);
    struct stat st;
    int     found = 0;

    for (int i = 0; queues[i] && !found; i++) {
        queue_path(path, queues[i], id);
        found = lstat(path->data, &st) == 0;
    }
    strbuf_free(path);
    return found;
}

/* Moves a deferred message to incoming/; 1 when it was moved. */
static int requeue(const char *id)
{
    strbuf *why = strbuf_new(64);
    int     moved = queue_file_move(QUEUE_DEFERRED, id, QUEUE_INCOMING, why) == 0;

    if (!moved && errno != ENOENT)
        msg_warn("%s: %s", id, why->data);
    strbuf_free(why);
    return moved;
}

static void rewrite_log(int fd, const argv_t *ids, const char *path)
{
    strbuf *text = strbuf_new(256);

    for (size_t i = 0; i < ids->count; i++)
        if (still_queued(ids->items[i]))
            strbuf_append_printf(text, "%s\n", ids->items[i]);
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text->data, text->len, 0) != (ssize_t) text->len)
        msg_warn("rewrite %s: %m", path);
    strbuf_free(text);
}

/* Reads a site's log under lock, optionally requeues its messages, and
 * keeps only the IDs still queued. Returns the number requeued. */
static int process_log(const char *path, int deliver)
{
    int     fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    argv_t *ids;
    int     moved = 0;

    if (fd < 0) {
        if (errno != ENOENT)
            msg_warn("open %s: %m", path);
        return 0;
    }
    if (flock(fd, LOCK_EX) < 0) {
        msg_warn("lock %s: %m", path);
        close(fd);
        return 0;
    }
    ids = read_ids(fd, path);
    for (size_t i = 0; deliver && i < ids->count; i++)
        moved += requeue(ids->items[i]);
    rewrite_log(fd, ids, path);
    argv_free(ids);
    close(fd);
    return moved;
}

static void wake_qmgr(void)
{
    if (mail_trigger(MAIL_CLASS_PUBLIC, "qmgr", FLUSH_QMGR_REQUEST,
                     strlen(FLUSH_QMGR_REQUEST)) < 0)
        msg_warn("cannot wake up the queue manager: %m");
}

/* Housekeeping ---------------------------------------------------------- */

typedef struct refresh_ctx {
    time_t  now;
    int     force;
} refresh_ctx;

static void refresh_one(const char *path, const char *name, void *context)
{
    const refresh_ctx *ctx = context;
    struct stat st;

    (void) name;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return;
    if (st.st_size == 0 && ctx->now - st.st_mtime > var_fast_flush_purge_time) {
        if (unlink(path) < 0)
            msg_warn("remove %s: %m", path);
    } else if (st.st_size > 0 && (ctx->force || ctx->now - st.st_atime > var_fast_flush_refresh_time)) {
        (void) process_log(path, 0);
    }
}

static void refresh(int force)
{
    refresh_ctx ctx = {.now = time(NULL),.force = force };

    if (queue_walk(FLUSH_DIR, refresh_one, &ctx) < 0)
        msg_warn("scan %s: %m", FLUSH_DIR);
}

/* Requests -------------------------------------------------------------- */

static int do_add(const char *site_arg, const char *id)
{
    strbuf *site = strbuf_new(64);
    int     status;

    if (site_normalize(site_arg, site) < 0 || !queue_id_valid(id))
        status = FLUSH_STAT_BAD;
    else if (!site_eligible(site->data))
        status = FLUSH_STAT_UNKNOWN;
    else
        status = append_id(site->data, id) == 0 ? FLUSH_STAT_OK : FLUSH_STAT_FAIL;
    strbuf_free(site);
    return status;
}

static int do_send_site(const char *site_arg)
{
    strbuf *site = strbuf_new(64);
    strbuf *path = strbuf_new(64);
    int     status = FLUSH_STAT_OK;

    if (site_normalize(site_arg, site) < 0) {
        status = FLUSH_STAT_BAD;
    } else if (!site_eligible(site->data)) {
        status = FLUSH_STAT_UNKNOWN;
    } else {
        log_path(path, site->data);
        if (process_log(path->data, 1) > 0)
            wake_qmgr();
    }
    strbuf_free(site);
    strbuf_free(path);
    return status;
}

static int do_send_file(const char *id)
{
    if (!queue_id_valid(id))
        return FLUSH_STAT_BAD;
    if (requeue(id))
        wake_qmgr();
    return FLUSH_STAT_OK;
}

static int dispatch(stream *client)
{
    strbuf *request = strbuf_new(16);
    strbuf *site = strbuf_new(64);
    strbuf *id = strbuf_new(32);
    attr_spec spec[] = {
        ATTR_STR("request", request),
        ATTR_OPT_STR("site", site),
        ATTR_OPT_STR("queue_id", id),
        ATTR_END,
    };
    int     status = FLUSH_STAT_BAD;

    if (attr_scan(client, 0, spec) < 0) {
        status = -1;
    } else if (strcmp(request->data, "add") == 0) {
        status = do_add(site->data, id->data);
    } else if (strcmp(request->data, "send_site") == 0) {
        status = do_send_site(site->data);
    } else if (strcmp(request->data, "send_file") == 0) {
        status = do_send_file(id->data);
    } else if (strcmp(request->data, "refresh") == 0 || strcmp(request->data, "purge") == 0) {
        refresh(strcmp(request->data, "purge") == 0);
        status = FLUSH_STAT_OK;
    }
    if (status == FLUSH_STAT_BAD)
        msg_warn("bad request: \"%s\"", request->data);
    strbuf_free(request);
    strbuf_free(site);
    strbuf_free(id);
    return status;
}

static void flush_service(stream *client, const server_ctx *ctx)
{
    int     status;

    (void) ctx;
    if (stream_peek(client) == 'W') {
        refresh(0);
        return;
    }
    if ((status = dispatch(client)) < 0) {
        msg_warn("malformed request");
        return;
    }
    attr_put_int(client, "status", status);
    (void) attr_end(client);
}

static void flush_pre_init(const server_ctx *ctx)
{
    (void) ctx;
    flush_domains = domain_list_new("fast_flush_domains", var_fast_flush_domains);
}

int main(int argc, char **argv)
{
    static const server_spec spec = {
        .pre_init = flush_pre_init,
        .service = flush_service,
    };

    single_server_main(argc, argv, &spec);
}
