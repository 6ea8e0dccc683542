"""Helpers for the queue tests (qmgr, bounce, showq, postqueue, postsuper,
error/retry/discard): put queue files where a daemon finds them, wake qmgr,
and read what the daemons leave behind.

Queue files are built with queuefile.py (from docs/queue-file.md, not from
the C code). As root the files belong to mail_owner, as cleanup's would.
"""
import os
import pwd
import random
import socket
import time

import queuefile
from attrproto import Channel
from conftest import wait_for

IS_ROOT = os.geteuid() == 0
HASHED = ("deferred", "defer")


def new_id():
    """A queue ID: five hex digits then more hex (an inode in real IDs)."""
    return "%05X%X" % (random.randrange(0x100000), random.randrange(0x1000, 0xFFFFFF))


def queue_path(inst, queue, qid):
    """Path of a file in a queue, hashed one level for deferred/ and defer/."""
    if queue in HASHED:
        return inst.queue_dir / queue / qid[0] / qid
    return inst.queue_dir / queue / qid


def owner_ids():
    pw = pwd.getpwnam("postfix")
    return pw.pw_uid, pw.pw_gid


def drop(inst, queue, data, qid=None, mode=0o700, mtime=None):
    """Writes a queue file (complete unless mode says otherwise); returns its ID."""
    qid = qid or new_id()
    path = queue_path(inst, queue, qid)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{qid}"
    tmp.write_bytes(data)
    os.chmod(tmp, mode)
    if IS_ROOT:
        uid, gid = owner_ids()
        os.chown(path.parent, uid, gid)
        os.chown(tmp, uid, gid)
    if mtime is not None:
        os.utime(tmp, (mtime, mtime))
    os.rename(tmp, path)
    return qid


def message(sender="sender@example.test", recipients=("rcpt@example.test",),
            subject="test", body=("hello",), **kwargs):
    headers = [f"Subject: {subject}", f"From: <{sender}>"]
    kwargs.setdefault("arrival", int(time.time()))
    return queuefile.queue_file(sender, list(recipients), headers, list(body), **kwargs)


def trigger(inst, data=b"I"):
    """Writes trigger bytes to public/qmgr, as mail_trigger does."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(inst.queue_dir / "public" / "qmgr"))
        s.sendall(data)


def in_queue(inst, queue, qid):
    return queue_path(inst, queue, qid).exists()


def wait_gone(inst, qid, timeout=15):
    """Waits until a message has left every queue."""
    def gone():
        return not any(in_queue(inst, q, qid)
                       for q in ("incoming", "active", "deferred", "hold"))
    wait_for(gone, timeout=timeout, what=f"{qid} removed")


def wait_in(inst, queue, qid, timeout=15):
    wait_for(lambda: in_queue(inst, queue, qid), timeout=timeout, what=f"{qid} in {queue}/")


def transport_map(inst, entries):
    """Installs transport_maps as a texthash: table {domain: transport:nexthop}."""
    path = inst.config_dir / "transport"
    path.write_text("".join(f"{k} {v}\n" for k, v in entries.items()))
    return f"texthash:{path}"


def deliver_request(inst, transport, qid, recipients, nexthop, sender="s@example.test",
                    offsets=None, queue_name="active"):
    """Sends a delivery request to private/TRANSPORT as qmgr would; returns the reply."""
    chan = Channel(inst.queue_dir / "private" / transport)
    try:
        ready = chan.receive()
        assert ready == {"status": "0"}
        now = f"{int(time.time())}.000000"
        chan.send([("queue_name", queue_name), ("queue_id", qid), ("nexthop", nexthop),
                   ("encoding", "7bit"), ("sender", sender), ("dsn_envid", ""),
                   ("client_name", ""), ("client_address", ""), ("client_protocol", ""),
                   ("client_helo", ""), ("sasl_username", ""), ("log_ident", qid),
                   ("rewrite_context", "local"), ("arrival_time", now),
                   ("active_time", now), ("dispatch_time", now), ("flags", 0),
                   ("data_offset", 100), ("data_size", 10), ("smtputf8", 0),
                   ("dsn_ret", 0), ("rcpt_count", len(recipients))])
        for i, rcpt in enumerate(recipients):
            chan.send([("address", rcpt), ("orig_rcpt", ""), ("dsn_orcpt", ""),
                       ("dsn_notify", 0), ("offset", offsets[i])])
        return chan.receive()
    finally:
        chan.close()


def recipient_offsets(data):
    """Offsets of the R records of a queuefile.queue_file() result, in order."""
    offsets, pos = [], 0
    while pos < len(data):
        rtype = data[pos:pos + 1]
        length, shift, i = 0, 0, pos + 1
        while True:
            byte = data[i]
            length |= (byte & 0x7F) << shift
            i += 1
            if byte < 0x80:
                break
            shift += 7
        if rtype == b"R":
            offsets.append(pos)
        pos = i + length
    return offsets


def defer_log(inst, qid, entries, queue="defer"):
    """Writes a delivery status log: entries are (recipient, status, reason)."""
    from attrproto import encode
    data = b"".join(encode([
        ("recipient", rcpt), ("orig_rcpt", ""), ("dsn_orcpt", ""), ("dsn_notify", 0),
        ("offset", 100 + i), ("status", status), ("action", "delayed"), ("reason", reason),
        ("diag_type", ""), ("diag_text", ""), ("mta_type", ""), ("mta_name", "")])
        for i, (rcpt, status, reason) in enumerate(entries))
    path = queue_path(inst, queue, qid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if IS_ROOT:
        uid, gid = owner_ids()
        os.chown(path.parent, uid, gid)
        os.chown(path, uid, gid)
    return path


FUTURE = time.time() + 86400     # a retry time qmgr leaves alone during a test


class FakeAgent:
    """A delivery agent played by the test: it listens on private/NAME (where
    qmgr connects for transport NAME), records every request and answers as
    `policy(request)` says: a dict of reply attributes, or None to drop the
    connection without a reply. `hold` seconds pass before each answer, so
    tests can count concurrent deliveries."""

    def __init__(self, inst, name, policy=None, hold=0.0):
        import threading
        self.path = inst.queue_dir / "private" / name
        self.policy = policy or (lambda request: {"status": 0, "site_failure": 0})
        self.hold = hold
        self.requests = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if self.path.exists():
            self.path.unlink()
        self.sock.bind(str(self.path))
        os.chmod(self.path, 0o666)
        self.sock.listen(64)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import threading
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        from attrproto import encode
        chan = Channel.__new__(Channel)
        chan.sock, chan.buffer = conn, b""
        conn.settimeout(30)
        try:
            chan.sock.sendall(encode([("status", 0)]))
            request = chan.receive()
            request["recipients"] = [chan.receive()
                                     for _ in range(int(request["rcpt_count"]))]
            with self.lock:
                self.requests.append(request)
                self.active += 1
                self.max_active = max(self.max_active, self.active)
            time.sleep(self.hold)
            reply = self.policy(request)
            with self.lock:
                self.active -= 1
            if reply is not None:
                chan.sock.sendall(encode(list(reply.items())))
        except (OSError, EOFError, ValueError):
            pass
        finally:
            conn.close()

    def recipients(self):
        with self.lock:
            return [r["address"] for req in self.requests for r in req["recipients"]]

    def close(self):
        self.running = False
        self.sock.close()
        if self.path.exists():
            self.path.unlink()


def dsn_message(sender, recipients, headers=("Subject: test",), body=("hello",),
                attributes=(), warn_time=0, arrival=None):
    """A queue file with DSN details: recipients are addresses or
    (address, notify_flags, orcpt) tuples; attributes are (name, value)."""
    record, sizes_record = queuefile.record, queuefile.sizes_record
    arrival = int(time.time()) if arrival is None else arrival
    envelope = [record("T", f"{arrival}.000000"), record("W", b"%15d" % warn_time)]
    envelope += [record("A", f"{k}={v}") for k, v in attributes]
    envelope.append(record("S", sender))
    for rcpt in recipients:
        address, notify, orcpt = (rcpt, 0, "") if isinstance(rcpt, str) else rcpt
        if orcpt:
            envelope.append(record("Q", orcpt))
        if notify:
            envelope.append(record("N", str(notify)))
        envelope.append(record("R", address))
    lines = list(headers) + [""] + list(body)
    content = [record("M")] + [record("L", line) for line in lines]
    v_len = len(sizes_record(0, 0, 0, 0, 0, 0))
    content_offset = v_len + sum(map(len, envelope))
    body_offset = content_offset + sum(map(len, content[:len(headers) + 2]))
    extracted_offset = content_offset + sum(map(len, content))
    size = sum(len(line.encode()) + 1 for line in lines)
    head = sizes_record(size, content_offset, extracted_offset, len(recipients), 0, body_offset)
    return head + b"".join(envelope + content) + record("X") + record("E")


def queue_content(path):
    """The message text of a queue file (L and C records after M)."""
    data, pos, out, started = path.read_bytes(), 0, bytearray(), False
    while pos < len(data):
        rtype = data[pos:pos + 1]
        length, shift, i = 0, 0, pos + 1
        while True:
            byte = data[i]
            length |= (byte & 0x7F) << shift
            i += 1
            if byte < 0x80:
                break
            shift += 7
        value = data[i:i + length]
        pos = i + length
        if rtype == b"M":
            started = True
        elif rtype == b"X":
            break
        elif started and rtype == b"L":
            out += value + b"\n"
        elif started and rtype == b"C":
            out += value
    return bytes(out)


class Catcher(FakeAgent):
    """A FakeAgent that keeps the text and envelope of every message it is
    given (read from the queue file while qmgr waits for the reply)."""

    def __init__(self, inst, name):
        self.messages = []

        def keep(request):
            path = queue_path(inst, request["queue_name"], request["queue_id"])
            self.messages.append({"sender": request["sender"],
                                  "recipients": [r["address"] for r in request["recipients"]],
                                  "text": queue_content(path)})
            return {"status": 0, "site_failure": 0}
        super().__init__(inst, name, policy=keep)


def reload(inst):
    """postfix reload, then waits until the processes started before it
    (qmgr, bounce, flush, ...) have gone, so the next request reaches one
    with the new configuration."""
    programs = ("qmgr", "bounce", "flush", "showq", "error", "discard")
    old = {pid for p in programs for pid in inst.daemon_pids(p)}
    inst.mark_log()
    inst.postfix("reload")
    inst.wait_log(r"postfix/master\[\d+\]: reload -- version")
    wait_for(lambda: not old & {pid for p in programs for pid in inst.daemon_pids(p)},
             what="processes of the old configuration gone")


class SmtpSink:
    """A minimal SMTP server on 127.0.0.1:port that accepts every message
    and keeps (sender, recipients, data) for each."""

    def __init__(self, port):
        import threading
        self.messages = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import threading
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        conn.settimeout(30)
        stream = conn.makefile("rb")
        conn.sendall(b"220 sink.test ESMTP\r\n")
        sender, rcpts = None, []
        try:
            for line in stream:
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250-sink.test\r\n250 8BITMIME\r\n")
                elif verb == b"MAIL":
                    sender, rcpts = line[10:].strip(), []
                    conn.sendall(b"250 2.1.0 Ok\r\n")
                elif verb == b"RCPT":
                    rcpts.append(line[8:].strip())
                    conn.sendall(b"250 2.1.5 Ok\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    data, ended = b"", False
                    for chunk in stream:
                        if chunk == b".\r\n":
                            ended = True
                            break
                        data += chunk
                    if not ended:           # the client gave up: no message
                        break
                    self.messages.append((sender, rcpts, data))
                    conn.sendall(b"250 2.0.0 Ok: queued\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 2.0.0 Bye\r\n")
                    break
                else:
                    conn.sendall(b"250 2.0.0 Ok\r\n")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()
