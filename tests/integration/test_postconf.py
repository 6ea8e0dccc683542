"""postconf and the installed layout, through the installed binaries."""
import grp
import os
import re
import socket
import stat
from pathlib import Path

from conftest import BUILD, PREFIX, REPO, SBIN, run

POSTCONF = SBIN / "postconf"


def programs():
    out = run(["make", "-s", "-C", REPO, "list-programs"]).stdout.splitlines()
    lists = dict(line.split(":", 1) for line in out)
    return lists["daemons"].split(), lists["commands"].split()


# What issue #2 says `make install PREFIX=DIR` puts in DIR/sbin and
# DIR/libexec/postfix (the daemons of DESIGN.md's process model).
ISSUE_COMMANDS = ("postfix", "postconf", "postqueue", "postdrop", "postsuper", "postcat",
                  "postmap", "postalias", "sendmail")
ISSUE_DAEMONS = ("master", "smtpd", "pickup", "cleanup", "qmgr", "trivial-rewrite", "smtp",
                 "lmtp", "local", "bounce", "showq", "flush", "error", "discard", "pipe")
SETGID_COMMANDS = ("postdrop", "postqueue")


def check_layout(root, setgid):
    """The installed tree under root (PREFIX, or DESTDIR + PREFIX)."""
    daemons, commands = programs()
    assert set(ISSUE_COMMANDS) <= set(commands) and set(ISSUE_DAEMONS) <= set(daemons)
    for path in [root / "sbin" / n for n in commands] + \
            [root / "libexec" / "postfix" / n for n in daemons]:
        info = path.lstat()
        assert stat.S_ISREG(info.st_mode) and os.access(path, os.X_OK), path
        assert info.st_uid == os.geteuid(), path
        assert not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH | stat.S_ISUID), path
        if setgid and path.name in SETGID_COMMANDS:
            # as Postfix installs them: set-gid setgid_group, nothing set-uid
            assert info.st_mode & stat.S_ISGID, path
            assert grp.getgrgid(info.st_gid).gr_name == "postdrop", path
        else:
            assert not info.st_mode & stat.S_ISGID, path
    for link in ("mailq", "newaliases"):
        assert os.readlink(root / "sbin" / link) == "sendmail"
    for name in ("main.cf", "master.cf", "aliases"):
        path = root / "etc" / "postfix" / name
        assert path.read_text() == (REPO / "conf" / name).read_text()
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_install_layout(install):
    check_layout(PREFIX, setgid=os.geteuid() == 0)


def test_install_with_destdir_never_overwrites_configuration(install, tmp_path):
    def make_install():
        run(["make", "-s", "-C", REPO, f"BUILD={BUILD}", f"PREFIX={PREFIX}",
             f"DESTDIR={tmp_path}", "install"], timeout=300)
    make_install()
    root = Path(f"{tmp_path}{PREFIX}")
    # a packaging root: no set-gid bits (the package sets them), files under it
    check_layout(root, setgid=False)
    main_cf = root / "etc" / "postfix" / "main.cf"
    main_cf.write_text("# the administrator's own\nmyhostname = kept.example\n")
    (root / "sbin" / "postcat").unlink()
    make_install()
    assert main_cf.read_text() == "# the administrator's own\nmyhostname = kept.example\n"
    assert (root / "sbin" / "postcat").is_file()


def test_system_prefix_uses_system_directories(install):
    """PREFIX=/usr compiles in /etc/postfix and /var/spool/postfix, as
    Debian's Postfix; any other prefix keeps everything under it."""
    def defaults(prefix):
        out = run([REPO / "scripts" / "gen-paths", prefix]).stdout
        return dict(re.findall(r'#define DEF_(\w+)_DIRECTORY\s+"([^"]*)"', out))
    assert defaults("/usr") == {"CONFIG": "/etc/postfix", "COMMAND": "/usr/sbin",
                                "DAEMON": "/usr/libexec/postfix",
                                "QUEUE": "/var/spool/postfix", "DATA": "/var/lib/postfix"}
    assert defaults("/opt/x") == {"CONFIG": "/opt/x/etc/postfix", "COMMAND": "/opt/x/sbin",
                                  "DAEMON": "/opt/x/libexec/postfix",
                                  "QUEUE": "/opt/x/var/spool/postfix",
                                  "DATA": "/opt/x/var/lib/postfix"}


def test_compiled_in_directories_follow_prefix(install):
    out = run([POSTCONF, "-d", "config_directory", "queue_directory", "data_directory",
               "command_directory", "daemon_directory"]).stdout
    assert out == (f"config_directory = {PREFIX}/etc/postfix\n"
                   f"queue_directory = {PREFIX}/var/spool/postfix\n"
                   f"data_directory = {PREFIX}/var/lib/postfix\n"
                   f"command_directory = {PREFIX}/sbin\n"
                   f"daemon_directory = {PREFIX}/libexec/postfix\n")


def host_names():
    """What Postfix derives from gethostname(), computed independently."""
    host = socket.gethostname()
    if "." in host:
        return host, host.split(".", 1)[1]
    return host + ".localdomain", "localdomain"


def config_dir(tmp_path, text):
    (tmp_path / "main.cf").write_text(text)
    (tmp_path / "master.cf").write_text((REPO / "conf" / "master.cf").read_text())
    return tmp_path


def test_defaults_are_the_hosts(install, tmp_path):
    myhostname, mydomain = host_names()
    cfg = config_dir(tmp_path, "")
    out = run([POSTCONF, "-c", cfg, "-d", "myhostname", "mydomain"]).stdout
    assert out == f"myhostname = {myhostname}\nmydomain = {mydomain}\n"
    out = run([POSTCONF, "-c", cfg, "-h", "-x", "mydestination", "myorigin"]).stdout
    assert out == f"{myhostname}, localhost.{mydomain}, localhost\n{myhostname}\n"


def test_show_nondefault_only_lists_main_cf(install, tmp_path):
    cfg = config_dir(tmp_path, "# a comment\nrelayhost = [relay.example]:587\n"
                               "myhostname = mx.example.test\n"
                               "mydestination = $myhostname\n  localhost\n")
    result = run([POSTCONF, "-c", cfg, "-n"])
    assert result.stdout == ("mydestination = $myhostname localhost\n"
                             "myhostname = mx.example.test\n"
                             "relayhost = [relay.example]:587\n")
    out = run([POSTCONF, "-c", cfg, "-x", "-h", "myorigin", "mydomain"]).stdout
    assert out == "mx.example.test\nexample.test\n"


def test_empty_value_has_no_trailing_space(install, tmp_path):
    cfg = config_dir(tmp_path, "relayhost =\n")
    assert run([POSTCONF, "-c", cfg, "relayhost", "recipient_delimiter"]).stdout == \
        "relayhost =\nrecipient_delimiter =\n"


def test_edit_keeps_comments_and_order(install, tmp_path):
    cfg = config_dir(tmp_path, "# header\nmyhostname = a.example\n# keep me\n"
                               "relayhost = old\n")
    run([POSTCONF, "-c", cfg, "-e", "relayhost = [new]:25", "mynetworks=10.0.0.0/8"])
    assert (cfg / "main.cf").read_text() == ("# header\nmyhostname = a.example\n"
                                             "# keep me\nrelayhost = [new]:25\n"
                                             "mynetworks = 10.0.0.0/8\n")
    assert run([POSTCONF, "-c", cfg, "-h", "relayhost"]).stdout == "[new]:25\n"
    run([POSTCONF, "-c", cfg, "-X", "mynetworks"])
    run([POSTCONF, "-c", cfg, "-#", "myhostname"])
    assert (cfg / "main.cf").read_text() == ("# header\n#myhostname = a.example\n"
                                             "# keep me\nrelayhost = [new]:25\n")


def test_edit_refuses_bad_input(install, tmp_path):
    cfg = config_dir(tmp_path, "relayhost = old\n")
    result = run([POSTCONF, "-c", cfg, "-e", "novalue"], check=False)
    assert result.returncode == 1
    assert "missing '=' after attribute name: \"novalue\"" in result.stderr
    result = run([POSTCONF, "-c", cfg, "-e", "relayhost=x\nmynetworks=0/0"], check=False)
    assert result.returncode == 1 and "newline" in result.stderr
    assert (cfg / "main.cf").read_text() == "relayhost = old\n"


def test_syntax_error_names_file_and_line(install, tmp_path):
    cfg = config_dir(tmp_path, "myhostname = a\n# c\nthis is wrong\n")
    result = run([POSTCONF, "-c", cfg, "-n"], check=False)
    assert result.returncode == 1
    assert (f"postconf: fatal: {cfg}/main.cf, line 3: missing '=' after attribute name: "
            f"\"this is wrong\"") in result.stderr


def test_unknown_and_unused_names_warn(install, tmp_path):
    cfg = config_dir(tmp_path, "foo = bar\nmyorigin = $nosuch\nmine = x\n"
                               "myhostname = $mine.example\n")
    result = run([POSTCONF, "-c", cfg, "nonexistent_parameter"], check=False)
    assert result.returncode == 1
    assert "nonexistent_parameter: unknown parameter" in result.stderr
    assert f"{cfg}/main.cf: unused parameter: foo=bar" in result.stderr
    assert f"{cfg}/main.cf: undefined parameter: nosuch" in result.stderr
    assert "mine" not in result.stderr          # referenced: user-defined
    assert run([POSTCONF, "-c", cfg, "-h", "-x", "myhostname"]).stdout == "x.example\n"


def test_mail_config_environment(install, tmp_path):
    cfg = config_dir(tmp_path, "relayhost = [env.example]\n")
    env = dict(os.environ, MAIL_CONFIG=str(cfg))
    assert run([POSTCONF, "-h", "relayhost"], env=env).stdout == "[env.example]\n"


def test_master_cf_listing(install, tmp_path):
    cfg = config_dir(tmp_path, "")
    out = run([POSTCONF, "-c", cfg, "-M", "pickup/unix", "relay"]).stdout
    assert out == ("pickup     unix  n       -       y       60      1       pickup\n"
                   "relay      unix  -       -       y       -       -       smtp "
                   "-o syslog_name=postfix/$service_name\n")
    out = run([POSTCONF, "-c", cfg, "-Mf", "relay/unix"]).stdout
    assert out == ("relay      unix  -       -       y       -       -       smtp\n"
                   "    -o syslog_name=postfix/$service_name\n")
    (cfg / "master.cf").write_text("smtp inet n - y\n")
    result = run([POSTCONF, "-c", cfg, "-M"], check=False)
    assert result.returncode == 1
    assert f"{cfg}/master.cf, line 1: bad field count" in result.stderr
