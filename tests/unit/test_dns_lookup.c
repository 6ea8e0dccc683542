/* Unit tests for dns_lookup's reply parser: answers, codes, malformed replies. */
#include "unit.h"

#include "dns_lookup.h"

typedef struct packet {
    unsigned char data[1024];
    size_t  len;
} packet;

static void put(packet *p, const void *bytes, size_t len)
{
    memcpy(p->data + p->len, bytes, len);
    p->len += len;
}

static void put16(packet *p, unsigned value)
{
    unsigned char bytes[2] = {(unsigned char) (value >> 8), (unsigned char) value};

    put(p, bytes, 2);
}

static void put_name(packet *p, const char *name)
{
    while (*name) {
        size_t  len = strcspn(name, ".");
        unsigned char label = (unsigned char) len;

        put(p, &label, 1);
        put(p, name, len);
        name += len + (name[len] == '.');
    }
    put(p, "", 1);
}

/* Header with `rcode` and `answers`, and one question for name. */
static void start(packet *p, int rcode, unsigned answers, const char *name, unsigned type)
{
    p->len = 0;
    put16(p, 0x1234);
    put16(p, 0x8180 | (unsigned) rcode);
    put16(p, 1);
    put16(p, answers);
    put16(p, 0);
    put16(p, 0);
    put_name(p, name);
    put16(p, type);
    put16(p, 1);
}

/* An answer whose owner is a pointer to the question name (offset 12). */
static void answer(packet *p, unsigned type, const void *rdata, size_t rdlen)
{
    put16(p, 0xC00C);
    put16(p, type);
    put16(p, 1);
    put16(p, 0);
    put16(p, 60);
    put16(p, (unsigned) rdlen);
    put(p, rdata, rdlen);
}

static int parse(const packet *p, int type, argv_t *result, strbuf *why)
{
    return dns_parse_reply(p->data, p->len, type, result, why);
}

static void test_a_records(void **state)
{
    packet  p;
    argv_t *result = argv_new(2);
    strbuf *why = strbuf_new(16);
    static const unsigned char a1[] = {127, 0, 0, 2};
    static const unsigned char a2[] = {127, 0, 0, 4};

    start(&p, 0, 3, "1.0.0.127.bl.example", DNS_TYPE_A);
    answer(&p, DNS_TYPE_A, a1, 4);
    answer(&p, 5, "\x01x\x00", 3);              /* a CNAME: skipped */
    answer(&p, DNS_TYPE_A, a2, 4);
    assert_int_equal(parse(&p, DNS_TYPE_A, result, why), DNS_OK);
    assert_int_equal(result->count, 2);
    assert_string_equal(result->items[0], "127.0.0.2");
    assert_string_equal(result->items[1], "127.0.0.4");
    argv_free(result);
    strbuf_free(why);
}

static void test_codes(void **state)
{
    packet  p;
    argv_t *result = argv_new(2);
    strbuf *why = strbuf_new(16);

    start(&p, 3, 0, "nx.example", DNS_TYPE_A);
    assert_int_equal(parse(&p, DNS_TYPE_A, result, why), DNS_NOTFOUND);
    start(&p, 2, 0, "fail.example", DNS_TYPE_A);
    assert_int_equal(parse(&p, DNS_TYPE_A, result, why), DNS_RETRY);
    start(&p, 0, 0, "empty.example", DNS_TYPE_A);
    assert_int_equal(parse(&p, DNS_TYPE_A, result, why), DNS_NOTFOUND);
    assert_int_equal(result->count, 0);
    argv_free(result);
    strbuf_free(why);
}

static void test_txt_sanitized(void **state)
{
    packet  p;
    argv_t *result = argv_new(2);
    strbuf *why = strbuf_new(16);
    static const char rdata[] = "\x05hello\x08 wo\r\nld\x7f";

    start(&p, 0, 1, "x.example", DNS_TYPE_TXT);
    answer(&p, DNS_TYPE_TXT, rdata, sizeof(rdata) - 1);
    assert_int_equal(parse(&p, DNS_TYPE_TXT, result, why), DNS_OK);
    assert_string_equal(result->items[0], "hello wo??ld?");
    argv_free(result);
    strbuf_free(why);
}

static void test_mx_and_null_mx(void **state)
{
    packet  p;
    argv_t *result = argv_new(2);
    strbuf *why = strbuf_new(16);
    static const unsigned char mx[] = {0, 10, 2, 'm', 'x', 0xC0, 12};
    static const unsigned char null_mx[] = {0, 0, 0};

    start(&p, 0, 2, "example", DNS_TYPE_MX);
    answer(&p, DNS_TYPE_MX, mx, sizeof(mx));
    answer(&p, DNS_TYPE_MX, null_mx, sizeof(null_mx));
    assert_int_equal(parse(&p, DNS_TYPE_MX, result, why), DNS_OK);
    assert_int_equal(result->count, 2);
    assert_string_equal(result->items[0], "mx.example");
    assert_string_equal(result->items[1], "");
    argv_free(result);
    strbuf_free(why);
}

static void test_aaaa(void **state)
{
    packet  p;
    argv_t *result = argv_new(2);
    strbuf *why = strbuf_new(16);
    static const unsigned char addr[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

    start(&p, 0, 1, "v6.example", DNS_TYPE_AAAA);
    answer(&p, DNS_TYPE_AAAA, addr, 16);
    assert_int_equal(parse(&p, DNS_TYPE_AAAA, result, why), DNS_OK);
    assert_string_equal(result->items[0], "2001:db8::1");
    argv_free(result);
    strbuf_free(why);
}

static void test_malformed(void **state)
{
    packet  p;
    argv_t *result = argv_new(2);
    strbuf *why = strbuf_new(16);
    static const unsigned char a1[] = {127, 0, 0, 2};
    static const unsigned char short_a[] = {127, 0};

    start(&p, 0, 1, "x.example", DNS_TYPE_A);
    answer(&p, DNS_TYPE_A, a1, 4);
    p.len -= 2;                                 /* rdata runs past the end */
    assert_int_equal(parse(&p, DNS_TYPE_A, result, why), DNS_FAIL);
    start(&p, 0, 1, "x.example", DNS_TYPE_A);
    answer(&p, DNS_TYPE_A, short_a, 2);         /* an A record of two bytes */
    assert_int_equal(parse(&p, DNS_TYPE_A, result, why), DNS_FAIL);
    start(&p, 0, 1, "x.example", DNS_TYPE_A);
    p.data[12] = 0xC0;                          /* the question name points at itself */
    p.data[13] = 12;
    assert_int_equal(parse(&p, DNS_TYPE_A, result, why), DNS_FAIL);
    start(&p, 0, 2, "x.example", DNS_TYPE_A);
    answer(&p, DNS_TYPE_A, a1, 4);              /* claims two answers, has one */
    assert_int_equal(parse(&p, DNS_TYPE_A, result, why), DNS_FAIL);
    assert_int_equal(result->count, 0);
    assert_int_equal(dns_parse_reply(p.data, 5, DNS_TYPE_A, result, why), DNS_FAIL);
    argv_free(result);
    strbuf_free(why);
}

static void test_bad_query_names(void **state)
{
    argv_t *result = argv_new(2);
    strbuf *why = strbuf_new(16);

    assert_int_equal(dns_lookup("", DNS_TYPE_A, result, why), DNS_FAIL);
    assert_int_equal(dns_lookup("bad name.example", DNS_TYPE_A, result, why), DNS_FAIL);
    assert_int_equal(dns_lookup("x\r\n.example", DNS_TYPE_A, result, why), DNS_FAIL);
    argv_free(result);
    strbuf_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_records),
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_txt_sanitized),
        cmocka_unit_test(test_mx_and_null_mx),
        cmocka_unit_test(test_aaaa),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bad_query_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
