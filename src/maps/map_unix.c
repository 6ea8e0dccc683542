/*
 * map_unix - unix:passwd.byname and unix:group.byname, through getpwnam()
 * and getgrnam().
 *
 * Results look like the passwd and group file lines
 * ("name:passwd:uid:gid:gecos:dir:shell", "name:passwd:gid:m1,m2").
 * Any other name breaks the map ("unknown table"). A name the system does
 * not know is MAP_NOTFOUND; a failing name service is MAP_ERROR.
 * Inside a chroot jail the system files are usually out of reach.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "map_impl.h"

typedef int (*unix_lookup_fn)(map_t *map, const char *key, strbuf *value);

/* getpwnam/getgrnam return NULL also for "no such name"; these errno values say so. */
static int name_service_failed(int error)
{
    return error != 0 && error != ENOENT && error != ESRCH && error != EBADF && error != EPERM;
}

static int passwd_lookup(map_t *map, const char *key, strbuf *value)
{
    struct passwd *pw;

    errno = 0;
    if ((pw = getpwnam(key)) == NULL)
        return name_service_failed(errno) ?
            map_fail(map, "%s: lookup of \"%s\": %s", map->spec, key, strerror(errno)) :
            MAP_NOTFOUND;
    strbuf_printf(value, "%s:%s:%ld:%ld:%s:%s:%s", pw->pw_name, pw->pw_passwd,
                  (long) pw->pw_uid, (long) pw->pw_gid, pw->pw_gecos, pw->pw_dir,
                  pw->pw_shell);
    return MAP_OK;
}

static int group_lookup(map_t *map, const char *key, strbuf *value)
{
    struct group *gr;

    errno = 0;
    if ((gr = getgrnam(key)) == NULL)
        return name_service_failed(errno) ?
            map_fail(map, "%s: lookup of \"%s\": %s", map->spec, key, strerror(errno)) :
            MAP_NOTFOUND;
    strbuf_printf(value, "%s:%s:%ld:", gr->gr_name, gr->gr_passwd, (long) gr->gr_gid);
    for (char **member = gr->gr_mem; *member; member++)
        strbuf_append_printf(value, "%s%s", member == gr->gr_mem ? "" : ",", *member);
    return MAP_OK;
}

static int unix_open(map_t *map, strbuf *why)
{
    static unix_lookup_fn passwd = passwd_lookup;
    static unix_lookup_fn group = group_lookup;

    if (strcmp(map->name, "passwd.byname") == 0)
        map->impl = &passwd;
    else if (strcmp(map->name, "group.byname") == 0)
        map->impl = &group;
    else {
        strbuf_printf(why, "unknown table: %s", map->spec);
        return -1;
    }
    return 0;
}

static int unix_lookup(map_t *map, const char *key, strbuf *value)
{
    unix_lookup_fn *lookup = map->impl;

    return (*lookup) (map, key, value);
}

static void unix_close(map_t *map)
{
    map->impl = NULL;
}

const map_type map_type_unix = {
    .name = "unix",
    .properties = MAP_FLAG_FIXED,
    .open = unix_open,
    .lookup = unix_lookup,
    .close = unix_close,
};
