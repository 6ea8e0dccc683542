/*
 * Unit tests for dns_route: parsing MX answers (order, bad names, damaged
 * packets), numeric hosts, and the inet_protocols / smtp_host_lookup values.
 */
#include "unit.h"

#include <arpa/nameser.h>

#include "dns_route.h"

/* A DNS answer with the given MX records for "ex.test". */
static size_t build_answer(unsigned char *buf, const int *prefs, const char *const *hosts,
                           size_t count)
{
    unsigned char *p = buf;
    static const unsigned char header[12] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0};
    static const unsigned char question[] = {2, 'e', 'x', 4, 't', 'e', 's', 't', 0, 0, 15, 0, 1};

    memcpy(p, header, 12);
    p[7] = (unsigned char) count;
    p += 12;
    memcpy(p, question, sizeof(question));
    p += sizeof(question);
    for (size_t i = 0; i < count; i++) {
        unsigned char *rdlen;
        const char *label = hosts[i];

        *p++ = 0xc0, *p++ = 12;                 /* name: pointer to the question */
        *p++ = 0, *p++ = 15, *p++ = 0, *p++ = 1;        /* MX IN */
        *p++ = 0, *p++ = 0, *p++ = 0x0e, *p++ = 0x10;   /* TTL */
        rdlen = p;
        p += 2;
        *p++ = (unsigned char) (prefs[i] >> 8), *p++ = (unsigned char) prefs[i];
        while (*label) {
            const char *dot = strchr(label, '.');
            size_t  len = dot ? (size_t) (dot - label) : strlen(label);

            *p++ = (unsigned char) len;
            memcpy(p, label, len);
            p += len;
            label += len + (dot != NULL);
        }
        *p++ = 0;
        rdlen[0] = (unsigned char) ((p - rdlen - 2) >> 8);
        rdlen[1] = (unsigned char) (p - rdlen - 2);
    }
    return (size_t) (p - buf);
}

static void test_mx_order(void **state)
{
    unsigned char buf[1024];
    static const int prefs[] = {20, 10, 30, 10};
    static const char *const hosts[] = {"mx2.ex.test", "mx1.ex.test", "mx3.ex.test",
        "mx1b.ex.test"};
    size_t  len = build_answer(buf, prefs, hosts, 4);
    dns_mx_list *list = dns_mx_list_new();

    (void) state;
    assert_int_equal(dns_route_parse_mx(buf, len, list), 0);
    assert_int_equal(list->count, 4);
    assert_string_equal(list->items[0].host, "mx1.ex.test");
    assert_string_equal(list->items[1].host, "mx1b.ex.test");
    assert_string_equal(list->items[2].host, "mx2.ex.test");
    assert_string_equal(list->items[3].host, "mx3.ex.test");
    dns_mx_list_free(list);
}

static void test_mx_bad_names_skipped(void **state)
{
    unsigned char buf[1024];
    static const int prefs[] = {10, 20};
    static const char *const hosts[] = {"bad_name!.ex.test", "good.ex.test"};
    size_t  len = build_answer(buf, prefs, hosts, 2);
    dns_mx_list *list = dns_mx_list_new();

    (void) state;
    assert_int_equal(dns_route_parse_mx(buf, len, list), 0);
    assert_int_equal(list->count, 1);
    assert_string_equal(list->items[0].host, "good.ex.test");
    dns_mx_list_free(list);
}

static void test_mx_damaged_packets(void **state)
{
    unsigned char buf[1024];
    static const int prefs[] = {10};
    static const char *const hosts[] = {"mx.ex.test"};
    size_t  len = build_answer(buf, prefs, hosts, 1);

    (void) state;
    for (size_t cut = 0; cut < len; cut++) {
        dns_mx_list *list = dns_mx_list_new();

        assert_int_equal(dns_route_parse_mx(buf, cut, list), -1);
        assert_int_equal(list->count, 0);
        dns_mx_list_free(list);
    }
    buf[len - 13] = 0xc0;                       /* rdata name points at itself */
    buf[len - 12] = (unsigned char) (len - 13);
    {
        dns_mx_list *list = dns_mx_list_new();

        assert_int_equal(dns_route_parse_mx(buf, len, list), -1);
        dns_mx_list_free(list);
    }
}

static void test_numeric_hosts(void **state)
{
    dns_addr_list *list = dns_addr_list_new();
    strbuf *why = strbuf_new(16);

    (void) state;
    assert_int_equal(dns_route_addr("192.0.2.7", DNS_LOOKUP_DNS, DNS_FAMILY_ALL, 2525, list, why),
                     DNS_ROUTE_OK);
    assert_int_equal(dns_route_addr("2001:db8::1", DNS_LOOKUP_DNS, DNS_FAMILY_ALL, 25, list,
                                     why), DNS_ROUTE_OK);
    assert_int_equal(list->count, 2);
    assert_string_equal(list->items[0].text, "192.0.2.7");
    assert_string_equal(list->items[1].text, "2001:db8::1");
    assert_int_equal(dns_route_addr("bad name", DNS_LOOKUP_DNS, DNS_FAMILY_ALL, 25, list, why),
                     DNS_ROUTE_INVALID);
    assert_non_null(strstr(why->data, "invalid name"));
    strbuf_free(why);
    dns_addr_list_free(list);
}

static void test_parameter_values(void **state)
{
    (void) state;
    assert_int_equal(dns_route_families("all"), DNS_FAMILY_ALL);
    assert_int_equal(dns_route_families("ipv4"), DNS_FAMILY_IPV4);
    assert_int_equal(dns_route_families("ipv4, ipv6"), DNS_FAMILY_ALL);
    assert_int_equal(dns_route_families("ipv5"), 0);
    assert_int_equal(dns_route_host_lookup("dns"), DNS_LOOKUP_DNS);
    assert_int_equal(dns_route_host_lookup("dns, native"), DNS_LOOKUP_DNS | DNS_LOOKUP_NATIVE);
    assert_int_equal(dns_route_host_lookup("nis"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mx_order),
        cmocka_unit_test(test_mx_bad_names_skipped),
        cmocka_unit_test(test_mx_damaged_packets),
        cmocka_unit_test(test_numeric_hosts),
        cmocka_unit_test(test_parameter_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
