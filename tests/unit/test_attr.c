/* Unit tests for the IPC framing (attr) and the buffered stream. */
#include "unit.h"

#include <fcntl.h>
#include <sys/socket.h>

#include "attr.h"
#include "stream.h"

/* Writes raw bytes into one end of a socketpair, returns a stream on the other. */
static stream *feed(const void *data, size_t len)
{
    int     fds[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    assert_int_equal(write(fds[1], data, len), (ssize_t) len);
    close(fds[1]);
    return stream_open_fd(fds[0], 5);
}

static void test_round_trip(void **state)
{
    int     fds[2];
    stream *out;
    stream *in;
    strbuf *sender = strbuf_new(8);
    strbuf *blob = strbuf_new(8);
    int     count = 0;
    long    size = 0;
    int     missing = -7;
    attr_spec spec[] = {
        ATTR_STR("sender", sender),
        ATTR_DATA("blob", blob),
        ATTR_INT("count", &count),
        ATTR_LONG("size", &size),
        ATTR_OPT_INT("optional", &missing),
        ATTR_END,
    };

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    out = stream_open_fd(fds[1], 5);
    in = stream_open_fd(fds[0], 5);
    attr_put_str(out, "sender", "a@b.example");
    attr_put_data(out, "blob", "x\0y\nz", 5);
    attr_put_int(out, "count", -12);
    attr_put_int(out, "size", 123456789012L);
    assert_int_equal(attr_end(out), 0);
    assert_int_equal(attr_scan(in, 0, spec), 4);
    assert_string_equal(sender->data, "a@b.example");
    assert_int_equal(blob->len, 5);
    assert_memory_equal(blob->data, "x\0y\nz", 5);
    assert_int_equal(count, -12);
    assert_int_equal(size, 123456789012L);
    assert_int_equal(missing, -7);
    stream_close(out);
    stream_close(in);
    strbuf_free(sender);
    strbuf_free(blob);
}

static int scan_text(const char *text, size_t len, int flags)
{
    strbuf *name = strbuf_new(8);
    int     number = 0;
    attr_spec spec[] = {
        ATTR_STR("name", name),
        ATTR_OPT_INT("number", &number),
        ATTR_END,
    };
    stream *in = feed(text, len);
    int     rc = attr_scan(in, flags, spec);

    stream_close(in);
    strbuf_free(name);
    return rc;
}

#define SCAN(text, flags) scan_text(text, sizeof(text) - 1, flags)

static void test_strict_reader(void **state)
{
    assert_int_equal(SCAN("name=3:abc\n\n", 0), 1);
    assert_int_equal(SCAN("name=3:abc\nnumber=2:42\n\n", 0), 2);
    assert_int_equal(SCAN("name=3:abc\n", 0), -1);                  /* no terminator */
    assert_int_equal(SCAN("name=5:abc\n\n", 0), -1);                /* short value */
    assert_int_equal(SCAN("name=3:abcX\n", 0), -1);                 /* no newline */
    assert_int_equal(SCAN("name=03:abc\n\n", 0), -1);               /* leading zero */
    assert_int_equal(SCAN("name=:abc\n\n", 0), -1);                 /* no length */
    assert_int_equal(SCAN("name=99999999999:x\n\n", 0), -1);        /* oversize */
    assert_int_equal(SCAN("Name=3:abc\n\n", 0), -1);                /* bad name */
    assert_int_equal(SCAN("name=3:a\0c\n\n", 0), -1);               /* NUL in string */
    assert_int_equal(SCAN("name=1:a\nname=1:b\n\n", 0), -1);        /* duplicate */
    assert_int_equal(SCAN("number=1:1\n\n", 0), -1);                /* missing name */
    assert_int_equal(SCAN("name=1:a\nnumber=2:4x\n\n", 0), -1);     /* bad number */
    assert_int_equal(SCAN("name=1:a\nnumber=11:99999999999\n\n", 0), -1);   /* int range */
    assert_int_equal(SCAN("name=1:a\nother=1:z\n\n", 0), -1);       /* unknown */
    assert_int_equal(SCAN("name=1:a\nother=1:z\n\n", ATTR_FLAG_ALLOW_UNKNOWN), 1);
    assert_int_equal(SCAN("", 0), -1);                              /* EOF */
}

static void test_frames_in_sequence(void **state)
{
    static const char text[] = "name=1:a\n\nname=1:b\n\n";
    stream *in = feed(text, sizeof(text) - 1);
    strbuf *name = strbuf_new(8);
    attr_spec spec[] = {ATTR_STR("name", name), ATTR_END};

    assert_int_equal(attr_scan(in, 0, spec), 1);
    assert_string_equal(name->data, "a");
    assert_int_equal(attr_scan(in, 0, spec), 1);
    assert_string_equal(name->data, "b");
    assert_int_equal(attr_scan(in, 0, spec), -1);
    assert_true(stream_status(in) & STREAM_EOF_FLAG);
    stream_close(in);
    strbuf_free(name);
}

static void test_stream_lines_bounded(void **state)
{
    static const char text[] = "short\r\nthis line is long\nlast";
    stream *in = feed(text, sizeof(text) - 1);
    strbuf *line = strbuf_new(8);

    assert_int_equal(stream_get_line(in, line, 100), STREAM_LINE_COMPLETE);
    assert_string_equal(line->data, "short\r\n");
    assert_int_equal(stream_get_line(in, line, 4), STREAM_LINE_TOO_LONG);
    assert_string_equal(line->data, "this");
    assert_int_equal(stream_get_line(in, line, 100), STREAM_LINE_COMPLETE);
    assert_string_equal(line->data, " line is long\n");
    assert_int_equal(stream_get_line(in, line, 100), STREAM_LINE_LAST);
    assert_string_equal(line->data, "last");
    assert_int_equal(stream_get_line(in, line, 100), STREAM_LINE_NONE);
    stream_close(in);
    strbuf_free(line);
}

static void test_stream_timeout(void **state)
{
    int     fds[2];
    stream *in;
    strbuf *line = strbuf_new(8);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    in = stream_open_fd(fds[0], 1);
    assert_int_equal(stream_get_line(in, line, 100), STREAM_LINE_NONE);
    assert_true(stream_timed_out(in));
    stream_close(in);
    close(fds[1]);
    strbuf_free(line);
}

static void test_stream_file_seek_and_tell(void **state)
{
    const char *path = unit_temp_file("seek", "");
    int     fd = open(path, O_RDWR);
    stream *s = stream_open_fd(fd, 0);
    char    buf[4] = {0};

    stream_puts(s, "0123456789");
    assert_int_equal(stream_tell(s), 10);
    assert_int_equal(stream_seek(s, 2, SEEK_SET), 2);
    assert_int_equal(stream_read(s, buf, 3), 3);
    assert_memory_equal(buf, "234", 3);
    assert_int_equal(stream_tell(s), 5);
    stream_putc(s, 'X');                /* overwrite in place after reading */
    assert_int_equal(stream_seek(s, 0, SEEK_SET), 0);
    assert_int_equal(stream_read(s, buf, 4), 4);
    assert_int_equal(stream_seek(s, 5, SEEK_SET), 5);
    assert_int_equal(stream_getc(s), 'X');
    assert_int_equal(stream_getc(s), '6');
    stream_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_strict_reader),
        cmocka_unit_test(test_frames_in_sequence),
        cmocka_unit_test(test_stream_lines_bounded),
        cmocka_unit_test(test_stream_timeout),
        cmocka_unit_test(test_stream_file_seek_and_tell),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
