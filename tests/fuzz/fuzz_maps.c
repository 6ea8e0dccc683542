/*
 * fuzz_maps - libFuzzer target for the text parsers of the table layer.
 *
 * The first byte picks a parser; the rest is its input: a regexp, pcre,
 * cidr or texthash table file (then a few lookups, the last ones with the
 * input's own lines as keys), an inline table, a match list, or an access
 * table result. Nothing may crash, leak or read out of bounds, whatever
 * the text. POSIX regexp tables get short inputs only: glibc's regcomp()
 * itself needs exponential memory for patterns like "a++++++...", which
 * is the library's cost, not the parser's (pcre: gets everything).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access_result.h"
#include "map.h"
#include "match_list.h"
#include "mem.h"
#include "msg.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void lookup_some(map_t *map, const char *text)
{
    static const char *keys[] = {"", "a", "user@example.com", "10.1.2.3", "2001:db8::1",
        "[127.0.0.1]", "x\ny"};
    const char *value;
    char   *copy = xstrdup(text);

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        (void) map_lookup(map, keys[i], &value);
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n"))
        (void) map_lookup(map, line, &value);
    free(copy);
}

static void fuzz_table_file(const char *type, const char *text)
{
    char    path[] = "/tmp/fuzz-maps-XXXXXX";
    char    spec[64];
    int     fd = mkstemp(path);
    map_t  *map;

    if (fd < 0 || write(fd, text, strlen(text)) < 0) {
        if (fd >= 0)
            close(fd);
        unlink(path);
        return;
    }
    close(fd);
    snprintf(spec, sizeof(spec), "%s:%s", type, path);
    map = map_open(spec, MAP_READ, MAP_FLAG_FOLD);
    lookup_some(map, text);
    map_close(map);
    unlink(path);
}

static void fuzz_inline(const char *text)
{
    char   *spec = xmalloc(strlen(text) + 16);
    map_t  *map;

    sprintf(spec, "inline:{%s}", text);
    map = map_open(spec, MAP_READ, MAP_FLAG_FOLD);
    lookup_some(map, text);
    map_close(map);
    free(spec);
}

static void fuzz_match_lists(const char *text)
{
    match_list *list = host_list_new("mynetworks", text);

    (void) host_list_match(list, "mail.example.com", "192.0.2.1");
    (void) host_list_match(list, "unknown", "2001:db8::1");
    match_list_free(list);
    list = domain_list_new("relay_domains", text);
    (void) domain_list_match(list, "a.b.example.com");
    match_list_free(list);
}

static void fuzz_access_result(const char *text)
{
    strbuf *why = strbuf_new(64);

    access_result_free(access_result_parse(text, why));
    strbuf_free(why);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *text;

    if (size < 1)
        return 0;
    msg_open("fuzz_maps", 0);
    text = xstrndup((const char *) data + 1, size - 1);     /* stops at a NUL */
    switch (data[0] % 8) {
    case 0: fuzz_table_file(size <= 16 ? "regexp" : "pcre", text); break;
    case 1: fuzz_table_file("pcre", text); break;
    case 2: fuzz_table_file("cidr", text); break;
    case 3: fuzz_table_file("texthash", text); break;
    case 4: fuzz_inline(text); break;
    case 5: fuzz_match_lists(text); break;
    case 6: fuzz_access_result(text); break;
    default: fuzz_table_file("pcre", text); break;
    }
    free(text);
    return 0;
}
