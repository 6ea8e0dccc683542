"""Crash safety (ATTACKS.md, "Crash safety"; issue #7's qmgr acceptance
point): while mail is being submitted and delivered, kill -9 qmgr, the
cleanup processes, pickup, smtp clients in mid-delivery, or every process
of the instance (a simulated power cut). Every message that got "250
queued" over SMTP (or a zero exit from sendmail) must be delivered at
least once; duplicates are counted and reported, loss fails the test. A
message that was refused may vanish, but is never delivered in part.

Each message goes to its own recipient, so a delivery is matched to its
submission by address: discard(8) logs each one (load.test), and an SMTP
sink (sink.test, through the real smtp client) keeps the text so partial
deliveries would show.
"""
import collections
import os
import re
import signal
import smtplib
import threading
import time
from pathlib import Path

from conftest import free_port, wait_for
from queue_helpers import SmtpSink, transport_map

MESSAGES = 1000


def start(make_instance, name, **main_cf):
    sink_port = free_port()
    inst = make_instance(name, main_cf=main_cf)
    inst.edit_main_cf(transport_maps=transport_map(inst, {
        "load.test": "discard:load", "sink.test": f"smtp:[127.0.0.1]:{sink_port}"}))
    inst.sink = SmtpSink(sink_port)
    inst.start()
    return inst


class SmtpLoad:
    """Submits `count` messages over several SMTP connections (from inside
    mynetworks), one recipient each; remembers what each submission got."""

    def __init__(self, inst, count, domain, connections=4, body_lines=3):
        self.inst, self.domain, self.body_lines = inst, domain, body_lines
        self.accepted, self.refused = {}, {}
        self.lock = threading.Lock()
        self.numbers = iter(range(count))
        self.threads = [threading.Thread(target=self._submit, daemon=True)
                        for _ in range(connections)]
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()

    def text(self, rcpt):
        lines = [f"Subject: load for {rcpt}", ""]
        lines += [f"line {n} of the message for {rcpt}" for n in range(self.body_lines)]
        return "\r\n".join(lines + [f"END {rcpt}", ""])

    def _next(self):
        with self.lock:
            return next(self.numbers, None)

    def _submit(self):
        client = None
        while (n := self._next()) is not None:
            rcpt = f"u{n}@{self.domain}"
            try:
                client = client or smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30,
                                                source_address=("127.0.0.2", 0))
                client.ehlo_or_helo_if_needed()
                client.mail("load@example.test")
                client.rcpt(rcpt)
                code, reply = client.data(self.text(rcpt))
            except (OSError, smtplib.SMTPException) as error:
                code, reply, client = None, str(error).encode(), None
            with self.lock:
                if code == 250:
                    self.accepted[rcpt] = reply.decode()
                else:
                    self.refused[rcpt] = (code, reply.decode(errors="replace"))
                    if client is not None:
                        client.rset()
        if client is not None:
            client.quit()

    def join(self, timeout=120):
        for thread in self.threads:
            thread.join(timeout)
            assert not thread.is_alive(), "submission did not finish"
        self.elapsed = time.monotonic() - self.started


def discarded(inst):
    """How many times discard delivered each recipient."""
    return collections.Counter(re.findall(
        r"postfix/discard\[\d+\]: [0-9A-F]+: to=<([^>]+)>, .*status=sent \(load\)", inst.log()))


def queue_files(inst):
    return [Path(top) / name for q in ("incoming", "active", "deferred", "maildrop")
            for top, _, files in os.walk(inst.queue_dir / q) for name in files]


def is_complete(path):
    """The owner execute bit; False for a file that is gone meanwhile."""
    try:
        return bool(path.stat().st_mode & 0o100)
    except FileNotFoundError:
        return False


def queues_empty(inst):
    """No complete file is left; incomplete ones (no owner execute bit)
    are what killed writers left behind, and qmgr never takes them."""
    return not any(is_complete(p) for p in queue_files(inst))


def check_at_least_once(inst, wanted, delivered, what):
    """Waits until every wanted recipient is delivered; reports duplicates."""
    wait_for(lambda: set(wanted) <= set(delivered()) and queues_empty(inst),
             timeout=90, interval=0.5, what="every accepted message delivered")
    counts = delivered()
    lost = sorted(set(wanted) - set(counts))
    duplicates = sum(n - 1 for rcpt, n in counts.items() if n > 1)
    print(f"\n{what}: {len(wanted)} accepted, {len(lost)} lost, "
          f"{duplicates} delivered more than once")
    assert lost == []
    return counts, duplicates


def kill(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_kill_9_of_qmgr_during_a_load_of_1000_messages(make_instance):
    inst = start(make_instance, "crash-qmgr")
    load = SmtpLoad(inst, MESSAGES, "load.test")
    wait_for(lambda: sum(discarded(inst).values()) >= MESSAGES // 4, timeout=60,
             what="a quarter of the load delivered")
    victims = inst.daemon_pids("qmgr")
    assert len(victims) == 1
    kill(victims)
    at_kill = sum(discarded(inst).values())
    load.join()
    assert load.refused == {}
    inst.wait_log(rf"process .*/qmgr pid {victims[0]} killed by signal 9")
    counts, duplicates = check_at_least_once(
        inst, load.accepted, lambda: discarded(inst),
        f"kill -9 of qmgr after {at_kill} deliveries")
    assert len(load.accepted) == MESSAGES
    print(f"1000 messages submitted in {load.elapsed:.1f}s, all delivered "
          f"{time.monotonic() - load.started:.1f}s after the first")
    assert "warning: saving corrupt file" not in inst.log()


def sink_deliveries(inst):
    """Recipient -> list of message texts the sink received for it."""
    texts = collections.defaultdict(list)
    for _, rcpts, data in list(inst.sink.messages):
        for rcpt in rcpts:
            texts[rcpt.decode().strip("<>").split(">")[0]].append(data.decode())
    return texts


def busy(inst, program, queue):
    """PIDs of the program's processes with a file of `queue` open: in the
    middle of a message. (Killing one that never served a request would
    make master throttle the service, as Postfix's master does.)"""
    found = []
    for pid in inst.daemon_pids(program):
        try:
            fds = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        if any(f"/{queue}/" in target for target in fds):
            found.append(pid)
    return found


def test_kill_9_of_cleanup_during_a_load(make_instance):
    inst = start(make_instance, "crash-cleanup")
    load = SmtpLoad(inst, 400, "sink.test", body_lines=2000)
    kills = 0
    while any(t.is_alive() for t in load.threads) and kills < 15:
        time.sleep(0.1)
        pids = busy(inst, "cleanup", "incoming")
        kill(pids)
        kills += len(pids)
    load.join()
    assert kills > 0 and "throttling" not in inst.log()
    assert len(load.accepted) + len(load.refused) == 400
    for code, reply in load.refused.values():
        assert code is None or 400 <= code < 500, reply
    counts, _ = check_at_least_once(
        inst, load.accepted, lambda: {r: len(t) for r, t in sink_deliveries(inst).items()},
        f"{kills} kills of cleanup ({len(load.refused)} messages refused)")
    for rcpt, texts in sink_deliveries(inst).items():
        for text in texts:
            # nothing delivered in part, accepted or not
            assert text.rstrip("\r\n").endswith(f"END {rcpt}"), rcpt
            assert text.count(f"of the message for {rcpt}") == 2000, rcpt
    leftovers = queue_files(inst)
    assert all(p.parent.name == "incoming" and not is_complete(p) for p in leftovers)
    assert not any(f"{p.name}: from=<" in inst.log() for p in leftovers)
    # after the kills, mail flows
    after = SmtpLoad(inst, 5, "sink.test", connections=1)
    after.join()
    assert len(after.accepted) == 5


def test_kill_9_of_smtp_clients_during_deliveries(make_instance):
    """A delivery agent that dies in the middle of a delivery: qmgr defers
    what it had, and a flush delivers it; nothing the sink saw is partial."""
    inst = start(make_instance, "crash-smtp")
    load = SmtpLoad(inst, 300, "sink.test", body_lines=500)
    kills = 0
    while any(t.is_alive() for t in load.threads) and kills < 10:
        time.sleep(0.03)
        pids = busy(inst, "smtp", "active")
        kill(pids)
        kills += len(pids)
    load.join()
    assert kills > 0 and "throttling" not in inst.log()
    assert len(load.accepted) == 300

    def delivered():
        if not queues_empty(inst):
            inst.postfix("flush")
        return {r: len(t) for r, t in sink_deliveries(inst).items()}
    check_at_least_once(inst, load.accepted, delivered, f"{kills} kills of smtp")
    for rcpt, texts in sink_deliveries(inst).items():
        assert all(t.count(f"of the message for {rcpt}") == 500 for t in texts), rcpt


def test_kill_9_of_pickup_during_local_submissions(make_instance):
    inst = start(make_instance, "crash-pickup")
    exits, lock = {}, threading.Lock()
    numbers = iter(range(200))

    def submit():
        while True:
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            rcpt = f"p{n}@load.test"
            result = inst.command("sendmail", "-f", "local@example.test", rcpt, check=False,
                                  input=f"Subject: local {n}\n\nbody\n")
            with lock:
                exits[rcpt] = result.returncode
    threads = [threading.Thread(target=submit, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    kills = 0
    while any(t.is_alive() for t in threads):
        time.sleep(0.05)
        pids = busy(inst, "pickup", "maildrop")
        kill(pids)
        kills += len(pids)
    for thread in threads:
        thread.join()
    assert kills > 0 and "throttling" not in inst.log()
    accepted = [rcpt for rcpt, status in exits.items() if status == 0]
    assert len(accepted) == 200
    # pickup's next run (a wakeup, or the next sendmail) finds what is left
    inst.command("sendmail", "-f", "local@example.test", "last@load.test",
                 input="Subject: last\n\nbody\n")
    check_at_least_once(inst, accepted + ["last@load.test"], lambda: discarded(inst),
                        f"{kills} kills of pickup")


def test_power_cut_kills_every_process(make_instance):
    inst = start(make_instance, "crash-all")
    load = SmtpLoad(inst, MESSAGES, "sink.test", body_lines=50)
    wait_for(lambda: len(inst.sink.messages) >= MESSAGES // 4, timeout=60,
             what="a quarter of the load delivered")
    inst.kill_all()
    wait_for(lambda: not inst.processes(), what="every process gone")
    load.join()
    assert load.accepted
    inst.start()
    check_at_least_once(inst, load.accepted,
                        lambda: {r: len(t) for r, t in sink_deliveries(inst).items()},
                        f"power cut after {len(load.accepted)} accepted")
    for rcpt, texts in sink_deliveries(inst).items():
        assert all(t.rstrip("\r\n").endswith(f"END {rcpt}") for t in texts), rcpt
    # postfix start purged what the killed writers left half done
    assert queue_files(inst) == []
