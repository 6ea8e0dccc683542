/*
 * map_tool - the command behind postmap(1) and postalias(1). See map_tool.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mail_params.h"
#include "logical_line.h"
#include "map_text.h"
#include "map_tool.h"
#include "mem.h"
#include "msg.h"
#include "stream.h"

#define KEY_LINE_LIMIT  (1024 * 1024)   /* longest key read from stdin */

enum tool_mode { MODE_BUILD, MODE_INCREMENTAL, MODE_QUERY, MODE_DELETE, MODE_DUMP };

typedef struct tool_run {
    const map_tool *tool;
    enum tool_mode mode;
    const char *key;                    /* -q / -d argument */
    int     flags;                      /* MAP_FLAG_* */
    int     keep_root;                  /* -o */
    int     default_mode;               /* -p */
    stream *out;
} tool_run;

static void usage(const map_tool *tool)
{
    msg_fatal("usage: %s %s", tool->program, tool->usage);
}

static void set_mode(tool_run *run, enum tool_mode mode, const char *key)
{
    if (run->mode != MODE_BUILD && run->mode != mode)
        msg_fatal("specify only one of -s -q or -d");
    run->mode = mode;
    run->key = key;
}

static void parse_options(tool_run *run, int argc, char **argv, const char **config_dir)
{
    int     ch;

    while ((ch = getopt(argc, argv, "Nc:d:finopq:rsvw")) > 0) {
        switch (ch) {
        case 'N': run->flags = (run->flags | MAP_FLAG_NUL) & ~MAP_FLAG_NO_NUL; break;
        case 'n': run->flags = (run->flags | MAP_FLAG_NO_NUL) & ~MAP_FLAG_NUL; break;
        case 'c': *config_dir = optarg; break;
        case 'd': set_mode(run, MODE_DELETE, optarg); break;
        case 'f': run->flags &= ~MAP_FLAG_FOLD; break;
        case 'i': run->mode = run->mode == MODE_BUILD ? MODE_INCREMENTAL : run->mode; break;
        case 'o': run->keep_root = 1; break;
        case 'p': run->default_mode = 1; break;
        case 'q': set_mode(run, MODE_QUERY, optarg); break;
        case 'r': run->flags = (run->flags | MAP_FLAG_DUP_REPLACE) & ~MAP_FLAG_DUP_IGNORE; break;
        case 's': set_mode(run, MODE_DUMP, NULL); break;
        case 'v': msg_verbose++; break;
        case 'w': run->flags = (run->flags | MAP_FLAG_DUP_IGNORE) & ~MAP_FLAG_DUP_REPLACE; break;
        default: usage(run->tool);
        }
    }
    if (optind >= argc)
        usage(run->tool);
}

/* "file" means "$default_database_type:file". */
static char *table_spec(const char *arg)
{
    strbuf *spec = strbuf_new(256);

    if (strchr(arg, ':'))
        strbuf_set(spec, arg);
    else
        strbuf_printf(spec, "%s:%s", var_default_database_type, arg);
    return strbuf_steal(spec);
}

/* The type and file name of a spec from table_spec(). */
static void split_spec(const char *spec, strbuf *type, const char **name)
{
    const char *colon = strchr(spec, ':');

    strbuf_set_mem(type, spec, (size_t) (colon - spec));
    *name = colon + 1;
}

static map_t *open_or_die(const char *arg, int mode, int flags)
{
    char   *spec = table_spec(arg);
    map_t  *map = map_open(spec, mode, flags);

    if (map_broken(map))
        msg_fatal("%s", map_error(map));
    free(spec);
    return map;
}

void    map_tool_update(map_t *map, const char *key, const char *value)
{
    if (map_update(map, key, value) == MAP_ERROR)
        msg_fatal("%s", map_error(map));
}

/* Feeds every logical line of `text` to the tool's parser. */
static void add_source_text(const map_tool *tool, map_t *map, const char *source,
                            const strbuf *text)
{
    strbuf *line = strbuf_new(256);
    logical_cursor cursor;
    int     lineno;
    int     orphan;

    logical_line_start(&cursor, text->data, LOGICAL_LINE_KEEP_SPACE);
    while ((lineno = logical_line_next(&cursor, line, &orphan)) > 0) {
        if (orphan)
            msg_warn("%s, line %d: logical line must not start with whitespace: \"%s\"",
                     source, lineno, line->data);
        else
            tool->add_line(map, source, lineno, line);
    }
    if (tool->finish)
        tool->finish(map);
    strbuf_free(line);
}

/* Building ----------------------------------------------------------------- */

/* Runs as the owner of the source file, as Postfix does, unless -o. */
static void become_owner(const tool_run *run, const struct stat *st)
{
    gid_t   gid = st->st_gid;

    if (run->keep_root || getuid() != 0 || st->st_uid == 0)
        return;
    if (setegid(gid) < 0 || setgroups(1, &gid) < 0 || seteuid(st->st_uid) < 0)
        msg_fatal("set effective uid %ld gid %ld: %m", (long) st->st_uid, (long) gid);
}

static void become_root_again(void)
{
    gid_t   root_group = 0;

    if (getuid() != 0 || geteuid() == 0)
        return;
    if (seteuid(0) < 0 || setegid(0) < 0 || setgroups(1, &root_group) < 0)
        msg_fatal("restore root privileges: %m");
}

static void block_signals(sigset_t *saved)
{
    sigset_t block;

    sigemptyset(&block);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGQUIT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, saved);
}

static void require_creatable(const char *spec)
{
    strbuf *type = strbuf_new(16);
    const char *name;

    split_spec(spec, type, &name);
    if (!map_can_create(type->data))
        msg_fatal("unsupported dictionary type: %s does not support bulk-mode creation.",
                  type->data);
    strbuf_free(type);
}

/* Creates the table of `spec` from `text`, replacing any old one at once. */
static void create_table(const tool_run *run, const char *spec, const char *source,
                         const strbuf *text, mode_t file_mode)
{
    sigset_t saved;
    map_t  *map;

    block_signals(&saved);
    map = map_create(spec, run->flags, file_mode);
    if (map_broken(map))
        msg_fatal("%s", map_error(map));
    add_source_text(run->tool, map, source, text);
    if (map_commit(map) != MAP_OK)
        msg_fatal("%s", map_error(map));
    map_close(map);
    sigprocmask(SIG_SETMASK, &saved, NULL);
}

static void build_table(const tool_run *run, const char *arg)
{
    char   *spec = table_spec(arg);
    const char *source = strchr(spec, ':') + 1;
    strbuf *text = strbuf_new(64 * 1024);
    strbuf *why = strbuf_new(64);
    struct stat st;
    int     fd;

    require_creatable(spec);
    if ((fd = map_open_regular(source, why)) < 0)
        msg_fatal("%s", why->data);
    if (fstat(fd, &st) < 0)
        msg_fatal("fstat %s: %m", source);
    if (fd_read_text(fd, source, text, why) < 0)
        msg_fatal("%s", why->data);
    close(fd);
    become_owner(run, &st);
    create_table(run, spec, source, text,
                 run->default_mode ? 0644 : 0600 | (st.st_mode & 044));
    become_root_again();
    strbuf_free(why);
    strbuf_free(text);
    free(spec);
}

/* -i: entries from standard input, added in place (or a new table). */
static void update_table(const tool_run *run, const char *arg, const strbuf *input)
{
    char   *spec = table_spec(arg);
    strbuf *type = strbuf_new(16);
    strbuf *file = strbuf_new(256);
    const char *name;
    struct stat st;
    sigset_t saved;
    map_t  *map;

    split_spec(spec, type, &name);
    strbuf_printf(file, "%s%s", name, map_file_suffix(type->data));
    if (map_can_create(type->data) && stat(file->data, &st) < 0 && errno == ENOENT) {
        create_table(run, spec, "-", input, 0644);
    } else {
        block_signals(&saved);
        map = open_or_die(spec, MAP_UPDATE, run->flags);
        add_source_text(run->tool, map, "-", input);
        map_close(map);
        sigprocmask(SIG_SETMASK, &saved, NULL);
    }
    strbuf_free(file);
    strbuf_free(type);
    free(spec);
}

/* Queries, deletes, dumps -------------------------------------------------- */

/* Reads the next key from standard input; 0 at the end. */
static int next_input_key(stream *in, strbuf *key)
{
    enum stream_line status;

    for (;;) {
        status = stream_get_line(in, key, KEY_LINE_LIMIT);
        if (status == STREAM_LINE_NONE)
            return 0;
        if (status != STREAM_LINE_TOO_LONG)
            break;
        msg_warn("standard input: key longer than %d bytes: skipped", KEY_LINE_LIMIT);
        while (stream_get_line(in, key, KEY_LINE_LIMIT) == STREAM_LINE_TOO_LONG)
             /* discard the rest of the line */ ;
    }
    if (strbuf_last(key) == '\n')
        strbuf_truncate(key, key->len - 1);
    return 1;
}

static int query_key(const tool_run *run, map_t **maps, size_t count, const char *key,
                     int print_key)
{
    const char *value;

    for (size_t i = 0; i < count; i++) {
        switch (map_lookup(maps[i], key, &value)) {
        case MAP_OK:
            if (print_key)
                stream_printf(run->out, "%s%s%s\n", key, run->tool->separator, value);
            else
                stream_printf(run->out, "%s\n", value);
            return 1;
        case MAP_ERROR:
            msg_fatal("table %s: query error: %s", map_spec(maps[i]), map_error(maps[i]));
        }
    }
    return 0;
}

static int delete_key(map_t **maps, size_t count, const char *key)
{
    int     found = 0;

    for (size_t i = 0; i < count; i++) {
        switch (map_delete(maps[i], key)) {
        case MAP_OK:
            found = 1;
            break;
        case MAP_ERROR:
            msg_fatal("%s", map_error(maps[i]));
        }
    }
    return found;
}

/* Runs -q or -d for the key argument, or for every key on stdin ("-"). */
static int for_each_key(const tool_run *run, map_t **maps, size_t count)
{
    stream *in;
    strbuf *key;
    int     found = 0;

    if (strcmp(run->key, "-") != 0)
        return run->mode == MODE_QUERY ? query_key(run, maps, count, run->key, 0)
            : delete_key(maps, count, run->key);
    in = stream_open_fd(STDIN_FILENO, 0);
    key = strbuf_new(256);
    while (next_input_key(in, key)) {
        found |= run->mode == MODE_QUERY ? query_key(run, maps, count, key->data, 1)
            : delete_key(maps, count, key->data);
        if (stream_pending(in) == 0 && stream_flush(run->out) < 0)
            msg_fatal("write to standard output: %m");  /* answer before waiting */
    }
    strbuf_free(key);
    stream_release(in);
    return found;
}

static void dump_table(const tool_run *run, map_t *map)
{
    const char *key;
    const char *value;
    int     status;

    for (int first = 1; (status = map_sequence(map, first, &key, &value)) == MAP_OK; first = 0)
        stream_printf(run->out, "%s%s%s\n", key, run->tool->separator, value);
    if (status == MAP_ERROR)
        msg_fatal("%s", map_error(map));
}

static int use_tables(const tool_run *run, int count, char **args)
{
    map_t **maps = xcalloc((size_t) count, sizeof(map_t *));
    int     found = 1;

    for (int i = 0; i < count; i++)
        maps[i] = open_or_die(args[i], run->mode == MODE_DELETE ? MAP_UPDATE : MAP_READ,
                              run->flags);
    if (run->mode == MODE_DUMP) {
        for (int i = 0; i < count; i++)
            dump_table(run, maps[i]);
    } else {
        found = for_each_key(run, maps, (size_t) count);
    }
    for (int i = 0; i < count; i++)
        map_close(maps[i]);
    free(maps);
    return found;
}

static strbuf *read_standard_input(void)
{
    strbuf *text = strbuf_new(4096);
    strbuf *why = strbuf_new(64);

    if (fd_read_text(STDIN_FILENO, "standard input", text, why) < 0)
        msg_fatal("%s", why->data);
    strbuf_free(why);
    return text;
}

int     map_tool_main(const map_tool *tool, int argc, char **argv)
{
    tool_run run = {.tool = tool, .mode = MODE_BUILD, .flags = MAP_FLAG_FOLD};
    const char *config_dir = NULL;
    strbuf *input;
    strbuf *ident = strbuf_new(32);
    int     found = 1;

    strbuf_printf(ident, "postfix/%s", tool->program);
    msg_open(ident->data, MSG_TO_STDERR);
    parse_options(&run, argc, argv, &config_dir);
    config_init(config_dir);
    params_load();
    msg_set_exit_hook(map_remove_temp_files);
    run.out = stream_open_fd(STDOUT_FILENO, 0);
    if (run.mode == MODE_BUILD) {
        for (int i = optind; i < argc; i++)
            build_table(&run, argv[i]);
    } else if (run.mode == MODE_INCREMENTAL) {
        input = read_standard_input();
        for (int i = optind; i < argc; i++)
            update_table(&run, argv[i], input);
        strbuf_free(input);
    } else {
        found = use_tables(&run, argc - optind, argv + optind);
    }
    if (stream_flush(run.out) < 0)
        msg_fatal("write to standard output: %m");
    stream_release(run.out);
    strbuf_free(ident);
    return found ? 0 : 1;
}
