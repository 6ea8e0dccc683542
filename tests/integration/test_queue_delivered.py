"""Issue #7's acceptance points with every daemon real: mail comes in over
SMTP (smtpd, cleanup), qmgr schedules it, the smtp client delivers it to
test servers, bounce writes the notifications and the smtp client carries
them back to the sender's server.

- remote.example goes through relayhost, a port where nothing listens
  until the test starts an SMTP sink there;
- sink.test is an SMTP sink (senders live there, so notifications land
  in it and Python's email package can read them);
- reject.test is a scripted server that refuses nobody@ with 550 5.1.1;
- later.test goes to a second port where nothing listens at first.
"""
import email
import email.policy
import json
import re
import time

import pytest

from conftest import SBIN, free_port, run
from fake_smtp import FakeSMTP
from queue_helpers import SmtpSink, in_queue, transport_map, wait_in
from smtpd_client import INSIDER, SmtpClient, message, queue_id

REJECTION = b"550 5.1.1 <nobody@reject.test>: Recipient address rejected: User unknown\r\n"


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    relay_port, later_port = free_port(), free_port()
    sink = SmtpSink(free_port())
    rejecter = FakeSMTP(replies={"RCPT": lambda line: REJECTION if "nobody@" in line
                                 else b"250 2.1.5 Ok\r\n"})
    inst = module_instance_factory("queue-delivered",
                                   main_cf={"relayhost": f"[127.0.0.1]:{relay_port}"})
    inst.edit_main_cf(transport_maps=transport_map(inst, {
        "sink.test": f"smtp:[127.0.0.1]:{sink.sock.getsockname()[1]}",
        "reject.test": f"smtp:[127.0.0.1]:{rejecter.port}",
        "later.test": f"smtp:[127.0.0.1]:{later_port}"}))
    inst.relay_port, inst.later_port = relay_port, later_port
    inst.sink, inst.rejecter = sink, rejecter
    inst.start()
    yield inst
    sink.close()
    rejecter.close()


def submit(inst, sender, rcpt, subject):
    """One message over SMTP from inside mynetworks; returns its queue ID."""
    client = SmtpClient(inst.smtp_port, source=INSIDER)
    try:
        assert client.ehlo().startswith("250")
        body = (f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@sink.test>"
                f"\r\n\r\nbody of {subject}\r\n.\r\n").encode()
        qid = queue_id(message(client, sender, [rcpt], body))
        client.cmd("QUIT")
    finally:
        client.close()
    return qid


def sink_messages(inst, rcpt):
    return [(sender, data) for sender, rcpts, data in list(inst.sink.messages)
            if f"<{rcpt}>".encode() in rcpts]


def queue_listing(inst, *args):
    return run([SBIN / "postqueue", "-c", inst.config_dir, *args]).stdout


def test_unreachable_relay_then_flush(inst):
    inst.mark_log()
    qid = submit(inst, "a@sink.test", "friend@remote.example", "for the relay")
    reason = f"connect to 127.0.0.1[127.0.0.1]:{inst.relay_port}: Connection refused"
    inst.wait_log(rf"postfix/smtp\[\d+\]: {qid}: to=<friend@remote\.example>, relay=none, "
                  rf".*dsn=4\.4\.1, status=deferred \({re.escape(reason)}\)")
    wait_in(inst, "deferred", qid)

    mailq = queue_listing(inst, "-p")
    lines = mailq.splitlines()
    assert lines[0].startswith("-Queue ID-")
    assert re.fullmatch(rf"{qid}\s+\d+ \w{{3}} \w{{3}} [ \d]\d \d\d:\d\d:\d\d\s+a@sink\.test",
                        lines[1])
    assert lines[2] == " " * (76 - len(reason)) + f"({reason})"
    assert lines[3].strip() == "friend@remote.example"
    assert lines[-1] == "-- 0 Kbytes in 1 Request."
    # mailq and sendmail -bp are the same listing
    env = {"MAIL_CONFIG": str(inst.config_dir)}
    assert run([SBIN / "mailq"], env=env).stdout == mailq
    assert run([SBIN / "sendmail", "-bp"], env=env).stdout == mailq

    entries = [json.loads(line) for line in queue_listing(inst, "-j").splitlines()]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["queue_name"] == "deferred" and entry["queue_id"] == qid
    assert entry["sender"] == "a@sink.test"
    assert isinstance(entry["arrival_time"], int) and abs(entry["arrival_time"] - time.time()) < 60
    assert isinstance(entry["message_size"], int) and entry["message_size"] > 0
    assert entry["recipients"] == [{"address": "friend@remote.example", "delay_reason": reason}]

    relay = SmtpSink(inst.relay_port)
    try:
        started = time.monotonic()
        inst.postfix("flush")
        inst.wait_log(rf"{qid}: to=<friend@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
                      rf"{inst.relay_port}, .*dsn=2\.0\.0, status=sent")
        inst.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: removed")
        elapsed = time.monotonic() - started
        print(f"\nflush to delivery: {elapsed:.2f}s")
        assert elapsed < 10
        assert queue_listing(inst, "-p") == "Mail queue is empty\n"
        assert queue_listing(inst, "-j") == ""
        assert not in_queue(inst, "deferred", qid)
        assert len(relay.messages) == 1
        assert b"Subject: for the relay" in relay.messages[0][2]
    finally:
        relay.close()


def test_permanent_failure_gives_one_rfc3464_bounce(inst):
    inst.mark_log()
    qid = submit(inst, "alice@sink.test", "nobody@reject.test", "doomed message")
    inst.wait_log(rf"postfix/smtp\[\d+\]: {qid}: to=<nobody@reject\.test>, "
                  rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{inst.rejecter.port}, .*dsn=5\.1\.1, "
                  r"status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 "
                  r"<nobody@reject\.test>: Recipient address rejected: User unknown "
                  r"\(in reply to RCPT TO command\)\)")
    notice_id = inst.wait_log(rf"postfix/bounce\[\d+\]: {qid}: sender non-delivery "
                              r"notification: ([0-9A-F]+)").group(1)
    inst.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: removed")
    inst.wait_log(rf"{notice_id}: to=<alice@sink\.test>, .*status=sent")
    inst.wait_log(rf"postfix/qmgr\[\d+\]: {notice_id}: removed")
    (sender, data), = sink_messages(inst, "alice@sink.test")
    assert sender == b"<>"
    notice = email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=email.policy.default)
    assert notice.get_content_type() == "multipart/report"
    assert notice.get_param("report-type") == "delivery-status"
    assert notice["To"] == "alice@sink.test"
    human, status, original = notice.iter_parts()
    assert "<nobody@reject.test>" in human.get_content()
    assert status.get_content_type() == "message/delivery-status"
    per_message, *per_rcpt = status.get_payload()
    assert per_message["Reporting-MTA"] == "dns; mx.example.test"
    assert len(per_rcpt) == 1
    assert per_rcpt[0]["Final-Recipient"] == "rfc822; nobody@reject.test"
    assert per_rcpt[0]["Action"] == "failed"
    assert per_rcpt[0]["Status"] == "5.1.1"
    assert per_rcpt[0]["Remote-MTA"] == "dns; 127.0.0.1"
    assert per_rcpt[0]["Diagnostic-Code"] == (
        "smtp; 550 5.1.1 <nobody@reject.test>: Recipient address rejected: User unknown")
    assert original.get_content_type() in ("message/rfc822", "text/rfc822-headers")
    assert "Subject: doomed message" in original.as_string()
    # one notification, and it stays one
    time.sleep(1)
    assert len(sink_messages(inst, "alice@sink.test")) == 1
    assert inst.new_log().count("sender non-delivery notification") == 1


def test_null_sender_failure_gives_no_bounce(inst):
    inst.mark_log()
    before = len(inst.sink.messages)
    qid = submit(inst, "", "nobody@reject.test", "doomed null sender")
    inst.wait_log(rf"{qid}: to=<nobody@reject\.test>, .*dsn=5\.1\.1, status=bounced")
    inst.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: removed")
    time.sleep(1)
    log = inst.new_log()
    assert "non-delivery notification" not in log and "postmaster" not in log
    assert len(re.findall(r"postfix/qmgr\[\d+\]: \w+: from=<", log)) == 1
    assert len(inst.sink.messages) == before
    assert queue_listing(inst, "-p") == "Mail queue is empty\n"


def test_sendmail_q_retries_deferred_mail(inst):
    inst.mark_log()
    qid = submit(inst, "q@sink.test", "someone@later.test", "for sendmail -q")
    inst.wait_log(rf"{qid}: to=<someone@later\.test>, .*status=deferred")
    wait_in(inst, "deferred", qid)
    server = SmtpSink(inst.later_port)
    try:
        started = time.monotonic()
        run([SBIN / "sendmail", "-q"], env={"MAIL_CONFIG": str(inst.config_dir)})
        inst.wait_log(rf"{qid}: to=<someone@later\.test>, .*status=sent")
        inst.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: removed")
        assert time.monotonic() - started < 10
        assert [m[1] for m in server.messages] == [[b"<someone@later.test>"]]
    finally:
        server.close()
