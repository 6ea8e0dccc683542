"""The error, retry and discard delivery agents, driven through the delivery
protocol (docs/protocols.md) as qmgr drives them: log lines, status logs,
done marks and replies, and that a bad request does not stop the agent."""
import re
import socket

import pytest

from attrproto import Channel
from queue_helpers import (deliver_request, drop, message, queue_path,
                           recipient_offsets)

RCPTS = ("a@example.test", "b@example.test")


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    return module_instance_factory("agents").start()


def held_message(inst):
    data = message(recipients=RCPTS)
    qid = drop(inst, "hold", data)
    return qid, recipient_offsets(data)


def record_types(inst, qid, offsets):
    data = queue_path(inst, "hold", qid).read_bytes()
    return [chr(data[o]) for o in offsets]


def run(inst, transport, nexthop):
    qid, offsets = held_message(inst)
    inst.mark_log()
    reply = deliver_request(inst, transport, qid, RCPTS, nexthop, offsets=offsets,
                            queue_name="hold")
    return qid, offsets, reply


def test_error_bounces_every_recipient(inst):
    qid, offsets, reply = run(inst, "error", "5.1.1 no such user here")
    assert reply["status"] == "0"
    for rcpt in RCPTS:
        inst.wait_log(rf"postfix/error\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, relay=none, "
                      rf"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=5\.1\.1, "
                      rf"status=bounced \(no such user here\)")
    assert record_types(inst, qid, offsets) == ["D", "D"]
    assert queue_path(inst, "bounce", qid).exists()


def test_error_without_code_uses_5_0_0(inst):
    qid, _, reply = run(inst, "error", "mailbox closed")
    assert reply["status"] == "0"
    inst.wait_log(rf"{qid}: to=<a@example.test>, .*dsn=5\.0\.0, status=bounced \(mailbox closed\)")


def test_error_ignores_a_temporary_code(inst):
    qid, _, _ = run(inst, "error", "4.2.0 not really")
    inst.wait_log(r'warning: bounce_append: ignoring dsn code "4\.2\.0"')
    inst.wait_log(rf"{qid}: to=<a@example.test>, .*dsn=5\.0\.0, status=bounced \(not really\)")


def test_retry_defers_every_recipient(inst):
    qid, offsets, reply = run(inst, "retry", "4.2.0 try again later")
    assert reply["status"] == "1"
    for rcpt in RCPTS:
        inst.wait_log(rf"postfix/error\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, relay=none, "
                      rf".*dsn=4\.2\.0, status=deferred \(try again later\)")
    assert record_types(inst, qid, offsets) == ["R", "R"]
    assert queue_path(inst, "defer", qid).exists()
    assert not queue_path(inst, "bounce", qid).exists()


def test_retry_ignores_a_permanent_code(inst):
    qid, _, reply = run(inst, "retry", "5.3.0 perm code")
    assert reply["status"] == "1"
    inst.wait_log(r'warning: defer_append: ignoring dsn code "5\.3\.0"')
    inst.wait_log(rf"{qid}: to=<a@example.test>, .*dsn=4\.0\.0, status=deferred \(perm code\)")


def test_discard_marks_everything_sent(inst):
    qid, offsets, reply = run(inst, "discard", "silently dropped")
    assert reply["status"] == "0"
    for rcpt in RCPTS:
        inst.wait_log(rf"postfix/discard\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, relay=none, "
                      rf".*dsn=2\.0\.0, status=sent \(silently dropped\)")
    assert record_types(inst, qid, offsets) == ["D", "D"]
    assert not queue_path(inst, "bounce", qid).exists()
    assert not queue_path(inst, "defer", qid).exists()


def test_discard_ignores_another_class(inst):
    qid, _, reply = run(inst, "discard", "5.7.1 with code")
    assert reply["status"] == "0"
    inst.wait_log(r'warning: sent: ignoring dsn code "5\.7\.1"')
    inst.wait_log(rf"{qid}: to=<a@example.test>, .*dsn=2\.0\.0, status=sent \(with code\)")


def test_missing_queue_file_is_deferred(inst):
    inst.mark_log()
    reply = deliver_request(inst, "error", "ABCDE9999", ["a@example.test"], "5.1.1 x",
                            offsets=[200], queue_name="hold")
    assert reply["status"] == "1"
    inst.wait_log(r"postfix/error\[\d+\]: warning: ABCDE9999: open hold/ABCDE9999")


@pytest.mark.parametrize("transport", ["error", "discard"])
def test_bad_request_then_still_serving(inst, transport):
    inst.mark_log()
    chan = Channel(inst.queue_dir / "private" / transport)
    assert chan.receive() == {"status": "0"}
    chan.send_raw(b"queue_name=6:active\nqueue_id=3:../\n\n")
    chan.sock.shutdown(socket.SHUT_WR)
    with pytest.raises((EOFError, ConnectionResetError)):
        chan.receive()
    chan.close()
    inst.wait_log(rf"postfix/{transport}\[\d+\]: warning: bad delivery request")
    qid, offsets = held_message(inst)
    reply = deliver_request(inst, transport, qid, RCPTS, "5.1.1 after the bad one",
                            offsets=offsets, queue_name="hold")
    assert reply["status"] == "0"
