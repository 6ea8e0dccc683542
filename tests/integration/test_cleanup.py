"""cleanup through its own protocol (docs/protocols.md, "cleanup"), as smtpd
and pickup speak it: replies, content rejection, limits, protocol errors,
a table that fails, and kill -9 in the middle of a message.

qmgr is left out of master.cf, so queued messages stay in incoming/.
"""
import os
import re
import signal
import stat

import pytest

from attrproto import Channel
from conftest import wait_for
from queuefile import record

SMTPD_FLAGS = 2 | 16            # CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MAP_OK
STAT_BAD, STAT_CONT, STAT_HOPS, STAT_DEFER = 1, 8, 16, 64


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    inst = module_instance_factory(
        "cleanup", master_cf_edit=lambda t: re.sub(r"^qmgr\s.*\n", "", t, flags=re.M),
        main_cf={"header_checks": "regexp:$config_directory/header_checks",
                 "body_checks": "regexp:$config_directory/body_checks",
                 "header_size_limit": "4096"})
    (inst.config_dir / "header_checks").write_text("/^Subject: reject me/ REJECT go away\n")
    (inst.config_dir / "body_checks").write_text("/^spam spam/ REJECT 5.7.0 body rejected\n")
    inst.start(wait_port=False)
    wait_for(lambda: (inst.queue_dir / "public" / "cleanup").exists(), what="public/cleanup")
    return inst


def connect(inst, flags=SMTPD_FLAGS):
    channel = Channel(inst.queue_dir / "public" / "cleanup", timeout=30)
    channel.send([("flags", flags)])
    reply = channel.receive()
    assert reply["status"] == "0" and re.fullmatch(r"[0-9A-F]{6,}", reply["queue_id"])
    return channel, reply["queue_id"]


def envelope(sender="a@remote.example", recipients=("bob@example.test",)):
    recs = [record("A", "client_name=client.example"), record("A", "client_address=192.0.2.1"),
            record("A", "protocol=ESMTP"), record("A", "helo_name=c.example"),
            record("S", sender)]
    recs += [record("R", r) for r in recipients]
    return b"".join(recs) + record("M")


def content(*lines):
    return b"".join(record("L", line) for line in lines)


def finish():
    return record("X") + record("E")


def submit(inst, data, flags=SMTPD_FLAGS):
    channel, queue_id = connect(inst, flags)
    channel.send_raw(data)
    reply = channel.receive()
    channel.close()
    return queue_id, reply


def complete(inst, queue_id):
    path = inst.queue_dir / "incoming" / queue_id
    return path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o700


def test_accepted_message(inst):
    queue_id, reply = submit(inst, envelope() + content("Subject: hi", "", "body") + finish())
    assert reply == {"status": "0"}
    assert complete(inst, queue_id)


def test_reject_is_reported_and_nothing_queued(inst):
    inst.mark_log()
    queue_id, reply = submit(inst, envelope() + content("Subject: reject me", "", "body")
                             + finish())
    assert reply == {"status": str(STAT_CONT), "reason": "5.7.1 go away"}
    assert not (inst.queue_dir / "incoming" / queue_id).exists()
    inst.wait_log(rf"postfix/cleanup\[\d+\]: {queue_id}: reject: header Subject: reject me "
                  r"from client\.example\[192\.0\.2\.1\]; from=<a@remote\.example> "
                  r"to=<bob@example\.test> proto=ESMTP helo=<c\.example>: 5\.7\.1 go away\n")
    queue_id, reply = submit(inst, envelope() + content("Subject: x", "", "spam spam")
                             + finish())
    assert reply == {"status": str(STAT_CONT), "reason": "5.7.0 body rejected"}
    test_accepted_message(inst)


def test_too_many_hops(inst):
    hops = [f"Received: from hop{i}.example" for i in range(51)]
    queue_id, reply = submit(inst, envelope() + content(*hops, "", "body") + finish())
    assert reply == {"status": str(STAT_HOPS), "reason": "5.4.0 too many hops"}
    assert not (inst.queue_dir / "incoming" / queue_id).exists()
    queue_id, reply = submit(inst, envelope() + content(*hops[:50], "", "body") + finish())
    assert reply == {"status": "0"}


def test_thousands_of_continuation_lines(inst):
    lines = ["X-Long: start"] + ["\tmore"] * 20000 + ["Subject: after", "", "body"]
    queue_id, reply = submit(inst, envelope() + content(*lines) + finish())
    assert reply == {"status": "0"}
    data = (inst.queue_dir / "incoming" / queue_id).read_bytes()
    assert data.count(b"\tmore") < 4096 // 5
    assert b"Subject: after" in data


def test_protocol_errors_are_answered(inst):
    inst.mark_log()
    queue_id, reply = submit(inst, envelope() + record("V", "x") + finish())
    assert reply["status"] == str(STAT_BAD)
    queue_id, reply = submit(inst, record("S", "a@b") + b"Zgarbage")
    assert reply["status"] == str(STAT_BAD)
    inst.wait_log(rf"{queue_id}: bad record type from client")
    # An address carrying a line break never reaches the queue file.
    queue_id, reply = submit(inst, envelope(sender="a@b\r\nReturn-Path: <x@y>")
                             + content("Subject: x") + finish())
    assert reply["status"] == str(STAT_BAD)
    assert not (inst.queue_dir / "incoming" / queue_id).exists()
    test_accepted_message(inst)


def test_return_path_and_bcc_are_removed(inst):
    queue_id, reply = submit(inst, envelope() + content(
        "Return-Path: <forged@evil.example>", "Bcc: hidden@example.test", "Subject: x", "",
        "body") + finish())
    assert reply == {"status": "0"}
    data = (inst.queue_dir / "incoming" / queue_id).read_bytes()
    assert b"forged" not in data and b"hidden" not in data


def reload(inst, **settings):
    """main.cf changes, then a reload: new cleanup processes read them."""
    inst.edit_main_cf(**settings)
    inst.mark_log()
    inst.postfix("reload")
    inst.wait_log(r"postfix/master\[\d+\]: reload -- version")


def test_failing_table_defers(inst):
    reload(inst, canonical_maps="fail:broken")
    try:
        queue_id, reply = submit(inst, envelope() + content("Subject: x") + finish())
        assert reply == {"status": str(STAT_DEFER), "reason": "4.3.0 Temporary lookup failure"}
        assert not (inst.queue_dir / "incoming" / queue_id).exists()
        inst.wait_log(rf"warning: {queue_id}: canonical_maps map lookup problem for "
                      r"a@remote\.example -- message not accepted, try again later")
    finally:
        reload(inst, canonical_maps="")
    test_accepted_message(inst)


def test_kill_9_in_the_middle_of_a_message(inst):
    inst.mark_log()
    channel, queue_id = connect(inst)
    channel.send_raw(envelope() + content("Subject: half", "", "first part"))
    path = inst.queue_dir / "incoming" / queue_id
    wait_for(lambda: path.exists(), what="the file being written")
    pids = inst.daemon_pids("cleanup")
    serving = [pid for pid in pids if any(
        os.readlink(f"/proc/{pid}/fd/{fd}").endswith(f"incoming/{queue_id}")
        for fd in os.listdir(f"/proc/{pid}/fd") if os.path.islink(f"/proc/{pid}/fd/{fd}"))]
    assert len(serving) == 1
    os.kill(serving[0], signal.SIGKILL)
    with pytest.raises((EOFError, ConnectionError)):
        channel.send_raw(content("more") + finish())
        channel.receive()
    channel.close()
    # Never marked complete: qmgr would never take the partial file.
    assert not complete(inst, queue_id)
    inst.wait_log(r"process .*/cleanup pid \d+ killed by signal 9")
    test_accepted_message(inst)
