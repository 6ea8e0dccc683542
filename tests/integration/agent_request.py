"""Plays qmgr for delivery-agent tests (docs/protocols.md, "Delivery agents").

Builds a queue file in an instance's active/ queue with queuefile.py, sends
the documented delivery request over the agent's private socket with
attrproto.py, and returns the agent's reply. Written from the documents, so
the tests also check that the agents and the documents agree.
"""
import os
import pwd
import random
import re
import time
from pathlib import Path

import attrproto
import queuefile
from conftest import wait_for


def parse_records(data):
    """(type, offset, payload) for each record of a queue file."""
    out, pos = [], 0
    while pos < len(data):
        start = pos
        rtype = chr(data[pos])
        pos += 1
        length, shift = 0, 0
        while True:
            byte = data[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        out.append((rtype, start, data[pos:pos + length]))
        pos += length
    return out


def new_queue_id():
    return "%05X%06X" % (random.randrange(0x100000), random.randrange(0x1000000))


def _activity(pid):
    """(voluntary context switches, CPU ticks) of a process, or None."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    switches = int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))
    return switches, int(fields[11]) + int(fields[12])


def _qmgr_idle(inst):
    pids = inst.daemon_pids("qmgr")
    if not pids:
        return False
    before = _activity(pids[0])
    time.sleep(0.2)
    after = _activity(pids[0])
    return before is not None and before == after and before[0] > 0


def settle_qmgr(inst):
    """The test plays qmgr with files in active/, but a real qmgr starting
    late would move them back to incoming/ (its crash recovery). When
    master.cf has a qmgr, wait until it has started and gone idle."""
    if getattr(inst, "qmgr_settled", False):
        return
    if re.search(r"^qmgr\s", (inst.config_dir / "master.cf").read_text(), re.M):
        wait_for(lambda: _qmgr_idle(inst), what="qmgr started and idle")
    inst.qmgr_settled = True


class Message:
    """A queue file placed in active/, with the offsets qmgr would send."""

    def __init__(self, inst, sender, recipients, headers=None, body=None, lines=None,
                 attributes=()):
        if headers is None:
            headers = ["From: <%s>" % (sender or "MAILER-DAEMON"), "Subject: test",
                       "Message-ID: <%s@example.test>" % new_queue_id()]
        if body is None:
            body = ["hello"]
        self.inst = inst
        self.sender = sender
        self.recipients = list(recipients)
        self.queue_id = new_queue_id()
        data = queuefile.queue_file(sender, self.recipients, headers, body,
                                    arrival=int(time.time()), attributes=attributes)
        if lines is not None:
            data = lines(data)
        records = parse_records(data)
        self.data_offset = next(off for t, off, _ in records if t == "M")
        self.offsets = [off for t, off, _ in records if t == "R"]
        self.size = sum(len(p) + 1 for t, _, p in records if t == "L")
        self.path = inst.queue_dir / "active" / self.queue_id
        settle_qmgr(inst)
        self.path.write_bytes(data)
        os.chmod(self.path, 0o700)
        if os.getuid() == 0:
            pw = pwd.getpwnam("postfix")
            os.chown(self.path, pw.pw_uid, pw.pw_gid)

    def record_types(self):
        """Type letter of each recipient record now ('R' pending, 'D' done)."""
        data = self.path.read_bytes()
        return [chr(data[off]) for off in self.offsets]

    def status_log(self, queue):
        """Frames of defer/ID, bounce/ID or trace/ID as dicts (empty if none)."""
        name = self.inst.queue_dir / queue
        if queue == "defer":
            name = name / self.queue_id[0]
        path = name / self.queue_id
        if not path.exists():
            return []
        frames, data = [], path.read_bytes()
        for chunk in data.split(b"\n\n"):
            frame = {}
            pos = 0
            while pos < len(chunk):
                eq = chunk.index(b"=", pos)
                colon = chunk.index(b":", eq)
                length = int(chunk[eq + 1:colon])
                frame[chunk[pos:eq].decode()] = chunk[colon + 1:colon + 1 + length].decode(
                    errors="replace")
                pos = colon + 1 + length + 1
            if frame:
                frames.append(frame)
        return frames


def deliver(msg, transport="local", nexthop="mx.example.test", notify=None, orig=None,
            flags=0, smtputf8=0, encoding="", envid="", ret=0, timeout=60):
    """Sends msg to private/<transport>; returns the reply frame."""
    now = "%.6f" % time.time()
    chan = attrproto.Channel(msg.inst.queue_dir / "private" / transport, timeout=timeout)
    try:
        ready = chan.receive()
        assert ready.get("status") == "0", ready
        chan.send([
            ("flags", flags), ("queue_name", "active"), ("queue_id", msg.queue_id),
            ("data_offset", msg.data_offset), ("data_size", msg.size),
            ("nexthop", nexthop), ("encoding", encoding), ("smtputf8", smtputf8),
            ("sender", msg.sender), ("dsn_envid", envid), ("dsn_ret", ret),
            ("client_name", "localhost"), ("client_address", "127.0.0.1"),
            ("client_protocol", "ESMTP"), ("client_helo", "client.example.test"),
            ("sasl_username", ""), ("log_ident", msg.queue_id), ("rewrite_context", "remote"),
            ("arrival_time", now), ("active_time", now), ("dispatch_time", now),
            ("rcpt_count", len(msg.recipients)),
        ])
        for i, rcpt in enumerate(msg.recipients):
            chan.send([("address", rcpt), ("orig_rcpt", (orig or {}).get(rcpt, "")),
                       ("dsn_orcpt", ""), ("dsn_notify", (notify or {}).get(rcpt, 0)),
                       ("offset", msg.offsets[i])])
        return chan.receive()
    finally:
        chan.close()


def make_user(name, home_root, shell="/bin/sh"):
    """Creates a system user with a home under home_root; returns its pwd entry."""
    home = home_root / name
    subprocess_run(["userdel", "-f", name], check=False)
    subprocess_run(["useradd", "-M", "-d", str(home), "-s", shell, name])
    home.mkdir(parents=True, exist_ok=True)
    pw = pwd.getpwnam(name)
    os.chown(home, pw.pw_uid, pw.pw_gid)
    os.chmod(home, 0o755)
    return pw


def remove_user(name):
    subprocess_run(["userdel", "-f", name], check=False)


def subprocess_run(args, check=True):
    import subprocess
    result = subprocess.run(args, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{args}: {result.stderr}")
    return result
