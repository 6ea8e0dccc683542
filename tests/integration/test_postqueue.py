"""postqueue -p / -j / -f / -s / -i and the showq service: Postfix's layout
and JSON, an unprivileged user through the set-gid program, and the
authorization and configuration-directory checks."""
import json
import os
import pwd
import subprocess
import time

import pytest

from attrproto import Channel
from conftest import PREFIX, SBIN, wait_for
from queue_helpers import (FUTURE, IS_ROOT, defer_log, drop, in_queue, message,
                           queue_path, recipient_offsets, reload)

USER = "postern-qtest"
ARRIVAL = 1700000000


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    return module_instance_factory("postqueue").start()


@pytest.fixture(scope="module")
def user():
    """An ordinary local user, created for these tests and removed afterwards."""
    subprocess.run(["userdel", USER], capture_output=True)
    subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", USER], check=True)
    yield pwd.getpwnam(USER)
    subprocess.run(["userdel", USER], capture_output=True)


def postqueue(inst, *args, as_user=None, check=True):
    env = {"MAIL_CONFIG": str(inst.config_dir), "PATH": "/usr/bin:/bin", "TZ": "UTC"}
    kwargs = {}
    if as_user is not None:
        def drop_privileges():
            os.setgroups([])
            os.setgid(as_user.pw_gid)
            os.setuid(as_user.pw_uid)
        kwargs["preexec_fn"] = drop_privileges
    result = subprocess.run([str(SBIN / "postqueue"), *args], capture_output=True, text=True,
                            env=env, timeout=30, **kwargs)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def date_field(when):
    return time.asctime(time.gmtime(when))[:20]


def clear_queue(inst):
    for queue in ("deferred", "hold", "active", "incoming", "defer"):
        for root, _, files in os.walk(inst.queue_dir / queue):
            for name in files:
                os.unlink(os.path.join(root, name))


@pytest.fixture
def queue(inst):
    clear_queue(inst)
    yield inst
    clear_queue(inst)


def test_empty_queue(queue):
    assert postqueue(queue, "-p").stdout == "Mail queue is empty\n"
    assert postqueue(queue, "-j").stdout == ""


def test_mailq_layout(queue):
    deferred = message("a@c.example.org", ["friend@remote.example", "other@remote.example"],
                       arrival=ARRIVAL)
    held = message("", ["x@remote.example"], arrival=ARRIVAL + 60)
    d = drop(queue, "deferred", deferred, qid="AE740A7248D", mtime=FUTURE)
    h = drop(queue, "hold", held, qid="3DD74A7605C")
    defer_log(queue, d, [("friend@remote.example", "4.4.1",
                          "connect to 127.0.0.1[127.0.0.1]:9: Connection refused"),
                         ("other@remote.example", "4.2.0", "try again")])
    size_d = len("Subject: test\nFrom: <a@c.example.org>\n\nhello\n")
    size_h = len("Subject: test\nFrom: <>\n\nhello\n")
    expected = (
        "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
        f"AE740A7248D {size_d:7d} {date_field(ARRIVAL)} a@c.example.org\n"
        "                       (connect to 127.0.0.1[127.0.0.1]:9: Connection refused)\n"
        "                                         friend@remote.example\n"
        "                                                                   (try again)\n"
        "                                         other@remote.example\n"
        "\n"
        f"3DD74A7605C! {size_h:7d} {date_field(ARRIVAL + 60)} MAILER-DAEMON\n"
        "                                         x@remote.example\n"
        "\n"
        f"-- {(size_d + size_h) // 1024} Kbytes in 2 Requests.\n")
    assert postqueue(queue, "-p").stdout == expected
    assert h


def test_active_mark_and_done_recipients(queue):
    data = message("s@example.test", ["done@example.test", "todo@example.test"])
    qid = drop(queue, "active", data)
    path = queue_path(queue, "active", qid)
    raw = bytearray(path.read_bytes())
    raw[recipient_offsets(data)[0]] = ord("D")  # a recipient already delivered
    path.write_bytes(bytes(raw))
    out = postqueue(queue, "-p").stdout.splitlines()
    assert out[1].startswith(f"{qid}*")
    assert "done@example.test" not in "\n".join(out)
    assert out[2].strip() == "todo@example.test"
    assert out[-1] == "-- 0 Kbytes in 1 Request."


def test_json(queue):
    data = message('quote"back\\slash@example.test', ["friend@remote.example", "x@y.test"],
                   arrival=ARRIVAL)
    qid = drop(queue, "deferred", data, mtime=FUTURE)
    defer_log(queue, qid, [("friend@remote.example", "4.4.1", "refused \"here\"")])
    out = postqueue(queue, "-j").stdout
    assert out.count("\n") == 1
    assert out.startswith('{"queue_name": "deferred", "queue_id": "%s", "arrival_time": %d, '
                          '"message_size": %d, "forced_expire": false, "sender": '
                          % (qid, ARRIVAL, _content_size(data)))
    obj = json.loads(out)
    assert obj == {
        "queue_name": "deferred", "queue_id": qid, "arrival_time": ARRIVAL,
        "message_size": _content_size(data), "forced_expire": False,
        "sender": 'quote"back\\slash@example.test',
        "recipients": [{"address": "friend@remote.example", "delay_reason": 'refused "here"'},
                       {"address": "x@y.test"}],
    }


def _content_size(data):
    """The message size of a queue file: the first field of its V record."""
    return int(data[2:17])


def test_corrupt_files_are_skipped(queue):
    good = drop(queue, "deferred", message(), mtime=FUTURE)
    drop(queue, "hold", b"V\x05junk")
    out = postqueue(queue, "-p").stdout
    assert good in out and "1 Request." in out


def test_unprivileged_user_needs_an_authorized_config_dir(queue, user):
    result = postqueue(queue, "-p", as_user=user, check=False)
    assert result.returncode != 0
    assert f"unauthorized configuration directory name: {queue.config_dir}" in result.stderr
    default_cf = PREFIX / "etc" / "postfix" / "main.cf"
    saved = default_cf.read_text()
    try:
        default_cf.write_text(saved + f"\nalternate_config_directories = {queue.config_dir}\n")
        drop(queue, "deferred", message("u@example.test"), mtime=FUTURE)
        out = postqueue(queue, "-p", as_user=user).stdout
        assert "u@example.test" in out
        assert json.loads(postqueue(queue, "-j", as_user=user).stdout)["sender"] == "u@example.test"
        queue.edit_main_cf(authorized_mailq_users="root")
        result = postqueue(queue, "-p", as_user=user, check=False)
        assert result.returncode == 77
        assert (f"postqueue: fatal: User {USER}({user.pw_uid}) is not allowed to view "
                "the mail queue") in result.stderr
        queue.edit_main_cf(authorized_flush_users="!" + USER + ", static:anyone")
        result = postqueue(queue, "-f", as_user=user, check=False)
        assert result.returncode == 77
        assert "is not allowed to flush the mail queue" in result.stderr
    finally:
        default_cf.write_text(saved)
        queue.edit_main_cf(authorized_mailq_users="static:anyone",
                           authorized_flush_users="static:anyone")


def test_flush_moves_deferred_mail_into_the_active_queue(queue):
    qid = drop(queue, "deferred", message(), mtime=FUTURE)
    queue.mark_log()
    postqueue(queue, "-f")
    queue.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: from=<sender@example.test>, size=\d+, "
                   r"nrcpt=1 \(queue active\)")


def test_flush_site_and_file(queue):
    result = postqueue(queue, "-s", "example.net", check=False)
    assert result.returncode == 69
    assert 'Flush service is not configured for destination "example.net"' in result.stderr
    result = postqueue(queue, "-s", "bad/site", check=False)
    assert 'Cannot flush mail queue - invalid destination: "bad/site"' in result.stderr
    queue.edit_main_cf(fast_flush_domains="example.net")
    reload(queue)
    try:
        qid = drop(queue, "deferred", message(recipients=["a@example.net"]), mtime=FUTURE)
        log = queue.queue_dir / "flush" / "example.net"
        log.write_text(f"{qid}\nNOT-AN-ID\n")
        if IS_ROOT:
            os.chown(log, *_postfix_ids())
        queue.mark_log()
        wait_for(lambda: postqueue(queue, "-s", "Example.NET", check=False).returncode == 0,
                 what="flush service after reload")
        queue.wait_log(rf"{qid}: from=<sender@example.test>, .*\(queue active\)")
        assert log.read_text() in ("", f"{qid}\n")
        other = drop(queue, "deferred", message(), mtime=FUTURE)
        postqueue(queue, "-i", other)
        queue.wait_log(rf"{other}: from=<sender@example.test>, .*\(queue active\)")
        result = postqueue(queue, "-i", "../etc", check=False)
        assert 'Cannot flush queue ID - invalid name: "../etc"' in result.stderr
    finally:
        queue.edit_main_cf(fast_flush_domains="$relay_domains")
        reload(queue)


def _postfix_ids():
    pw = pwd.getpwnam("postfix")
    return pw.pw_uid, pw.pw_gid


def test_usage_and_queue_down(make_instance):
    stopped = make_instance("postqueue-down")
    stopped.postfix("check")
    result = postqueue(stopped, "-p", check=False)
    assert result.returncode == 69
    assert "Queue report unavailable - mail system is down" in result.stderr
    result = postqueue(stopped, "-f", check=False)
    assert "Cannot flush mail queue - mail system is down" in result.stderr
    result = postqueue(stopped, check=False)
    assert result.returncode == 64
    assert "usage: postqueue -f | postqueue -i queueid | postqueue -j" in result.stderr
    assert not in_queue(stopped, "deferred", "ABCDEF1")


def test_flush_service_bad_requests(inst):
    inst.mark_log()
    for frame in (b"request=4:nope\n\n", b"junk\n\n", b"request=8:add\nsite=6:a/../b\n\n"):
        chan = Channel(inst.queue_dir / "public" / "flush")
        chan.send_raw(frame)
        try:
            reply = chan.receive()
            assert reply["status"] == "2"
        except EOFError:
            pass
        chan.close()
    inst.wait_log(r'postfix/flush\[\d+\]: warning: bad request: "nope"')
    inst.wait_log(r"postfix/flush\[\d+\]: warning: malformed request")
    chan = Channel(inst.queue_dir / "public" / "flush")
    chan.send([("request", "send_site"), ("site", "example.org")])
    assert chan.receive() == {"status": "1"}           # not in fast_flush_domains
    chan.close()
