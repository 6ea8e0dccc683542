/*
 * postfix_dirs - the queue and data directories, their owners and modes.
 * See postfix.h.
 *
 * The layout is Postfix's:
 *
 *   queue_directory              root                0755
 *   pid                          root                0755
 *   maildrop                     mail_owner:setgid   0730
 *   public                       mail_owner:setgid   0710
 *   private incoming active      mail_owner          0700
 *   deferred defer bounce hold trace corrupt saved flush
 *   data_directory               mail_owner          0700
 *
 * Warnings use Postfix's words ("not owned by root: PATH", "group or other
 * writable: PATH", "not owned by group postdrop: PATH") plus one for a mode
 * that differs from the table ("wrong permissions 0755, expected 0700").
 * Directories are checked, not the queue files inside them (postsuper's
 * job), so a check stays fast with a large queue.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mail_params.h"
#include "msg.h"
#include "postfix.h"
#include "strbuf.h"

enum dir_owner { OWNER_ROOT, OWNER_MAIL };

typedef struct dir_spec {
    const char *name;                   /* below queue_directory; "" = itself */
    mode_t  mode;
    enum dir_owner owner;
    int     setgid_group;               /* group is setgid_group */
} dir_spec;

static const dir_spec queue_dirs[] = {
    {"", 0755, OWNER_ROOT, 0},
    {"pid", 0755, OWNER_ROOT, 0},
    {"maildrop", 0730, OWNER_MAIL, 1},
    {"public", 0710, OWNER_MAIL, 1},
    {"private", 0700, OWNER_MAIL, 0},
    {"incoming", 0700, OWNER_MAIL, 0},
    {"active", 0700, OWNER_MAIL, 0},
    {"deferred", 0700, OWNER_MAIL, 0},
    {"defer", 0700, OWNER_MAIL, 0},
    {"bounce", 0700, OWNER_MAIL, 0},
    {"hold", 0700, OWNER_MAIL, 0},
    {"trace", 0700, OWNER_MAIL, 0},
    {"corrupt", 0700, OWNER_MAIL, 0},
    {"saved", 0700, OWNER_MAIL, 0},
    {"flush", 0700, OWNER_MAIL, 0},
};

#define QUEUE_DIR_COUNT  (sizeof(queue_dirs) / sizeof(queue_dirs[0]))

static const dir_spec data_dir = {"", 0700, OWNER_MAIL, 0};

void postfix_lookup_ids(postfix_ids *ids)
{
    struct passwd *pw = getpwnam(var_mail_owner);
    struct group *gr;
    const char *main_cf = config_main_cf_path();

    ids->as_root = geteuid() == 0;
    if (pw && pw->pw_uid == 0)
        msg_fatal("file %s: parameter mail_owner: user %s has privileged user ID",
                  main_cf, var_mail_owner);
    if (!ids->as_root) {
        ids->mail_owner = getuid();
        ids->setgid_group = getgid();
        return;
    }
    if (pw == NULL)
        msg_fatal("file %s: parameter mail_owner: unknown user name value: %s",
                  main_cf, var_mail_owner);
    if ((gr = getgrnam(var_setgid_group)) == NULL)
        msg_fatal("file %s: parameter setgid_group: unknown group name: %s",
                  main_cf, var_setgid_group);
    if (gr->gr_gid == 0)
        msg_fatal("file %s: parameter setgid_group: group %s has privileged group ID",
                  main_cf, var_setgid_group);
    if (gr->gr_gid == pw->pw_gid)
        msg_fatal("file %s: parameter setgid_group: group %s has the same group ID as "
                  "the group of mail_owner %s", main_cf, var_setgid_group, var_mail_owner);
    ids->mail_owner = pw->pw_uid;
    ids->setgid_group = gr->gr_gid;
}

static void dir_path(strbuf *path, const char *top, const dir_spec *spec)
{
    if (*spec->name)
        strbuf_printf(path, "%s/%s", top, spec->name);
    else
        strbuf_set(path, top);
}

static uid_t wanted_uid(const postfix_ids *ids, const dir_spec *spec)
{
    return spec->owner == OWNER_ROOT ? 0 : ids->mail_owner;
}

/* Sets owner (as root) and mode; returns 0 or -1 with errno. */
static int apply_ownership(const postfix_ids *ids, const dir_spec *spec, const char *path)
{
    if (ids->as_root && lchown(path, wanted_uid(ids, spec),
                               spec->setgid_group ? ids->setgid_group : (gid_t) -1) < 0)
        return -1;
    return chmod(path, spec->mode);
}

/* mkdir -p for the parents of a top-level directory (mode 0755). */
static void make_parents(const char *path)
{
    strbuf *parent = strbuf_from(path);

    for (char *slash = strchr(parent->data + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = 0;
        if (mkdir(parent->data, 0755) < 0 && errno != EEXIST)
            msg_fatal("create directory %s: %m", parent->data);
        *slash = '/';
    }
    strbuf_free(parent);
}

static void create_one(const postfix_ids *ids, const char *top, const dir_spec *spec)
{
    strbuf *path = strbuf_new(128);

    dir_path(path, top, spec);
    if (*spec->name == 0)
        make_parents(path->data);
    if (mkdir(path->data, spec->mode) == 0) {
        if (apply_ownership(ids, spec, path->data) < 0)
            msg_fatal("set owner and mode of %s: %m", path->data);
    } else if (errno != EEXIST) {
        msg_fatal("create directory %s: %m", path->data);
    }
    strbuf_free(path);
}

void postfix_create_missing(const postfix_ids *ids)
{
    for (size_t i = 0; i < QUEUE_DIR_COUNT; i++)
        create_one(ids, var_queue_directory, &queue_dirs[i]);
    create_one(ids, var_data_directory, &data_dir);
}

static void check_one(const postfix_ids *ids, const char *top, const dir_spec *spec)
{
    strbuf *path = strbuf_new(128);
    struct stat st;

    dir_path(path, top, spec);
    if (lstat(path->data, &st) < 0) {
        msg_warn("cannot examine %s: %m", path->data);
    } else if (!S_ISDIR(st.st_mode)) {
        msg_warn("not a directory: %s", path->data);
    } else {
        if (ids->as_root && st.st_uid != wanted_uid(ids, spec))
            msg_warn("not owned by %s: %s", spec->owner == OWNER_ROOT ? "root" :
                     var_mail_owner, path->data);
        if (ids->as_root && spec->setgid_group && st.st_gid != ids->setgid_group)
            msg_warn("not owned by group %s: %s", var_setgid_group, path->data);
        if ((st.st_mode & 022) && !spec->setgid_group)
            msg_warn("group or other writable: %s", path->data);
        if ((st.st_mode & 07777) != spec->mode)
            msg_warn("wrong permissions %04o, expected %04o: %s",
                     (unsigned) (st.st_mode & 07777), (unsigned) spec->mode, path->data);
    }
    strbuf_free(path);
}

/* Warns about set-gid commands that lost their group or mode. */
static void check_setgid_command(const postfix_ids *ids, const char *name)
{
    strbuf *path = strbuf_new(128);
    struct stat st;

    strbuf_printf(path, "%s/%s", var_command_directory, name);
    if (ids->as_root && stat(path->data, &st) == 0) {
        if (st.st_gid != ids->setgid_group)
            msg_warn("not owned by group %s: %s", var_setgid_group, path->data);
        if ((st.st_mode & 02111) != 02111)
            msg_warn("not set-gid or not owner+group+world executable: %s", path->data);
    }
    strbuf_free(path);
}

void postfix_check_directories(const postfix_ids *ids)
{
    for (size_t i = 0; i < QUEUE_DIR_COUNT; i++)
        check_one(ids, var_queue_directory, &queue_dirs[i]);
    check_one(ids, var_data_directory, &data_dir);
    check_setgid_command(ids, "postdrop");
    check_setgid_command(ids, "postqueue");
}

static void set_one(const postfix_ids *ids, const char *top, const dir_spec *spec)
{
    strbuf *path = strbuf_new(128);

    dir_path(path, top, spec);
    if (apply_ownership(ids, spec, path->data) < 0 && errno != ENOENT)
        msg_warn("set owner and mode of %s: %m", path->data);
    strbuf_free(path);
}

static void set_setgid_command(const postfix_ids *ids, const char *name)
{
    strbuf *path = strbuf_new(128);

    strbuf_printf(path, "%s/%s", var_command_directory, name);
    if (ids->as_root && access(path->data, F_OK) == 0
        && (chown(path->data, (uid_t) -1, ids->setgid_group) < 0
            || chmod(path->data, 02755) < 0))
        msg_warn("set group and mode of %s: %m", path->data);
    strbuf_free(path);
}

void postfix_set_permissions(const postfix_ids *ids)
{
    for (size_t i = 0; i < QUEUE_DIR_COUNT; i++)
        set_one(ids, var_queue_directory, &queue_dirs[i]);
    set_one(ids, var_data_directory, &data_dir);
    set_setgid_command(ids, "postdrop");
    set_setgid_command(ids, "postqueue");
}
