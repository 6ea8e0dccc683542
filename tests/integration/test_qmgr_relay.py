"""Acceptance: mail for an unreachable relay waits in deferred/ with the
reason, postqueue shows it (text and JSON), and once the relay answers,
postfix flush delivers it within seconds and the queue is empty."""
import json
import re
import time

from conftest import SBIN, free_port, run, wait_for
from queue_helpers import SmtpSink, drop, in_queue, message, trigger, wait_in


def test_unreachable_relay_then_flush(make_instance):
    port = free_port()
    inst = make_instance("relay", main_cf={"relayhost": f"[127.0.0.1]:{port}"})
    inst.start()
    inst.mark_log()
    qid = drop(inst, "incoming", message("a@c.example.org", ["friend@remote.example"]))
    trigger(inst, b"I")
    reason = f"connect to 127.0.0.1[127.0.0.1]:{port}: Connection refused"
    inst.wait_log(rf"postfix/smtp\[\d+\]: {qid}: to=<friend@remote.example>, relay=none, "
                  rf".*dsn=4\.4\.1, status=deferred \({re.escape(reason)}\)")
    wait_in(inst, "deferred", qid)

    mailq = run([SBIN / "postqueue", "-c", inst.config_dir, "-p"]).stdout.splitlines()
    assert mailq[1].startswith(qid + " ")
    assert mailq[2] == " " * (76 - len(reason)) + f"({reason})"
    assert mailq[3].strip() == "friend@remote.example"
    assert mailq[-1] == "-- 0 Kbytes in 1 Request."
    listing = run([SBIN / "postqueue", "-c", inst.config_dir, "-j"]).stdout.splitlines()
    entry = json.loads(listing[0])
    assert entry["queue_name"] == "deferred" and entry["queue_id"] == qid
    assert entry["recipients"] == [{"address": "friend@remote.example", "delay_reason": reason}]

    sink = SmtpSink(port)
    try:
        started = time.monotonic()
        inst.postfix("flush")
        wait_for(lambda: not in_queue(inst, "deferred", qid) and not in_queue(inst, "active", qid),
                 timeout=10, what="delivery after the flush")
        assert time.monotonic() - started < 10
        inst.wait_log(rf"{qid}: to=<friend@remote.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
                      rf"{port}, .*status=sent")
        inst.wait_log(rf"{qid}: removed")
        assert run([SBIN / "postqueue", "-c", inst.config_dir, "-p"]).stdout == \
            "Mail queue is empty\n"
        assert len(sink.messages) == 1
        assert b"Subject: test" in sink.messages[0][2]
    finally:
        sink.close()
