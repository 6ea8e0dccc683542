/* Unit tests for records, queue files and the strict envelope reader. */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "mail_params.h"
#include "queue_envelope.h"
#include "queue_file.h"
#include "record.h"
#include "stream.h"

static stream *scratch_stream(void)
{
    char    path[300];
    int     fd;

    snprintf(path, sizeof(path), "%s/scratch.XXXXXX", unit_temp_dir());
    fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    return stream_open_fd(fd, 0);
}

static void test_record_round_trip_and_varint(void **state)
{
    stream *s = scratch_stream();
    strbuf *data = strbuf_new(16);
    static const size_t sizes[] = {0, 1, 127, 128, 16383, 16384, 70000};
    char   *big = calloc(1, 70000);

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        assert_int_equal(rec_put(s, REC_TYPE_LINE, big, sizes[i]), 0);
    assert_int_equal(rec_put_str(s, REC_TYPE_RCPT, "a@b"), 0);
    assert_int_equal(rec_put(s, 'Z', "x", 1), -1);          /* not a record type */
    stream_seek(s, 0, SEEK_SET);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_int_equal(rec_get(s, data, REC_DATA_MAX), REC_TYPE_LINE);
        assert_int_equal(data->len, sizes[i]);
    }
    assert_int_equal(rec_get(s, data, 100), REC_TYPE_RCPT);
    assert_string_equal(data->data, "a@b");
    assert_int_equal(rec_get(s, data, 100), REC_EOF);
    assert_int_equal(rec_header_size(127), 2);
    assert_int_equal(rec_header_size(128), 3);
    free(big);
    stream_close(s);
    strbuf_free(data);
}

static int get_raw(const char *bytes, size_t len, size_t limit)
{
    stream *s = scratch_stream();
    strbuf *data = strbuf_new(16);
    int     type;

    stream_write(s, bytes, len);
    stream_seek(s, 0, SEEK_SET);
    type = rec_get(s, data, limit);
    stream_close(s);
    strbuf_free(data);
    return type;
}

static void test_record_damage(void **state)
{
    assert_int_equal(get_raw("L\x03" "ab", 4, 100), REC_TRUNCATED);
    assert_int_equal(get_raw("L", 1, 100), REC_TRUNCATED);
    assert_int_equal(get_raw("L\x80\x00", 3, 100), REC_BAD_LENGTH);     /* non-minimal */
    assert_int_equal(get_raw("L\xff\xff\xff\xff\x01", 6, 100), REC_BAD_LENGTH);
    assert_int_equal(get_raw("L\x05" "abcde", 7, 4), REC_TOO_LONG);
    assert_int_equal(get_raw("z\x01" "a", 3, 100), REC_BAD_TYPE);
    assert_int_equal(get_raw("L\x00", 2, 100), REC_TYPE_LINE);
}

static void setup_queue(void)
{
    static int done;

    var_hash_queue_names = "deferred, defer";
    var_hash_queue_depth = 1;
    unit_enter_queue();
    if (done++)
        return;
    for (const char *const *q = (const char *const[]) {"incoming", "active", "deferred",
                                                        "corrupt", NULL}; *q; q++)
        mkdir(*q, 0700);
}

/* Writes a complete, valid queue file and returns its ID in id. */
static void write_message(char *id, size_t id_size, int done_offset_out[1])
{
    strbuf *why = strbuf_new(32);
    queue_file *qf = queue_file_create(QUEUE_INCOMING, why);
    queue_sizes sizes = {0};
    stream *s;

    assert_non_null(qf);
    s = qf->stream;
    snprintf(id, id_size, "%s", qf->id);
    queue_put_sizes(s, &sizes);
    rec_put_str(s, REC_TYPE_TIME, "1700000000.123456");
    rec_put_str(s, REC_TYPE_WARN, "              0");
    rec_put_str(s, REC_TYPE_ATTR, "client_address=192.0.2.1");
    rec_put_str(s, REC_TYPE_SENDER, "alice@example.org");
    rec_put_str(s, REC_TYPE_ORIG_RCPT, "list@example.test");
    rec_put_str(s, REC_TYPE_DSN_NOTIFY, "10");
    done_offset_out[0] = (int) stream_tell(s);
    rec_put_str(s, REC_TYPE_RCPT, "bob@example.test");
    sizes.content_offset = stream_tell(s);
    rec_put(s, REC_TYPE_MESSAGE, "", 0);
    rec_put_str(s, REC_TYPE_LINE, "Subject: hi");
    rec_put_str(s, REC_TYPE_LINE, "");
    sizes.body_offset = stream_tell(s);
    rec_put_str(s, REC_TYPE_PARTIAL, "long ");
    rec_put_str(s, REC_TYPE_LINE, "line");
    sizes.extracted_offset = stream_tell(s);
    sizes.message_size = 12 + 1 + 10;
    sizes.recipient_count = 2;
    rec_put(s, REC_TYPE_EXTRACTED, "", 0);
    rec_put_str(s, REC_TYPE_RCPT, "carol@example.test");
    rec_put(s, REC_TYPE_END, "", 0);
    stream_seek(s, 0, SEEK_SET);
    queue_put_sizes(s, &sizes);
    assert_int_equal(queue_file_commit(qf, why), 0);
    strbuf_free(why);
}

static void test_create_commit_and_read(void **state)
{
    char    id[64];
    int     rcpt_offset;
    struct stat st;
    strbuf *path = strbuf_new(32);
    strbuf *why = strbuf_new(32);
    queue_envelope env;
    queue_file *qf;

    setup_queue();
    write_message(id, sizeof(id), &rcpt_offset);
    assert_true(queue_id_valid(id));
    queue_path(path, QUEUE_INCOMING, id);
    assert_string_equal(path->data + strlen("incoming/"), id);
    assert_int_equal(stat(path->data, &st), 0);
    assert_true(queue_file_is_complete(&st));
    qf = queue_file_open(QUEUE_INCOMING, id, O_RDWR, why);
    assert_non_null(qf);
    assert_int_equal(queue_envelope_read(qf->stream, &env, QUEUE_READ_CONTENT, why), 0);
    assert_string_equal(env.sender, "alice@example.org");
    assert_int_equal(env.arrival.tv_sec, 1700000000);
    assert_int_equal(env.arrival.tv_usec, 123456);
    assert_int_equal(env.recipient_count, 2);
    assert_string_equal(env.recipients[0].address, "bob@example.test");
    assert_string_equal(env.recipients[0].orig_rcpt, "list@example.test");
    assert_int_equal(env.recipients[0].dsn_notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE);
    assert_int_equal(env.recipients[0].offset, rcpt_offset);
    assert_string_equal(env.recipients[1].address, "carol@example.test");
    assert_string_equal(queue_envelope_attr(&env, "client_address"), "192.0.2.1");
    assert_int_equal(queue_envelope_pending(&env), 2);
    queue_envelope_free(&env);

    assert_int_equal(rec_mark_done(qf->stream->fd, rcpt_offset), 0);
    assert_int_equal(rec_mark_done(qf->stream->fd, rcpt_offset), 0);     /* idempotent */
    assert_int_equal(rec_mark_done(qf->stream->fd, 0), -1);               /* not an R */
    assert_int_equal(queue_envelope_read(qf->stream, &env, 0, why), 0);
    assert_true(env.recipients[0].done);
    assert_int_equal(queue_envelope_pending(&env), 1);
    queue_envelope_free(&env);
    queue_file_close(qf);
    strbuf_free(path);
    strbuf_free(why);
}

static void test_content_iteration(void **state)
{
    char    id[64];
    int     offset;
    strbuf *why = strbuf_new(32);
    strbuf *data = strbuf_new(32);
    queue_envelope env;
    queue_file *qf;

    setup_queue();
    write_message(id, sizeof(id), &offset);
    qf = queue_file_open(QUEUE_INCOMING, id, O_RDONLY, why);
    assert_int_equal(queue_envelope_read(qf->stream, &env, 0, why), 0);
    assert_int_equal(queue_content_start(qf->stream, &env), 0);
    assert_int_equal(queue_content_next(qf->stream, data), REC_TYPE_LINE);
    assert_string_equal(data->data, "Subject: hi");
    assert_int_equal(queue_content_next(qf->stream, data), REC_TYPE_LINE);
    assert_int_equal(data->len, 0);
    assert_int_equal(stream_tell(qf->stream), env.sizes.body_offset);
    assert_int_equal(queue_content_next(qf->stream, data), REC_TYPE_PARTIAL);
    assert_int_equal(queue_content_next(qf->stream, data), REC_TYPE_LINE);
    assert_string_equal(data->data, "line");
    assert_int_equal(queue_content_next(qf->stream, data), REC_TYPE_EXTRACTED);
    queue_envelope_free(&env);
    queue_file_close(qf);
    strbuf_free(why);
    strbuf_free(data);
}

static void test_move_to_hashed_queue_and_abort(void **state)
{
    char    id[64];
    int     offset;
    strbuf *why = strbuf_new(32);
    strbuf *path = strbuf_new(32);
    struct stat st;
    queue_file *qf;

    setup_queue();
    write_message(id, sizeof(id), &offset);
    assert_int_equal(queue_file_move(QUEUE_INCOMING, id, QUEUE_DEFERRED, why), 0);
    queue_path(path, QUEUE_DEFERRED, id);
    assert_int_equal(path->data[strlen("deferred/")], id[0]);
    assert_int_equal(path->data[strlen("deferred/") + 1], '/');
    assert_int_equal(stat(path->data, &st), 0);
    assert_int_equal(queue_file_move(QUEUE_INCOMING, id, QUEUE_ACTIVE, why), -1);
    assert_non_null(strstr(why->data, "No such file"));
    assert_int_equal(queue_file_remove(QUEUE_DEFERRED, id), 0);
    qf = queue_file_create(QUEUE_INCOMING, why);
    queue_path(path, QUEUE_INCOMING, qf->id);
    assert_int_equal(stat(path->data, &st), 0);
    assert_false(queue_file_is_complete(&st));
    queue_file_abort(qf);
    assert_int_equal(stat(path->data, &st), -1);
    assert_null(queue_file_open(QUEUE_INCOMING, "../etc", O_RDONLY, why));
    assert_null(queue_file_open("nosuchqueue", "ABCDEF", O_RDONLY, why));
    strbuf_free(why);
    strbuf_free(path);
}

/* Builds a file from "Tdata" strings, with a V record that matches it. */
static int read_built(const char *const *records, int flags, strbuf *why)
{
    stream *s = scratch_stream();
    queue_sizes sizes = {0};
    queue_envelope env;
    int     in_content = 0;
    int     rc;

    queue_put_sizes(s, &sizes);
    for (int i = 0; records[i]; i++) {
        if (records[i][0] == REC_TYPE_MESSAGE) {
            sizes.content_offset = sizes.body_offset = stream_tell(s);
            in_content = 1;
        }
        if (records[i][0] == REC_TYPE_EXTRACTED) {
            sizes.extracted_offset = stream_tell(s);
            in_content = 0;
        }
        if (records[i][0] == REC_TYPE_LINE && in_content)
            sizes.message_size += (long) strlen(records[i] + 1) + 1;
        rec_put_str(s, records[i][0], records[i] + 1);
    }
    stream_seek(s, 0, SEEK_SET);
    queue_put_sizes(s, &sizes);         /* fixed width: rewritten in place */
    rc = queue_envelope_read(s, &env, flags, why);
    if (rc == 0)
        queue_envelope_free(&env);
    stream_close(s);
    return rc;
}

static void expect_corrupt(const char *const *records, const char *reason)
{
    strbuf *why = strbuf_new(32);

    assert_int_equal(read_built(records, QUEUE_READ_CONTENT, why), -1);
    if (strstr(why->data, reason) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", why->data, reason);
    strbuf_free(why);
}

#define FILE_OF(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void test_envelope_reader_refuses_damage(void **state)
{
    strbuf *why = strbuf_new(32);

    assert_int_equal(read_built(FILE_OF("T1.0", "Sa@b", "Rc@d", "M", "Lx", "X", "E"),
                                QUEUE_READ_CONTENT, why), 0);
    expect_corrupt(FILE_OF("T1.0", "Sa@b", "Rc@d", "M", "Lx", "X"), "premature end");
    expect_corrupt(FILE_OF("T1.0", "Sa@b", "Rc@d", "M", "Lx", "X", "E", "E"), "after the end");
    expect_corrupt(FILE_OF("Sa@b", "Rc@d", "M", "X", "E"), "missing arrival time");
    expect_corrupt(FILE_OF("T1.0", "Rc@d", "M", "X", "E"), "recipient before sender");
    expect_corrupt(FILE_OF("T1.0", "Sa@b", "Sx@y", "M", "X", "E"), "duplicate sender");
    expect_corrupt(FILE_OF("T1.0", "Sa@b", "Oorig", "M", "X", "E"), "without recipient");
    expect_corrupt(FILE_OF("T1.0", "Sa@b", "Rc@d\r\nRx@y", "M", "X", "E"), "control character");
    expect_corrupt(FILE_OF("T1.0", "Sa@b", "N99", "Rc@d", "M", "X", "E"), "bad DSN notify");
    expect_corrupt(FILE_OF("T1.0", "Sa@b", "N3", "Rc@d", "M", "X", "E"), "bad DSN notify");
    expect_corrupt(FILE_OF("T1.0", "Sa@b", "ANoEquals", "M", "X", "E"), "bad attribute");
    expect_corrupt(FILE_OF("Tsoon", "Sa@b", "M", "X", "E"), "bad arrival time");
    expect_corrupt(FILE_OF("T1.0", "Sa@b", "M", "Lx", "Ry@z", "X", "E"), "unexpected record");
    expect_corrupt(FILE_OF("T1.0", "Sa@b", "M", "X", "Lx", "E"), "unexpected record type");
    strbuf_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_round_trip_and_varint),
        cmocka_unit_test(test_record_damage),
        cmocka_unit_test(test_create_commit_and_read),
        cmocka_unit_test(test_content_iteration),
        cmocka_unit_test(test_move_to_hashed_queue_and_abort),
        cmocka_unit_test(test_envelope_reader_refuses_damage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
