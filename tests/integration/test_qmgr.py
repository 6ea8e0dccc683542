"""The queue manager: from incoming/ through active/ to removal or deferred/,
scheduling per transport and destination, dead destinations and transports,
corrupt queue files, and recovery of what a killed qmgr left in active/.

Delivery agents are the real discard/error/retry agents, and FakeAgent
(queue_helpers.py): a socket in private/ played by the test, which records
each request and answers as the test says."""
import os
import re
import signal
import time

import pytest

from conftest import SBIN, run, wait_for
from queue_helpers import (FakeAgent, drop, in_queue, message, queue_path, transport_map,
                           trigger, wait_gone, wait_in)

TRANSPORTS = {
    "discard.test": "discard:dropped here",
    "error.test": "error:5.1.1 no such user",
    "retry.test": "retry:4.2.0 try later",
    "fake.test": "fake:",
    "other.fake.test": "fake:",
    "limit.test": "limited:",
    "dead.test": "dead:",
    "crash.test": "crashing:",
    "nosuch.test": "nosuchtransport:",
}


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    inst = module_instance_factory("qmgr")
    inst.edit_main_cf(transport_maps=transport_map(inst, TRANSPORTS),
                      fake_destination_concurrency_limit="2",
                      limited_destination_recipient_limit="2",
                      dead_initial_destination_concurrency="1")
    return inst.start()


def deliver(inst, data, queue="incoming"):
    qid = drop(inst, queue, data)
    trigger(inst, b"I")
    return qid


def test_delivery_and_removal(inst):
    inst.mark_log()
    qid = deliver(inst, message("s@example.test", ["a@discard.test", "b@discard.test"]))
    size = int(message("s@example.test", ["a@discard.test", "b@discard.test"])[2:17])
    inst.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: from=<s@example.test>, size={size}, "
                  r"nrcpt=2 \(queue active\)")
    for rcpt in ("a@discard.test", "b@discard.test"):
        inst.wait_log(rf"postfix/discard\[\d+\]: {qid}: to=<{rcpt}>, relay=none, .*"
                      r"status=sent \(dropped here\)")
    inst.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: removed")
    wait_gone(inst, qid)
    assert not queue_path(inst, "defer", qid).exists()


def test_bounce_of_a_notification_is_dropped(inst):
    inst.mark_log()
    qid = deliver(inst, message("", ["x@error.test"]))
    inst.wait_log(rf"{qid}: to=<x@error.test>, .*dsn=5\.1\.1, status=bounced \(no such user\)")
    inst.wait_log(rf"{qid}: removed")
    assert "notification" not in inst.new_log()
    assert not queue_path(inst, "bounce", qid).exists()
    assert not any(list((inst.queue_dir / q).iterdir()) for q in ("incoming", "active"))


def test_deferral_sets_the_retry_time(inst):
    inst.mark_log()
    before = time.time()
    qid = deliver(inst, message("s@example.test", ["x@retry.test"]))
    inst.wait_log(rf"{qid}: to=<x@retry.test>, .*dsn=4\.2\.0, status=deferred \(try later\)")
    wait_in(inst, "deferred", qid)
    mtime = os.stat(queue_path(inst, "deferred", qid)).st_mtime
    assert before + 300 - 5 <= mtime <= time.time() + 300 + 5     # minimal_backoff_time
    assert "try later" in queue_path(inst, "defer", qid).read_text(errors="replace")
    assert f"{qid}: removed" not in inst.new_log()


def test_flush_retries_deferred_mail(inst):
    answers = {"status": 1, "site_failure": 0}
    agent = FakeAgent(inst, "fake", policy=lambda req: answers)
    try:
        inst.mark_log()
        qid = deliver(inst, message("s@example.test", ["y@fake.test"]))
        wait_in(inst, "deferred", qid)
        answers = {"status": 0, "site_failure": 0}
        agent.policy = lambda req: answers
        run([SBIN / "postqueue", "-c", inst.config_dir, "-f"])
        inst.wait_log(rf"{qid}: removed")
        assert agent.recipients() == ["y@fake.test", "y@fake.test"]
        assert agent.requests[0]["nexthop"] == "fake.test"
        assert agent.requests[0]["queue_name"] == "active"
    finally:
        agent.close()


def corrupt_variants():
    good = message("s@example.test", ["z@discard.test"], body=["one", "two", "three"])
    cut = good.index(b"M\x00")
    size_field = good[2:17]
    return {
        "truncated": good[:cut + 10],
        "garbage": b"this is not a queue file at all",
        "bad_sizes": b"V\x05junk" + good[100:],
        "no_end": good[:-2],
        "control_character": good.replace(b"s@example.test", b"s@exampl\x01.test"),
        # the framing holds, the content does not: only a walk of it tells
        "bad_content_record": good.replace(b"L\x03two", b"Z\x03two"),
        "content_size_mismatch": good.replace(size_field, b"%15d" % (int(size_field) + 1), 1),
    }


def saved_as_corrupt(inst, bad):
    inst.wait_log(rf'postfix/qmgr\[\d+\]: warning: saving corrupt file "{bad}" '
                  r'from queue "active" to queue "corrupt"')
    assert in_queue(inst, "corrupt", bad)
    assert f"{bad}: from=<" not in inst.new_log()      # never scheduled for delivery
    good = deliver(inst, message("s@example.test", ["ok@discard.test"]))
    inst.wait_log(rf"{good}: removed")


@pytest.mark.parametrize("name", sorted(corrupt_variants()))
def test_corrupt_file_goes_to_corrupt_and_qmgr_serves_on(inst, name):
    inst.mark_log()
    saved_as_corrupt(inst, deliver(inst, corrupt_variants()[name]))


@pytest.mark.parametrize("name", sorted(corrupt_variants()))
def test_corrupt_deferred_file(inst, name):
    inst.mark_log()
    bad = drop(inst, "deferred", corrupt_variants()[name], mtime=time.time() - 10)
    trigger(inst, b"D")
    saved_as_corrupt(inst, bad)


def test_incomplete_file_is_left_alone(inst):
    qid = drop(inst, "incoming", message(recipients=["w@discard.test"]), mode=0o600)
    inst.mark_log()
    good = deliver(inst, message(recipients=["v@discard.test"]))
    inst.wait_log(rf"{good}: removed")
    assert in_queue(inst, "incoming", qid)
    assert qid not in inst.new_log()
    os.unlink(queue_path(inst, "incoming", qid))


def test_concurrency_limit_and_destinations(inst):
    agent = FakeAgent(inst, "fake", hold=0.4)
    try:
        ids = [deliver(inst, message(recipients=[f"r{i}@fake.test"])) for i in range(6)]
        ids += [deliver(inst, message(recipients=[f"r{i}@other.fake.test"])) for i in range(2)]
        for qid in ids:
            wait_gone(inst, qid, timeout=30)
        per_dest = {}
        for req in agent.requests:
            per_dest.setdefault(req["nexthop"], 0)
            per_dest[req["nexthop"]] += 1
        assert per_dest == {"fake.test": 6, "other.fake.test": 2}
        # two at a time for fake.test, plus other.fake.test alongside
        assert 2 <= agent.max_active <= 4
    finally:
        agent.close()


def test_recipient_limit_splits_a_message(inst):
    agent = FakeAgent(inst, "limited")
    try:
        rcpts = [f"u{i}@limit.test" for i in range(5)]
        qid = deliver(inst, message(recipients=rcpts))
        wait_gone(inst, qid)
        sizes = sorted(int(req["rcpt_count"]) for req in agent.requests)
        assert sizes == [1, 2, 2]
        assert sorted(agent.recipients()) == sorted(rcpts)
    finally:
        agent.close()


def test_dead_destination_defers_without_more_attempts(inst):
    failure = {"status": 1, "site_failure": 1, "dsn": "4.4.1",
               "reason": "connect to dead.test[192.0.2.1]:25: Connection refused"}
    agent = FakeAgent(inst, "dead", policy=lambda req: failure, hold=0.3)
    try:
        inst.mark_log()
        ids = [drop(inst, "incoming", message(recipients=[f"d{i}@dead.test"]))
               for i in range(5)]
        trigger(inst, b"I")
        for qid in ids:
            wait_in(inst, "deferred", qid)
        assert len(agent.requests) == 1
        suspended = re.findall(r"postfix/qmgr\[\d+\]: (\w+): to=<d\d@dead.test>, relay=none, "
                               r".*dsn=4\.4\.1, status=deferred \(delivery temporarily "
                               r"suspended: connect to dead.test\[192.0.2.1\]:25: "
                               r"Connection refused\)", inst.new_log())
        assert len(suspended) == 4
        # new mail for the dead destination waits without a connection
        later = deliver(inst, message(recipients=["late@dead.test"]))
        wait_in(inst, "deferred", later)
        assert len(agent.requests) == 1
        # "F" (postqueue -f) forgets that the destination was dead
        agent.policy = lambda req: {"status": 0, "site_failure": 0}
        run([SBIN / "postqueue", "-c", inst.config_dir, "-f"])
        for qid in ids + [later]:
            wait_gone(inst, qid, timeout=20)
    finally:
        agent.close()


def test_missing_transport_is_unavailable(inst):
    inst.mark_log()
    qid = deliver(inst, message(recipients=["n@nosuch.test"]))
    inst.wait_log(r"warning: connect to transport private/nosuchtransport: "
                  r"No such file or directory")
    inst.wait_log(rf"{qid}: to=<n@nosuch.test>, relay=none, .*dsn=4\.3\.0, "
                  r"status=deferred \(mail transport unavailable\)")
    wait_in(inst, "deferred", qid)


def test_agent_that_breaks_the_conversation(inst):
    agent = FakeAgent(inst, "crashing", policy=lambda req: None)
    try:
        inst.mark_log()
        qid = deliver(inst, message(recipients=["c@crash.test"]))
        inst.wait_log(r"warning: transport crashing failure -- see a previous "
                      r"warning/fatal/panic logfile record for the problem description")
        wait_in(inst, "deferred", qid)
        good = deliver(inst, message(recipients=["after@discard.test"]))
        inst.wait_log(rf"{good}: removed")
    finally:
        agent.close()


def kill_qmgr(inst):
    """kill -9 of a qmgr that has taken work (master treats a process killed
    before its first request as a start-up failure and throttles)."""
    inst.mark_log()
    busy = deliver(inst, message(recipients=["busy@discard.test"]))
    inst.wait_log(rf"{busy}: removed")
    for pid in inst.daemon_pids("qmgr"):
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not inst.daemon_pids("qmgr"), what="qmgr gone")


def test_killed_qmgr_leaves_active_mail_that_comes_back(inst):
    kill_qmgr(inst)
    qid = drop(inst, "active", message(recipients=["k@discard.test"]))
    trigger(inst, b"W")
    inst.wait_log(rf"{qid}: removed", timeout=20)
    assert not in_queue(inst, "active", qid)


def test_unknown_trigger_bytes(inst):
    inst.mark_log()
    trigger(inst, b"Z\x00\xff")
    inst.wait_log(r"postfix/qmgr\[\d+\]: warning: unexpected trigger request 0x5a ignored")
    inst.wait_log(r"warning: unexpected trigger request 0xff ignored")
    good = deliver(inst, message(recipients=["t@discard.test"]))
    inst.wait_log(rf"{good}: removed")


def test_corrupt_file_left_in_active(inst):
    kill_qmgr(inst)
    bad = drop(inst, "active", corrupt_variants()["truncated"])
    trigger(inst, b"W")
    inst.wait_log(rf'warning: saving corrupt file "{bad}" from queue "active"', timeout=20)
    saved_as_corrupt(inst, bad)
