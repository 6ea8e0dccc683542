"""Crash safety: kill -9 of qmgr while 1,000 accepted messages are being
delivered. After master starts a new qmgr, every message is delivered at
least once; duplicates (a delivery whose done mark the dead qmgr never
learned about is repeated) are counted and reported, loss is a failure."""
import collections
import os
import re
import signal
import time

from conftest import wait_for
from queue_helpers import drop, message, transport_map, trigger

MESSAGES = 1000


def test_kill_9_under_load_loses_nothing(make_instance):
    inst = make_instance("qmgr-crash")
    inst.edit_main_cf(transport_maps=transport_map(inst, {"load.test": "discard:load"}))
    inst.start()
    ids = [drop(inst, "incoming", message(recipients=[f"u{i}@load.test"]))
           for i in range(MESSAGES)]
    started = time.monotonic()
    trigger(inst, b"I")
    wait_for(lambda: inst.log().count("status=sent (load)") >= MESSAGES // 4,
             timeout=60, what="a quarter of the load delivered")
    victims = inst.daemon_pids("qmgr")
    assert victims
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    sent_at_kill = inst.log().count("status=sent (load)")
    wait_for(lambda: not set(victims) & set(inst.daemon_pids("qmgr")), what="qmgr gone")
    trigger(inst, b"W")                         # master starts a new qmgr on demand

    def all_gone():
        return not any(any(files) for q in ("incoming", "active", "deferred")
                       for _, _, files in os.walk(inst.queue_dir / q))
    wait_for(all_gone, timeout=180, interval=0.5, what="every message delivered")
    elapsed = time.monotonic() - started
    sent = collections.Counter(re.findall(r"postfix/discard\[\d+\]: (\w+): to=<u\d+@load\.test>, "
                                          r".*status=sent \(load\)", inst.log()))
    lost = [qid for qid in ids if sent[qid] == 0]
    duplicates = sum(count - 1 for count in sent.values() if count > 1)
    print(f"\nkill -9 of qmgr after {sent_at_kill} of {MESSAGES} deliveries: "
          f"{len(lost)} lost, {duplicates} delivered twice, {elapsed:.1f}s in all")
    assert lost == []
    assert set(sent) == set(ids)
    assert duplicates <= 100
    assert "warning: saving corrupt file" not in inst.log()
