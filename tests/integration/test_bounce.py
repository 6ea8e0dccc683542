"""Delivery status notifications end to end: qmgr -> bounce -> cleanup ->
qmgr -> a catching agent, and what Python's email package makes of them.
NOTIFY, RET, ENVID and ORCPT, delay warnings, expiry, postmaster copies,
double bounces, and the loop rules (no bounce of a bounce)."""
import email
import email.policy
import re
import time

import pytest

from attrproto import Channel
from conftest import SBIN, run, wait_for
from queue_helpers import (Catcher, drop, dsn_message, reload, transport_map, trigger,
                           wait_gone)

TRANSPORTS = {
    "catch.test": "catcher:",
    "mx.example.test": "catcher:",          # postmaster and other local addresses
    "error.test": "error:5.1.1 no such user here",
    "retry.test": "retry:4.4.1 host unreachable",
    "discard.test": "discard:delivered to nowhere",
}

NEVER, SUCCESS, DELAY, FAILURE = 1, 2, 4, 8


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    inst = module_instance_factory("bounce")
    inst.edit_main_cf(transport_maps=transport_map(inst, TRANSPORTS))
    return inst.start()


@pytest.fixture
def catcher(inst):
    agent = Catcher(inst, "catcher")
    yield agent
    agent.close()


def send(inst, data):
    qid = drop(inst, "incoming", data)
    trigger(inst, b"I")
    return qid


def wait_notices(inst, catcher, count, timeout=15):
    deadline = time.monotonic() + timeout
    while len(catcher.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(catcher.messages) == count, catcher.messages
    return [email.message_from_bytes(m["text"], policy=email.policy.default)
            for m in catcher.messages]


def report_fields(notice):
    """The message/delivery-status part: per-message fields, then per recipient."""
    parts = list(notice.iter_parts())
    status = parts[1]
    assert status.get_content_type() == "message/delivery-status"
    blocks = status.get_payload()
    return blocks[0], blocks[1:]


def test_permanent_failure_gives_one_rfc3464_bounce(inst, catcher):
    inst.mark_log()
    qid = send(inst, dsn_message("alice@catch.test",
                                ["bob@error.test", ("carol@error.test", 0, "rfc822;Carol+40x")],
                                attributes=[("dsn_envid", "env-42")]))
    inst.wait_log(rf"postfix/bounce\[\d+\]: {qid}: sender non-delivery notification: (\w+)")
    inst.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: removed")
    (notice,) = wait_notices(inst, catcher, 1)
    assert catcher.messages[0]["sender"] == ""
    assert catcher.messages[0]["recipients"] == ["alice@catch.test"]
    assert notice.get_content_type() == "multipart/report"
    assert notice.get_param("report-type") == "delivery-status"
    assert notice["Subject"] == "Undelivered Mail Returned to Sender"
    assert notice["From"] == "Mail Delivery System <MAILER-DAEMON@mx.example.test>"
    assert notice["To"] == "alice@catch.test"
    assert notice["Auto-Submitted"] == "auto-replied"
    parts = list(notice.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/delivery-status", "message/rfc822"]
    assert "<bob@error.test>: no such user here" in parts[0].get_content()
    per_message, per_rcpt = report_fields(notice)
    assert per_message["Reporting-MTA"] == "dns; mx.example.test"
    assert per_message["X-Postern-Queue-ID"] == qid
    assert per_message["Original-Envelope-Id"] == "env-42"
    assert per_message["Arrival-Date"]
    assert [r["Final-Recipient"] for r in per_rcpt] == [
        "rfc822; bob@error.test", "rfc822; carol@error.test"]
    assert per_rcpt[1]["Original-Recipient"] == "rfc822;Carol@x"
    assert all(r["Action"] == "failed" and r["Status"] == "5.1.1" for r in per_rcpt)
    assert per_rcpt[0]["Diagnostic-Code"] == "X-Postern; no such user here"
    returned = parts[2].get_payload()[0]
    assert returned["Subject"] == "test"


def test_a_failed_bounce_is_never_bounced(inst, catcher):
    inst.mark_log()
    qid = send(inst, dsn_message("", ["bob@error.test"]))
    inst.wait_log(rf"{qid}: to=<bob@error.test>, .*status=bounced")
    inst.wait_log(rf"{qid}: removed")
    assert "notification" not in inst.new_log()
    assert catcher.messages == []


def test_notify_never_and_ret_hdrs(inst, catcher):
    inst.mark_log()
    qid = send(inst, dsn_message("alice@catch.test",
                                ["x@error.test", ("y@error.test", NEVER, "")],
                                attributes=[("dsn_ret", 2)]))
    inst.wait_log(rf"{qid}: sender non-delivery notification")
    (notice,) = wait_notices(inst, catcher, 1)
    _, per_rcpt = report_fields(notice)
    assert [r["Final-Recipient"] for r in per_rcpt] == ["rfc822; x@error.test"]
    third = list(notice.iter_parts())[2]
    assert third.get_content_type() == "text/rfc822-headers"
    assert "hello" not in third.get_content()


def test_notify_success_report(inst, catcher):
    inst.mark_log()
    qid = send(inst, dsn_message("alice@catch.test", [("z@discard.test", SUCCESS, ""),
                                                      "w@discard.test"]))
    inst.wait_log(rf"postfix/bounce\[\d+\]: {qid}: sender delivery status notification: \w+")
    (notice,) = wait_notices(inst, catcher, 1)
    assert notice["Subject"] == "Successful Mail Delivery Report"
    _, per_rcpt = report_fields(notice)
    assert len(per_rcpt) == 1
    assert per_rcpt[0]["Final-Recipient"] == "rfc822; z@discard.test"
    assert per_rcpt[0]["Action"] == "delivered"
    assert per_rcpt[0]["Status"] == "2.0.0"


def test_delay_warning(inst, catcher):
    inst.mark_log()
    qid = send(inst, dsn_message("alice@catch.test", ["late@retry.test"],
                                 warn_time=int(time.time()) - 10))
    inst.wait_log(rf"postfix/bounce\[\d+\]: {qid}: sender delay notification: \w+")
    (notice,) = wait_notices(inst, catcher, 1)
    assert notice["Subject"] == "Delayed Mail (still being retried)"
    _, per_rcpt = report_fields(notice)
    assert per_rcpt[0]["Action"] == "delayed"
    assert per_rcpt[0]["Status"] == "4.4.1"
    assert per_rcpt[0]["Will-Retry-Until"]
    # the warning is sent once: W is now 0
    assert b"W\x0f" + b" " * 14 + b"0" in (
        inst.queue_dir / "deferred" / qid[0] / qid).read_bytes()


def test_expired_message_is_returned(inst, catcher):
    inst.edit_main_cf(maximal_queue_lifetime="0")
    reload(inst)
    try:
        inst.mark_log()
        qid = send(inst, dsn_message("alice@catch.test", ["gone@retry.test"]))
        inst.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: from=<alice@catch.test>, "
                      r"status=expired, returned to sender", timeout=20)
        inst.wait_log(rf"{qid}: sender non-delivery notification: \w+")
        inst.wait_log(rf"{qid}: removed")
        (notice,) = wait_notices(inst, catcher, 1)
        _, per_rcpt = report_fields(notice)
        assert per_rcpt[0]["Action"] == "failed"
        assert per_rcpt[0]["Final-Recipient"] == "rfc822; gone@retry.test"
        assert "host unreachable" in per_rcpt[0]["Diagnostic-Code"]
    finally:
        inst.edit_main_cf(maximal_queue_lifetime="5d")
        reload(inst)


def test_postmaster_copies_and_double_bounces(inst, catcher):
    inst.edit_main_cf(notify_classes="bounce")
    reload(inst)
    try:
        inst.mark_log()
        qid = send(inst, dsn_message("alice@catch.test", ["bob@error.test"]))
        inst.wait_log(rf"{qid}: sender non-delivery notification: \w+", timeout=20)
        inst.wait_log(rf"{qid}: postmaster non-delivery notification: \w+")
        notices = wait_notices(inst, catcher, 2)
        copy = next(n for n in notices if n["Subject"] == "Postmaster Copy: Undelivered Mail")
        assert list(copy.iter_parts())[2].get_content_type() == "text/rfc822-headers"
        by_rcpt = {m["recipients"][0]: m for m in catcher.messages}
        assert by_rcpt["postmaster@mx.example.test"]["sender"] == \
            "double-bounce@mx.example.test"
        # a notification that cannot be delivered goes to the postmaster in full
        catcher.messages.clear()
        inst.mark_log()
        failed = send(inst, dsn_message("", ["nobody@error.test"]))
        inst.wait_log(rf"{failed}: postmaster non-delivery notification: \w+")
        (double,) = wait_notices(inst, catcher, 1)
        assert list(double.iter_parts())[2].get_content_type() == "message/rfc822"
        # and one from the double-bounce sender is dropped with a warning
        catcher.messages.clear()
        inst.mark_log()
        dropped = send(inst, dsn_message("double-bounce@mx.example.test", ["x@error.test"]))
        inst.wait_log(rf"warning: {dropped}: undeliverable postmaster notification discarded")
        inst.wait_log(rf"{dropped}: removed")
        wait_gone(inst, dropped)
        assert catcher.messages == []
    finally:
        inst.edit_main_cf(notify_classes="resource, software")
        reload(inst)


@pytest.mark.parametrize("frame", [
    b"garbage without framing\n\n",
    b"request=5:flush\nqueue_name=6:active\nqueue_id=5:../..\nencoding=0:\nsmtputf8=1:0\n"
    b"sender=0:\ndsn_envid=0:\ndsn_ret=1:0\n\n",
    b"request=4:nope\nqueue_name=6:active\nqueue_id=6:ABCDEF\nencoding=0:\nsmtputf8=1:0\n"
    b"sender=0:\ndsn_envid=0:\ndsn_ret=1:0\n\n",
])
def test_malformed_requests_then_still_serving(inst, frame):
    inst.mark_log()
    chan = Channel(inst.queue_dir / "private" / "bounce")
    chan.send_raw(frame)
    try:
        chan.receive()
    except (EOFError, ConnectionResetError):
        pass
    chan.close()
    inst.wait_log(r"postfix/bounce\[\d+\]: warning: malformed request from the queue manager")
    chan = Channel(inst.queue_dir / "private" / "defer")
    chan.send([("request", "warn"), ("queue_name", "active"), ("queue_id", "ABCDEF123"),
               ("encoding", ""), ("smtputf8", 0), ("sender", "a@catch.test"),
               ("dsn_envid", ""), ("dsn_ret", 0)])
    assert chan.receive() == {"status": "0"}         # nothing logged: nothing to send
    chan.close()


def test_delay_warning_time(inst, catcher):
    inst.edit_main_cf(delay_warning_time="3s")
    reload(inst)
    try:
        inst.mark_log()
        qid = send(inst, dsn_message("alice@catch.test", ["slow@retry.test"]))
        inst.wait_log(rf"{qid}: to=<slow@retry.test>, .*status=deferred")
        path = inst.queue_dir / "deferred" / qid[0] / qid
        wait_for(path.exists, what="deferred")
        warn = int(re.search(rb"W\x0f *(\d+)", path.read_bytes()).group(1))
        if "sender delay notification" not in inst.new_log():
            assert warn > time.time() - 60        # arrival + delay_warning_time
            time.sleep(max(0.0, warn + 1 - time.time()))
            run([SBIN / "postqueue", "-c", inst.config_dir, "-f"])
        inst.wait_log(rf"{qid}: sender delay notification: \w+")
        (notice,) = wait_notices(inst, catcher, 1)
        assert notice["Subject"] == "Delayed Mail (still being retried)"
        wait_for(path.exists, what="deferred again")
        assert int(re.search(rb"W\x0f *(\d+)", path.read_bytes()).group(1)) == 0
    finally:
        inst.edit_main_cf(delay_warning_time="0h")
        reload(inst)
