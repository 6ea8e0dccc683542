"""qmgr timing: retries from deferred/ on their own (queue_run_delay and the
backoff times shortened to seconds), expiry, the active queue limit and
defer_transports."""
import os
import threading
import time

import pytest

from conftest import SBIN, run
from queue_helpers import (FakeAgent, drop, message, queue_path, transport_map, trigger,
                           wait_gone, wait_in)

TRANSPORTS = {
    "fake.test": "fake:",
    "slow.test": "slow:",
    "retry.test": "retry:4.4.1 host unreachable",
    "later.test": "later:",
}


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    inst = module_instance_factory("qmgr-retry")
    inst.edit_main_cf(transport_maps=transport_map(inst, TRANSPORTS),
                      minimal_backoff_time="1s", maximal_backoff_time="2s",
                      queue_run_delay="1s", bounce_queue_lifetime="0",
                      qmgr_message_active_limit="2", defer_transports="later")
    return inst.start()


def test_deferred_mail_is_retried_without_a_trigger(inst):
    answers = [{"status": 1, "site_failure": 0}, {"status": 0, "site_failure": 0}]
    agent = FakeAgent(inst, "fake", policy=lambda req: answers[min(len(agent.requests), 2) - 1])
    try:
        qid = drop(inst, "incoming", message(recipients=["r@fake.test"]))
        trigger(inst, b"I")
        wait_in(inst, "deferred", qid)
        mtime = os.stat(queue_path(inst, "deferred", qid)).st_mtime
        assert time.time() <= mtime + 0.5 <= time.time() + 3
        wait_gone(inst, qid, timeout=20)
        assert len(agent.requests) == 2
    finally:
        agent.close()


def test_expired_notification_is_dropped(inst):
    inst.mark_log()
    qid = drop(inst, "incoming", message("", ["x@retry.test"]))
    trigger(inst, b"I")
    inst.wait_log(rf"{qid}: to=<x@retry.test>, .*status=deferred \(host unreachable\)")
    inst.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: from=<>, status=expired, returned to sender")
    inst.wait_log(rf"{qid}: removed")
    assert "notification" not in inst.new_log()
    assert not queue_path(inst, "defer", qid).exists()


def test_active_queue_limit(inst):
    agent = FakeAgent(inst, "slow", hold=0.3)
    peak = [0]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], len(os.listdir(inst.queue_dir / "active")))
            time.sleep(0.02)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        ids = [drop(inst, "incoming", message(recipients=[f"s{i}@slow.test"]))
               for i in range(6)]
        trigger(inst, b"I")
        for qid in ids:
            wait_gone(inst, qid, timeout=30)
        assert peak[0] == 2
        assert len(agent.requests) == 6
        assert ("warning: mail for slow.test is using up 2 of 2 active queue entries"
                in inst.log())
    finally:
        stop.set()
        watcher.join()
        agent.close()


def test_defer_transports_wait_for_a_flush(inst):
    agent = FakeAgent(inst, "later")
    try:
        inst.mark_log()
        qid = drop(inst, "incoming", message(recipients=["l@later.test"]))
        trigger(inst, b"I")
        inst.wait_log(rf"{qid}: to=<l@later.test>, relay=none, .*dsn=4\.3\.2, "
                      r"status=deferred \(deferred transport\)")
        wait_in(inst, "deferred", qid)
        inst.wait_log(rf"{qid}: from=<sender@example.test>, .*\(queue active\)"
                      r"(.|\n)*\(queue active\)", timeout=15)   # retried: deferred again
        assert agent.requests == []
        run([SBIN / "postqueue", "-c", inst.config_dir, "-f"])
        wait_gone(inst, qid, timeout=20)
        assert agent.recipients() == ["l@later.test"]
    finally:
        agent.close()
