/*
 * unit.h - what every cmocka unit test includes.
 *
 * unit_temp_file() writes text to a fresh file under a per-process scratch
 * directory and returns its path (owned by the test harness, removed at
 * exit). unit_temp_dir() returns that directory. unit_enter_queue() makes
 * a scratch queue directory the working directory (once per process), as
 * daemons work in queue_directory.
 */
#ifndef POSTERN_UNIT_H
#define POSTERN_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char unit_dir[256];

static void unit_cleanup(void)
{
    char    command[300];

    if (unit_dir[0]) {
        snprintf(command, sizeof(command), "rm -rf '%s'", unit_dir);
        if (system(command) != 0)
            fprintf(stderr, "cannot remove %s\n", unit_dir);
    }
}

static inline const char *unit_temp_dir(void)
{
    if (unit_dir[0] == 0) {
        snprintf(unit_dir, sizeof(unit_dir), "/tmp/postern-unit-XXXXXX");
        if (mkdtemp(unit_dir) == NULL)
            abort();
        atexit(unit_cleanup);
    }
    return unit_dir;
}

static inline const char *unit_temp_file(const char *name, const char *text)
{
    static char path[512];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/%s", unit_temp_dir(), name);
    if ((fp = fopen(path, "w")) == NULL)
        abort();
    fputs(text, fp);
    fclose(fp);
    return path;
}

static inline void unit_enter_queue(void)
{
    static int entered;
    char    dir[300];

    if (entered++)
        return;
    snprintf(dir, sizeof(dir), "%s/queue", unit_temp_dir());
    mkdir(dir, 0700);
    if (chdir(dir) < 0)
        abort();
}

#endif
