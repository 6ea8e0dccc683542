/*
 * fuzz_cleanup_content - libFuzzer target: any bytes as the content of a
 * message through a whole cleanup conversation, with header, MIME, nested
 * and body check tables that use every action (the header/body check
 * engine), "sendmail -t" extraction and header rewriting.
 *
 * The first byte picks the client flags; the rest is split into lines
 * (longer ones into C pieces) after a fixed envelope. Oracles: cleanup
 * always answers; a message it queued reads back with the strict queue
 * file reader (every record, sizes and offsets consistent).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/cleanup/cleanup.h"
#include "attr.h"
#include "config.h"
#include "mail_params.h"
#include "msg.h"
#include "queue_envelope.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PIECE 100

static int fake_rewrite(const char *rule, const char *address, strbuf *result)
{
    strbuf_set(result, address);
    if (*address && strchr(address, '@') == NULL)
        strbuf_append_str(result, strcmp(rule, "local") == 0 ? "@example.test" : "@remote.test");
    return 0;
}

static int fake_resolve(const char *sender, const char *address, resolve_reply *reply)
{
    (void) sender;
    reply->flags = strstr(address, "@example.test") ? RESOLVE_CLASS_LOCAL : RESOLVE_CLASS_DEFAULT;
    strbuf_set(reply->recipient, address);
    return 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char    path[512];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fp = fopen(path, "w")) == NULL)
        abort();
    fputs(text, fp);
    fclose(fp);
}

static void setup(void)
{
    static char dir[] = "/tmp/fuzz-cleanup-XXXXXX";
    char    main_cf[4096];

    if (mkdtemp(dir) == NULL)
        abort();
    write_file(dir, "hc", "/^Subject: reject/ REJECT fuzz reject\n/^Subject: hold/ HOLD\n"
               "/^Subject: discard/ DISCARD\n/^X-Replace: (.*)/ REPLACE X-Replaced: $1\n"
               "/^X-Prepend: (.*)/ PREPEND X-Prepended: $1\n/^X-Ignore:/ IGNORE\n"
               "/^X-Redirect: (\\S+@\\S+)/ REDIRECT $1\n/^X-Bcc: (\\S+@\\S+)/ BCC $1\n"
               "/^X-Filter: (\\S+:\\S*)/ FILTER $1\n/^X-Pass:/ PASS\n/^X-Warn:/ WARN\n"
               "/^X-Strip:/ STRIP\n/^X-Bad: (.*)/ $1\n");
    write_file(dir, "bc", "/^reject/ REJECT body\n/^replace (.*)/ REPLACE $1\n"
               "/^prepend (.*)/ PREPEND $1\n/^ignore/ IGNORE\n/^--/ WARN boundary\n");
    write_file(dir, "mc", "/^Content-Type: .*evil/ REJECT mime\n"
               "/^X-Part-Replace: (.*)/ REPLACE $1\n");
    write_file(dir, "nc", "/^Subject: nested reject/ REJECT nested\n");
    snprintf(main_cf, sizeof(main_cf),
             "myhostname = mx.example.test\nmydomain = example.test\nmyorigin = $mydomain\n"
             "queue_directory = %s\nheader_checks = pcre:%s/hc\nbody_checks = pcre:%s/bc\n"
             "mime_header_checks = pcre:%s/mc\nnested_header_checks = pcre:%s/nc\n"
             "header_size_limit = 2000\nbody_checks_size_limit = 3000\nhopcount_limit = 5\n"
             "message_size_limit = 50000\nline_length_limit = 512\n"
             "canonical_maps = inline:{ a@example.test=b@example.test }\n"
             "masquerade_domains = example.test\n", dir, dir, dir, dir, dir);
    write_file(dir, "main.cf", main_cf);
    config_init(dir);
    params_load();
    msg_open("fuzz_cleanup_content", getenv("FUZZ_DEBUG") ? MSG_TO_STDERR : 0);
    if (chdir(dir) < 0)
        abort();
    mkdir("incoming", 0700);
    mkdir("hold", 0700);
    mkdir("bounce", 0700);
    cleanup_svc.rewrite = fake_rewrite;
    cleanup_svc.resolve = fake_resolve;
    cleanup_tables_open();
}

static void put_record(strbuf *out, int type, const void *data, size_t len)
{
    size_t  rest = len;

    strbuf_append_char(out, type);
    while (rest >= 0x80) {
        strbuf_append_char(out, (int) ((rest & 0x7f) | 0x80));
        rest >>= 7;
    }
    strbuf_append_char(out, (int) rest);
    strbuf_append(out, data, len);
}

static void build_request(strbuf *out, int flags, const uint8_t *data, size_t size)
{
    char    value[16];
    int     value_len = snprintf(value, sizeof(value), "%d", flags);

    strbuf_append_printf(out, "flags=%d:%s\n\n", value_len, value);
    put_record(out, 'S', "alice", 5);
    put_record(out, 'R', "bob@remote.test", 15);
    put_record(out, 'M', "", 0);
    while (size > 0) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t  line = nl ? (size_t) (nl - data) : size;
        size_t  done = 0;

        while (line - done > PIECE) {
            put_record(out, 'C', data + done, PIECE);
            done += PIECE;
        }
        put_record(out, 'L', data + done, line - done);
        data += line + (nl != NULL);
        size -= line + (nl != NULL);
    }
    put_record(out, 'X', "", 0);
    put_record(out, 'E', "", 0);
}

static void check_queue_file(const char *id)
{
    const char *queues[] = {"incoming", "hold"};
    strbuf *why = strbuf_new(64);
    strbuf *line = strbuf_new(64);

    for (int i = 0; i < 2; i++) {
        char    path[256];
        FILE   *fp;
        stream *s;
        queue_envelope env;
        int     type;

        snprintf(path, sizeof(path), "%s/%s", queues[i], id);
        if ((fp = fopen(path, "r")) == NULL)
            continue;
        s = stream_open_fd(dup(fileno(fp)), 0);
        fclose(fp);
        if (queue_envelope_read(s, &env, QUEUE_READ_CONTENT, why) < 0) {
            fprintf(stderr, "bad queue file: %s\n", why->data);
            abort();
        }
        type = queue_content_start(s, &env) == 0 ? REC_TYPE_LINE : -1;
        while (type == REC_TYPE_LINE || type == REC_TYPE_PARTIAL)
            type = queue_content_next(s, line);
        if (type != REC_TYPE_EXTRACTED)
            abort();
        queue_envelope_free(&env);
        stream_close(s);
        unlink(path);
    }
    strbuf_free(why);
    strbuf_free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static const int flag_sets[] = {
        CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MAP_OK,
        CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_EXTRACT,
        CLEANUP_FLAG_FILTER | CLEANUP_FLAG_LOCAL,
        CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_EXTRACT,
    };
    strbuf *request;
    strbuf *queue_id;
    stream *server;
    stream *client;
    int     fds[2];
    int     status = -1;
    attr_spec open_reply[2 + 1];
    strbuf *reason = strbuf_new(64);
    attr_spec end_reply[] = {ATTR_INT("status", &status), ATTR_OPT_STR("reason", reason), ATTR_END};

    if (size < 1 || size > 60000) {
        strbuf_free(reason);
        return 0;
    }
    if (!ready++)
        setup();
    request = strbuf_new(size + 256);
    queue_id = strbuf_new(32);
    build_request(request, flag_sets[data[0] % 4], data + 1, size - 1);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
        abort();
    {
        int     big = 1 << 20;

        setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    }
    if (write(fds[0], request->data, request->len) != (ssize_t) request->len)
        abort();
    server = stream_open_fd(fds[1], 5);
    client = stream_open_fd(fds[0], 5);
    cleanup_session(server);
    stream_close(server);
    open_reply[0] = (attr_spec) ATTR_INT("status", &status);
    open_reply[1] = (attr_spec) ATTR_STR("queue_id", queue_id);
    open_reply[2] = (attr_spec) ATTR_END;
    if (attr_scan(client, 0, open_reply) < 0 || attr_scan(client, 0, end_reply) < 0)
        abort();
    if (status == 0)
        check_queue_file(queue_id->data);
    stream_close(client);
    strbuf_free(request);
    strbuf_free(queue_id);
    strbuf_free(reason);
    return 0;
}
