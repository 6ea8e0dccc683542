"""Acceptance (#7): pflogsumm (Debian's package) reads the log of a test
run and reports the received, delivered, deferred, bounced and rejected
counts that the test itself observed, so smtpd's, pickup's, cleanup's,
qmgr's and the agents' lines are Postfix's.

The run uses real daemons only: mail comes in over SMTP and through the
installed sendmail; the smtp client delivers to an SMTP sink (sink.test,
where the senders live, so notifications land there too), to a server
that refuses nobody@ (reject.test) and to a relayhost that does not
answer. The test's counts come from what it saw: 250 replies and sendmail
exits, messages in the sink, failed recipients in the notifications, the
deferred queue (postqueue -j) and the 5xx replies.
"""
import collections
import email
import email.policy
import json
import re
import subprocess

from conftest import SBIN, free_port, run, wait_for
from fake_smtp import FakeSMTP
from queue_helpers import SmtpSink, transport_map
from smtpd_client import INSIDER, STRANGER, SmtpClient

REJECTION = b"550 5.1.1 <nobody@reject.test>: Recipient address rejected: User unknown\r\n"


def pflogsumm_totals(log_path):
    report = subprocess.run(["pflogsumm", str(log_path)], capture_output=True, text=True,
                            timeout=60, check=True).stdout
    counts = {}
    for name in ("received", "delivered", "deferred", "bounced", "rejected"):
        match = re.search(rf"^\s*(\d+)\s+{name}\b", report, re.M)
        counts[name] = int(match.group(1)) if match else None
    return counts, report


class Run:
    """Submits the test's mail and keeps the test's own tally."""

    def __init__(self, inst):
        self.inst = inst
        self.queued = 0          # a queue file was made (250, sendmail exit 0, cleanup reject)
        self.rejected = 0        # a refused RCPT (4xx or 5xx), a 5xx at the end of DATA

    def smtp(self, sender, recipients, subject, source=INSIDER):
        client = SmtpClient(self.inst.smtp_port, source=source)
        try:
            assert client.ehlo().startswith("250")
            assert client.cmd(f"MAIL FROM:<{sender}>").startswith("250")
            accepted = 0
            for rcpt in recipients:
                reply = client.cmd(f"RCPT TO:<{rcpt}>")
                self.rejected += reply[:1] in ("4", "5")
                accepted += reply.startswith("250")
            if accepted:
                assert client.cmd("DATA").startswith("354")
                client.send(f"Subject: {subject}\r\n\r\nbody\r\n.\r\n".encode())
                reply = client.reply()
                self.queued += 1                 # smtpd made a queue file for it
                self.rejected += reply.startswith("5")
            client.cmd("QUIT")
        finally:
            client.close()

    def sendmail(self, sender, recipient, subject):
        self.inst.command("sendmail", "-f", sender, recipient, input=f"Subject: {subject}\n\nx\n")
        self.queued += 1


def test_pflogsumm_counts(make_instance):
    sink = SmtpSink(free_port())
    rejecter = FakeSMTP(replies={"RCPT": lambda line: REJECTION if "nobody@" in line
                                 else b"250 2.1.5 Ok\r\n"})
    inst = make_instance("pflogsumm", main_cf={
        "relayhost": f"[127.0.0.1]:{free_port()}",
        "header_checks": "regexp:$config_directory/header_checks"})
    (inst.config_dir / "header_checks").write_text("/^Subject: spam/ REJECT no spam here\n")
    inst.edit_main_cf(transport_maps=transport_map(inst, {
        "sink.test": f"smtp:[127.0.0.1]:{sink.sock.getsockname()[1]}",
        "reject.test": f"smtp:[127.0.0.1]:{rejecter.port}"}))
    inst.start()
    try:
        test_run = Run(inst)
        for i in range(3):
            test_run.smtp("s@sink.test", [f"r{i}@sink.test"], f"plain {i}")
        for i in range(2):
            test_run.smtp(f"b{i}@sink.test", ["nobody@reject.test"], f"doomed {i}")
            test_run.smtp("d@sink.test", [f"far{i}@remote.example"], f"waiting {i}")
            test_run.sendmail("local@sink.test", f"l{i}@sink.test", f"local {i}")
        test_run.smtp("m@sink.test", ["x@sink.test", "y@sink.test", "nobody@reject.test"],
                      "mixed")
        test_run.smtp("s@sink.test", ["r9@sink.test"], "spam please")
        test_run.smtp("s@remote.example", ["relay@remote.example"], "relay attempt",
                      source=STRANGER)

        def deferred_ids():
            out = run([SBIN / "postqueue", "-c", inst.config_dir, "-j"]).stdout
            return {json.loads(line)["queue_id"] for line in out.splitlines()
                    if json.loads(line)["queue_name"] == "deferred"}

        def settled():
            log = inst.log()
            return (len(deferred_ids()) == 2 and "(queue active)" in log
                    and log.count("non-delivery notification") == 3
                    and len(re.findall(r"qmgr\[\d+\]: \w+: removed", log)) == 8 + 3)
        wait_for(settled, timeout=30, what="every message delivered, bounced or deferred")

        deliveries = collections.Counter()
        failed = []
        for sender, rcpts, data in sink.messages:
            deliveries[sender] += len(rcpts)
            if sender == b"<>":
                notice = email.message_from_bytes(data.replace(b"\r\n", b"\n"),
                                                  policy=email.policy.default)
                report = list(notice.iter_parts())[1].get_payload()[1:]
                failed += [r["Final-Recipient"] for r in report if r["Action"] == "failed"]
        observed = {
            "received": test_run.queued,
            "delivered": sum(deliveries.values()),
            "deferred": len(deferred_ids()),
            "bounced": len(failed),
            "rejected": test_run.rejected,
        }
        totals, report = pflogsumm_totals(inst.log_path)
        print(f"\ntest run: {observed}\npflogsumm: {totals}")
        assert totals == observed, report
        # what the plan above makes of it, so the tally itself is checked too
        assert observed == {"received": 11, "delivered": 10, "deferred": 2, "bounced": 3,
                            "rejected": 2}
    finally:
        sink.close()
        rejecter.close()
