"""The postfix command: start, status, stop, abort, reload, check, flush,
set-permissions, start-fg, with Postfix's messages and exit status."""
import grp
import os
import pwd
import re
import signal
import socket
import stat
import subprocess

from conftest import LIBEXEC, SBIN, port_open, wait_for
from queue_helpers import FUTURE, drop, message, queue_path

IS_ROOT = os.geteuid() == 0


def greeting(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        return s.makefile("rb").readline().decode()


def assert_nothing_running(inst):
    assert inst.processes() == []
    assert inst.master_pid() is None
    assert not port_open(inst.smtp_port)


def test_start_status_stop(make_instance):
    inst = make_instance("lifecycle").start()
    pid = inst.master_pid()
    assert greeting(inst.smtp_port) == "220 mx.example.test ESMTP Postern\r\n"

    status = inst.postfix("status")
    assert f"the Postfix mail system is running: PID: {pid}" in status.stderr

    again = inst.postfix("start", check=False)
    assert again.returncode == 1
    assert "fatal: the Postfix mail system is already running" in again.stderr
    assert inst.master_pid() == pid

    stopped = inst.postfix("stop")
    assert "stopping the Postfix mail system" in stopped.stderr
    assert_nothing_running(inst)
    inst.wait_log(r"postfix/master\[\d+\]: terminating on signal 15")

    status = inst.postfix("status", check=False)
    assert status.returncode == 1
    assert "the Postfix mail system is not running" in status.stderr
    stop_again = inst.postfix("stop", check=False)
    assert stop_again.returncode == 1
    assert "fatal: the Postfix mail system is not running" in stop_again.stderr
    assert inst.postfix("reload", check=False).returncode == 1
    assert inst.postfix("abort", check=False).returncode == 1


def test_start_logs_like_postfix(make_instance):
    inst = make_instance("startlog").start()
    inst.wait_log(r"postfix/postfix-script\[\d+\]: starting the Postfix mail system")
    inst.wait_log(rf"postfix/master\[{inst.master_pid()}\]: daemon started -- version "
                  rf"\S+, configuration {inst.config_dir}\n")
    pid_text = (inst.queue_dir / "pid" / "master.pid").read_text()
    assert pid_text == f"{inst.master_pid():>32}\n"


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_start_creates_queue_directories(make_instance):
    inst = make_instance("dirs").start()
    expected = {".": 0o755, "pid": 0o755, "maildrop": 0o730, "public": 0o710}
    for name in ("private", "incoming", "active", "deferred", "defer", "bounce", "hold",
                 "trace", "corrupt", "saved", "flush"):
        expected[name] = 0o700
    for name, wanted in expected.items():
        assert mode(inst.queue_dir / name) == wanted, name
    assert mode(inst.data_dir) == 0o700
    if IS_ROOT:
        owner = pwd.getpwnam("postfix").pw_uid
        postdrop = grp.getgrnam("postdrop").gr_gid
        assert os.stat(inst.queue_dir).st_uid == 0
        assert os.stat(inst.queue_dir / "pid").st_uid == 0
        for name in ("maildrop", "public", "private", "active", "deferred"):
            assert os.stat(inst.queue_dir / name).st_uid == owner, name
        for name in ("maildrop", "public"):
            assert os.stat(inst.queue_dir / name).st_gid == postdrop, name
        assert os.stat(inst.data_dir).st_uid == owner
        assert os.stat(inst.data_dir / "master.lock").st_uid == owner
        # the chroot jail got its copies of /etc files
        assert (inst.queue_dir / "etc" / "services").read_bytes() == \
            open("/etc/services", "rb").read()


def break_master_cf(text):
    return text + "broken   inet  n  -  y\n"


def test_master_cf_syntax_error(make_instance):
    inst = make_instance("badmaster", master_cf_edit=break_master_cf)
    line = (inst.config_dir / "master.cf").read_text().count("\n")
    where = f"{inst.config_dir}/master.cf, line {line}: bad field count"

    check = inst.postfix("check", check=False)
    assert check.returncode == 1
    assert where in check.stderr

    start = inst.postfix("start", check=False)
    assert start.returncode == 1
    assert where in start.stderr
    assert_nothing_running(inst)


def test_master_cf_semantic_error(make_instance):
    inst = make_instance("badcommand", master_cf_edit=lambda t: t + "x unix - - n - - ../bin/sh\n")
    start = inst.postfix("start", check=False)
    assert start.returncode == 1
    assert 'command name "../bin/sh" must not contain "/"' in start.stderr
    assert_nothing_running(inst)


def test_bad_main_cf_value(make_instance):
    inst = make_instance("badmain", main_cf={"max_use": "lots"})
    for command in ("check", "start"):
        result = inst.postfix(command, check=False)
        assert result.returncode == 1
        assert "fatal: bad numerical configuration: max_use = lots" in result.stderr
    assert_nothing_running(inst)


def test_mail_owner_root_refused(make_instance):
    inst = make_instance("rootowner", main_cf={"mail_owner": "root"})
    result = inst.postfix("start", check=False)
    assert result.returncode == 1
    assert "parameter mail_owner: user root has privileged user ID" in result.stderr
    assert_nothing_running(inst)


def test_maillog_outside_prefixes_refused(make_instance):
    inst = make_instance("badlog", main_cf={"maillog_file_prefixes": "/var/log"})
    result = inst.postfix("check", check=False)
    assert result.returncode == 1
    assert "does not match any prefix in maillog_file_prefixes (/var/log)" in result.stderr


def test_bind_failure_leaves_nothing_running(make_instance):
    inst = make_instance("busyport")
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", inst.smtp_port))
        blocker.listen(1)
        result = inst.postfix("start", check=False)
        assert result.returncode == 1
        assert f"fatal: bind 127.0.0.1 port {inst.smtp_port}: Address already in use" \
            in result.stderr
        assert "fatal: mail system startup failed" in result.stderr
        assert inst.processes() == []
        assert inst.master_pid() is None


def test_check_warns_and_set_permissions_fixes(make_instance):
    inst = make_instance("perms")
    assert inst.postfix("check").stderr == ""
    private = inst.queue_dir / "private"
    os.chmod(private, 0o755)
    os.chmod(inst.queue_dir / "pid", 0o777)
    if IS_ROOT:
        os.chown(inst.queue_dir / "maildrop", -1, 0)
    check = inst.postfix("check")
    assert f"warning: wrong permissions 0755, expected 0700: {private}" in check.stderr
    assert f"warning: group or other writable: {inst.queue_dir}/pid" in check.stderr
    if IS_ROOT:
        assert f"warning: not owned by group postdrop: {inst.queue_dir}/maildrop" in check.stderr

    inst.postfix("set-permissions")
    assert mode(private) == 0o700
    assert inst.postfix("check").stderr == ""
    refused = inst.postfix("set-permissions", "mail_owner=x", check=False)
    assert refused.returncode == 1


def test_start_purges_and_repairs_the_queue_first(make_instance):
    """As Postfix's postfix-script: postsuper (-s, -p) runs before master,
    so what a crash left half written is gone before any daemon looks, and
    a queue file in the wrong hash directory is moved where qmgr looks."""
    inst = make_instance("purge")
    inst.postfix("check")                       # creates the queue directories
    half = queue_path(inst, "incoming", drop(inst, "incoming", message(), mode=0o600))
    half_drop = inst.queue_dir / "maildrop" / "ABCDEF0123"
    half_drop.write_bytes(b"T\x111700000000.000001")
    os.chmod(half_drop, 0o600)
    temporary = inst.queue_dir / "incoming" / "tmp.4242.1.1"
    temporary.write_bytes(b"")
    misplaced = inst.queue_dir / "deferred" / "ABCDE999"
    misplaced.write_bytes(message(recipients=["late@example.test"]))
    inst.mark_log()
    inst.start()
    for path in (half, half_drop, temporary):
        assert not path.exists(), path
    log = inst.new_log()
    # (the test's file names do not end in their inode: postsuper renames first)
    assert re.search(r"postfix/postsuper\[\d+\]: removed file incoming/[0-9A-F]+\n", log)
    assert re.search(r"postfix/postsuper\[\d+\]: removed file maildrop/ABCDEF0123\n", log)
    assert re.search(r"postfix/postsuper\[\d+\]: removed file incoming/tmp\.4242\.1\.1\n", log)
    assert not misplaced.exists()
    moved = re.search(r"postfix/postsuper\[\d+\]: renamed file deferred/ABCDE999 as "
                      r"(deferred/A/ABCDE[0-9A-F]+)\n", log).group(1)
    assert (inst.queue_dir / moved).is_file()
    assert inst.master_pid()


def test_check_reports_changed_jail_file(make_instance):
    if not IS_ROOT:
        inst = make_instance("jail")
        assert inst.postfix("check").returncode == 0
        return
    inst = make_instance("jail").start()
    jail_hosts = inst.queue_dir / "etc" / "hosts"
    jail_hosts.write_text("# stale\n")
    check = inst.postfix("check")
    assert f"warning: {jail_hosts} and /etc/hosts differ" in check.stderr


def test_flush_runs_postqueue(make_instance):
    inst = make_instance("flush")
    inst.postfix("check")
    result = inst.postfix("flush", check=False)
    assert result.returncode == 1
    assert "postqueue: fatal: Cannot flush mail queue - mail system is down" in result.stderr
    inst.start()
    qid = drop(inst, "deferred", message(), mtime=FUTURE)     # not due for a day
    inst.mark_log()
    assert inst.postfix("flush").returncode == 0
    inst.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: from=<sender@example.test>, .*"
                  r"\(queue active\)")


def test_usage_errors(make_instance):
    inst = make_instance("usage")
    bare = inst.command("postfix", check=False)
    assert bare.returncode == 1
    assert "usage: postfix [-c config_dir] [-v] command" in bare.stderr
    bogus = inst.postfix("bogus", check=False)
    assert bogus.returncode == 1
    assert "fatal: unknown command: 'bogus'. Usage: postfix start" in bogus.stderr
    extra = inst.postfix("status", "now", check=False)
    assert extra.returncode == 1
    assert "usage: postfix status (no arguments)" in extra.stderr


def test_start_fg_runs_master_in_foreground(make_instance):
    inst = make_instance("foreground")
    env = dict(os.environ, MAIL_CONFIG=str(inst.config_dir))
    proc = subprocess.Popen([str(SBIN / "postfix"), "-c", str(inst.config_dir), "start-fg"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: port_open(inst.smtp_port), what="port")
        assert inst.master_pid() == proc.pid            # postfix became master
        assert os.readlink(f"/proc/{proc.pid}/exe") == str(LIBEXEC / "master")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        wait_for(lambda: not inst.processes(), what="children gone")
        assert not port_open(inst.smtp_port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_abort(make_instance):
    inst = make_instance("abort").start()
    result = inst.postfix("abort")
    assert "aborting the Postfix mail system" in result.stderr
    wait_for(lambda: not inst.processes(), timeout=15, what="shutdown")
    assert not port_open(inst.smtp_port)


def test_reload_refuses_broken_master_cf(make_instance):
    inst = make_instance("badreload").start()
    pid = inst.master_pid()
    inst.mark_log()
    inst.edit_master_cf(break_master_cf)
    result = inst.postfix("reload", check=False)
    assert result.returncode == 1
    assert "master.cf, line" in result.stderr
    assert inst.master_pid() == pid
    assert greeting(inst.smtp_port).startswith("220 ")
    assert "reload --" not in inst.new_log()
