"""Acceptance: pflogsumm (Debian's package) reads a test run's log and
reports the received, delivered, deferred and bounced counts the run
produced: qmgr's and the agents' lines are Postfix's."""
import re
import smtplib
import subprocess

from conftest import wait_for
from queue_helpers import transport_map

TRANSPORTS = {
    "discard.test": "discard:delivered",
    "error.test": "error:5.1.1 no such user",
    "retry.test": "retry:4.4.1 try later",
}


def totals(report):
    counts = {}
    for name in ("received", "delivered", "deferred", "bounced"):
        match = re.search(rf"^\s*(\d+)\s+{name}\b", report, re.M)
        counts[name] = int(match.group(1)) if match else None
    return counts


def test_pflogsumm_counts(make_instance):
    inst = make_instance("pflogsumm")
    inst.edit_main_cf(transport_maps=transport_map(inst, TRANSPORTS))
    inst.start()
    plan = [("d@discard.test", 4), ("b@error.test", 2), ("r@retry.test", 3)]
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, source_address=("127.0.0.2", 0),
                      timeout=30) as client:
        for rcpt, count in plan:
            for i in range(count):
                client.sendmail("sender@discard.test", [rcpt],
                                f"Subject: run {i}\r\n\r\nbody\r\n")
    log = inst.log
    # every message got its fate: 4 sent, 2 bounced (+2 notifications sent), 3 deferred
    wait_for(lambda: log().count("status=sent (delivered)") == 4 + 2
             and log().count("status=bounced") == 2
             and log().count("status=deferred") == 3
             and log().count("sender non-delivery notification") == 2,
             timeout=30, what="all outcomes logged")
    report = subprocess.run(["pflogsumm", str(inst.log_path)], capture_output=True,
                            text=True, timeout=60, check=True).stdout
    assert totals(report) == {"received": 9, "delivered": 6, "deferred": 3, "bounced": 2}, report
