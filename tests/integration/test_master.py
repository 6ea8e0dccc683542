"""master: reload, restarts, throttling, privilege drop, endpoint types,
wake-ups, process limits."""
import array
import os
import pwd
import re
import signal
import socket
import stat
import threading
import time

import pytest

from conftest import LIBEXEC, free_port, port_open, wait_for

IS_ROOT = os.geteuid() == 0


def greeting(port, host="127.0.0.1"):
    with socket.create_connection((host, port), timeout=5) as s:
        return s.makefile("rb").readline().decode()


def unix_greeting(path):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(path))
        return s.makefile("rb").readline().decode()


def open_session(port):
    """A connected client that has read the greeting; returns the socket."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert s.recv(200).startswith(b"220 ")
    return s


def serving_pid(inst, client):
    """The instance's smtpd process that holds the other end of client."""
    ours, theirs = client.getsockname()[1], client.getpeername()[1]
    inodes = set()
    for line in open("/proc/net/tcp").readlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == theirs and \
                int(fields[2].split(":")[1], 16) == ours:
            inodes.add(f"socket:[{fields[9]}]")
    for pid in inst.daemon_pids("smtpd"):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                pass
    raise AssertionError("no smtpd process holds the connection")


def add_services(*lines):
    return lambda text: text + "".join(line + "\n" for line in lines)


def test_reload_applies_new_configuration(make_instance):
    inst = make_instance("reload").start()
    pid = inst.master_pid()
    assert greeting(inst.smtp_port) == "220 mx.example.test ESMTP Postern\r\n"
    inst.mark_log()
    inst.edit_main_cf(smtpd_banner="$myhostname ESMTP reloaded")
    result = inst.postfix("reload")
    assert "refreshing the Postfix mail system" in result.stderr
    inst.wait_log(rf"postfix/master\[{pid}\]: reload -- version \S+, configuration "
                  rf"{inst.config_dir}\n")
    assert inst.master_pid() == pid
    assert greeting(inst.smtp_port) == "220 mx.example.test ESMTP reloaded\r\n"


def test_reload_never_refuses_a_connection(make_instance):
    inst = make_instance("noreject").start()
    failures, greetings = [], []
    done = threading.Event()

    def client():
        while not done.is_set():
            try:
                greetings.append(greeting(inst.smtp_port))
            except OSError as e:
                failures.append(repr(e))

    thread = threading.Thread(target=client)
    thread.start()
    try:
        for i in range(3):
            inst.mark_log()
            inst.edit_main_cf(smtpd_banner=f"round {i}")
            inst.postfix("reload")
            inst.wait_log(r"reload -- version")
            wait_for(lambda: greetings and greetings[-1] == f"220 round {i}\r\n",
                     what=f"banner of round {i}")
    finally:
        done.set()
        thread.join()
    assert failures == []


def test_reload_adds_and_removes_services(make_instance):
    inst = make_instance("addremove").start()
    extra = free_port()
    inst.mark_log()
    inst.edit_master_cf(add_services(f"{extra} inet n - n - - smtpd -o smtpd_banner=extra"))
    inst.postfix("reload")
    inst.wait_log("reload -- version")
    assert greeting(extra) == "220 extra\r\n"

    inst.mark_log()                     # a changed service: new processes, new arguments
    inst.edit_master_cf(lambda text: text.replace("smtpd_banner=extra", "smtpd_banner=changed"))
    inst.postfix("reload")
    inst.wait_log("reload -- version")
    assert greeting(extra) == "220 changed\r\n"

    held = open_session(extra)          # a busy process of the service to remove
    doomed = [p for p in inst.daemon_pids("smtpd")
              if "smtpd_banner=changed" in open(f"/proc/{p}/cmdline").read()]
    assert doomed
    inst.mark_log()
    inst.edit_master_cf(lambda text: text.replace(
        f"{extra} inet n - n - - smtpd -o smtpd_banner=changed\n", ""))
    inst.postfix("reload")
    inst.wait_log("reload -- version")
    assert not port_open(extra)
    wait_for(lambda: not any(os.path.exists(f"/proc/{p}") for p in doomed),
             what="removed service's processes")
    held.close()
    assert greeting(inst.smtp_port).startswith("220 ")


def test_killed_service_is_restarted(make_instance):
    inst = make_instance("kill9", main_cf={"service_throttle_time": "60s"}).start()
    session = open_session(inst.smtp_port)
    victim = serving_pid(inst, session)
    inst.mark_log()
    os.kill(victim, 9)
    inst.wait_log(rf"postfix/master\[\d+\]: warning: process {LIBEXEC}/smtpd pid {victim} "
                  r"killed by signal 9")
    session.close()
    started = time.monotonic()
    assert greeting(inst.smtp_port).startswith("220 ")
    assert time.monotonic() - started < 5        # well within service_throttle_time
    assert victim not in inst.daemon_pids("smtpd")
    assert "throttling" not in inst.new_log()


def test_failing_service_is_throttled(make_instance):
    broken = free_port()
    inst = make_instance("throttle", main_cf={"service_throttle_time": "2s"},
                         master_cf_edit=add_services(f"{broken} inet n - n - - nosuchd")).start()
    client = socket.create_connection(("127.0.0.1", broken), timeout=5)
    inst.wait_log(rf"warning: {LIBEXEC}/nosuchd: bad command startup -- throttling")
    assert re.search(rf"postfix/master\[\d+\]: fatal: master_spawn: exec {LIBEXEC}/nosuchd: "
                     r"No such file or directory", inst.log())
    time.sleep(1)       # within the throttle time: no new attempt, however long the client waits
    assert inst.log().count(f"process {LIBEXEC}/nosuchd pid") == 1
    wait_for(lambda: inst.log().count(f"process {LIBEXEC}/nosuchd pid") == 2, timeout=5,
             what="second attempt after service_throttle_time")
    client.close()
    assert greeting(inst.smtp_port).startswith("220 ")     # other services unaffected


def test_daemon_start_failure_is_throttled(make_instance):
    broken = free_port()
    inst = make_instance("badopt", master_cf_edit=add_services(
        f"{broken} inet n - n - - smtpd -o max_use=lots")).start()
    client = socket.create_connection(("127.0.0.1", broken), timeout=5)
    inst.wait_log(r"postfix/smtpd\[\d+\]: fatal: bad numerical configuration: max_use = lots")
    inst.wait_log(rf"warning: process {LIBEXEC}/smtpd pid \d+ exit status 1")
    inst.wait_log(rf"warning: {LIBEXEC}/smtpd: bad command startup -- throttling")
    client.close()


def proc_status(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        fields[key] = value.split()
    return fields


def test_children_are_chrooted_and_unprivileged(make_instance):
    inst = make_instance("privdrop").start()
    session = open_session(inst.smtp_port)
    pid = serving_pid(inst, session)
    status = proc_status(pid)
    if IS_ROOT:
        owner = pwd.getpwnam("postfix")
        assert status["Uid"] == [str(owner.pw_uid)] * 4
        assert status["Gid"] == [str(owner.pw_gid)] * 4
        assert status["Groups"] == [str(owner.pw_gid)]
        assert os.readlink(f"/proc/{pid}/root") == os.path.realpath(inst.queue_dir)
    else:
        assert status["Uid"] == [str(os.getuid())] * 4
        assert os.readlink(f"/proc/{pid}/root") == "/"
    assert os.readlink(f"/proc/{pid}/cwd") == os.path.realpath(inst.queue_dir)
    env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    assert f"MAIL_CONFIG={inst.config_dir}".encode() in env
    assert b"POSTERN_LOG_FD=4" in env
    assert not any(e.startswith((b"PATH=", b"HOME=", b"PYTEST")) for e in env)
    fds = {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    assert fds[0] == fds[1] == fds[2] == "/dev/null"
    assert fds[3].startswith("pipe:")
    assert fds[4] == str(inst.log_path)
    assert fds[5].startswith("socket:")
    for target in fds.values():
        assert "master.lock" not in target and "master.pid" not in target
        assert not target.startswith(str(inst.config_dir))
    session.close()


def test_local_endpoints(make_instance):
    inst = make_instance("endpoints", master_cf_edit=add_services(
        "pubsock   unix  n - n - - nosuchd",
        "privsock  unix  - - n - - nosuchd",
        "pubfifo   fifo  n - n - - nosuchd",
        "dgram     unix-dgram - - n - - nosuchd",
        "passsock  pass  - - n - - nosuchd")).start()
    kinds = {"public/pubsock": stat.S_ISSOCK, "private/privsock": stat.S_ISSOCK,
             "public/pubfifo": stat.S_ISFIFO, "private/dgram": stat.S_ISSOCK,
             "private/passsock": stat.S_ISSOCK}
    for name, is_kind in kinds.items():
        st = os.lstat(inst.queue_dir / name)
        assert is_kind(st.st_mode), name
        expected = 0o622 if name.endswith("fifo") else 0o666
        assert stat.S_IMODE(st.st_mode) == expected, name
        if IS_ROOT:
            assert st.st_uid == pwd.getpwnam("postfix").pw_uid, name
    assert "nosuchd" not in inst.log()         # nothing spawned without a client


def test_pass_service_serves_passed_connection(make_instance):
    inst = make_instance("pass", master_cf_edit=add_services(
        "passd  pass  - - n - - smtpd -o smtpd_banner=passed")).start()
    ours, theirs = socket.socketpair()
    with socket.socket(socket.AF_UNIX) as channel:
        channel.connect(str(inst.queue_dir / "private" / "passd"))
        channel.sendmsg([b"F"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                  array.array("i", [theirs.fileno()]))])
        theirs.close()
        ours.settimeout(5)
        assert ours.makefile("rb").readline() == b"220 passed\r\n"
    ours.close()


def test_host_port_service_name(make_instance):
    port = free_port()
    make_instance("hostport", master_cf_edit=add_services(
        f"127.0.0.2:{port} inet n - n - - smtpd -o smtpd_banner=host")).start()
    assert greeting(port, host="127.0.0.2") == "220 host\r\n"
    assert not port_open(port, host="127.0.0.1")    # not on inet_interfaces


def count_connects(inst, service):
    return len(re.findall(rf"postfix/{service}/smtpd\[\d+\]: connect from", inst.log()))


def test_wakeups(make_instance):
    inst = make_instance("wakeup", master_cf_edit=add_services(
        "always  unix  n - n 1  1 smtpd -o syslog_name=postfix/$service_name",
        "lazy    unix  - - n 1? - smtpd -o syslog_name=postfix/$service_name")).start()
    wait_for(lambda: count_connects(inst, "always") >= 2, timeout=5, what="wake-ups")
    assert count_connects(inst, "lazy") == 0     # "1?": no process, no wake-up
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(inst.queue_dir / "private" / "lazy"))
        assert s.makefile("rb").readline().startswith(b"220 ")
        wait_for(lambda: count_connects(inst, "lazy") >= 2, timeout=5,
                 what="wake-ups while a lazy process runs")


def test_fifo_and_datagram_wakeups_start_their_service(make_instance):
    # smtpd cannot serve a fifo or datagram socket: the fatal line it logs
    # shows that master's wake-up made the endpoint readable and forked it.
    inst = make_instance("wakefifo", master_cf_edit=add_services(
        "wfifo   fifo        n - n 1 1 smtpd -o syslog_name=postfix/$service_name",
        "wdgram  unix-dgram  - - n 1 1 smtpd -o syslog_name=postfix/$service_name")).start()
    inst.wait_log(r"postfix/wfifo/smtpd\[\d+\]: fatal: single server: unsupported service "
                  r"type fifo", since_mark=False)
    inst.wait_log(r"postfix/wdgram/smtpd\[\d+\]: fatal: single server: unsupported service "
                  r"type unix-dgram", since_mark=False)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT])
def test_interrupt_and_quit_terminate(make_instance, sig):
    inst = make_instance(f"signal{int(sig)}").start()
    session = open_session(inst.smtp_port)
    os.kill(inst.master_pid(), sig)
    inst.wait_log(rf"postfix/master\[\d+\]: terminating on signal {int(sig)}\n",
                  since_mark=False)
    wait_for(lambda: not inst.processes(), timeout=15, what="shutdown")
    assert not port_open(inst.smtp_port)
    assert not (inst.queue_dir / "pid" / "master.pid").exists()
    session.close()


def test_process_limit(make_instance):
    inst = make_instance("maxproc", master_cf_edit=lambda text: re.sub(
        r"^(\d+\s+inet\s+n\s+-\s+y\s+-\s+)-", r"\g<1>1", text, count=1, flags=re.M)).start()
    first = open_session(inst.smtp_port)
    second = socket.create_connection(("127.0.0.1", inst.smtp_port), timeout=5)
    second.settimeout(1)
    try:
        second.recv(100)
        raise AssertionError("a second process served despite maxproc 1")
    except socket.timeout:
        pass
    assert len(inst.daemon_pids("smtpd")) == 1
    first.close()
    second.settimeout(5)
    assert second.recv(100).startswith(b"220 ")
    second.close()


def test_stop_ends_busy_children(make_instance):
    inst = make_instance("busystop").start()
    session = open_session(inst.smtp_port)
    assert inst.daemon_pids("smtpd")
    inst.postfix("stop")
    assert inst.processes() == []
    assert not port_open(inst.smtp_port)
    assert session.recv(100) == b""
    session.close()
