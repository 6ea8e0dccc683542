/*
 * postconf - show or change Postern configuration (postconf(1)).
 *
 *   postconf [-c dir] [-n|-d] [-h] [-x] [name ...]   print parameters
 *   postconf [-c dir] -e name=value ...              set in main.cf
 *   postconf [-c dir] -X name ...                    remove from main.cf
 *   postconf [-c dir] -# name ...                    comment out in main.cf
 *   postconf [-c dir] -M[f] [service[/type] ...]     print master.cf entries
 *
 * Output and messages follow Postfix's postconf. Exit status 0, or 1 after
 * a warning about an unknown name or a configuration error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sysexits.h>

#include "config.h"
#include "mail_params.h"
#include "msg.h"
#include "postconf.h"
#include "strbuf.h"

static void usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: postconf [-c config_dir] [-n|-d] [-h] [-x] [-f] "
                     "[-e|-X|-#] [-M] [name...]");
}

typedef struct options {
    const char *config_dir;
    int     flags;
    int     edit;                       /* -1 none, else enum main_cf_edit */
    int     master;
} options;

static void parse_options(int argc, char **argv, options *opt)
{
    int     ch;

    opt->edit = -1;
    while ((ch = getopt(argc, argv, "c:ndhxfeX#Mv")) != -1) {
        switch (ch) {
        case 'c': opt->config_dir = optarg; break;
        case 'n': opt->flags |= PC_SHOW_NONDEFAULT; break;
        case 'd': opt->flags |= PC_SHOW_DEFAULTS; break;
        case 'h': opt->flags |= PC_HIDE_NAME; break;
        case 'x': opt->flags |= PC_EXPAND; break;
        case 'f': opt->flags |= PC_FOLD; break;
        case 'e': opt->edit = MAIN_CF_SET; break;
        case 'X': opt->edit = MAIN_CF_REMOVE; break;
        case '#': opt->edit = MAIN_CF_COMMENT; break;
        case 'M': opt->master = 1; break;
        case 'v': msg_verbose++; break;
        default: usage();
        }
    }
    if ((opt->flags & PC_SHOW_NONDEFAULT) && (opt->flags & PC_SHOW_DEFAULTS))
        msg_fatal_status(EX_USAGE, "specify one of -n and -d");
    if (opt->edit >= 0 && (opt->master || opt->flags))
        msg_fatal_status(EX_USAGE, "-e, -X and -# cannot be combined with other options");
}

int main(int argc, char **argv)
{
    options opt = {0};
    strbuf *path = strbuf_new(128);
    int     status;

    msg_open("postfix/postconf", MSG_TO_STDERR);
    parse_options(argc, argv, &opt);
    config_init(opt.config_dir);
    strbuf_printf(path, "%s/main.cf", config_dir());
    if (opt.edit >= 0) {
        if (optind >= argc)
            usage();
        status = postconf_edit_main_cf(path->data, (enum main_cf_edit) opt.edit, argv + optind);
    } else if (opt.master) {
        status = postconf_print_master(opt.flags, argv + optind);
    } else {
        status = postconf_print(opt.flags, argv + optind);
    }
    strbuf_free(path);
    fflush(stdout);
    return ferror(stdout) ? EX_IOERR : status;
}
