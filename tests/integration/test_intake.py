"""The local submission path: sendmail -> postdrop -> maildrop/ -> pickup ->
cleanup -> incoming/, with the real trivial-rewrite.

qmgr is left out of this instance's master.cf, so every message cleanup
queues stays in incoming/ where the tests read it back; the bounce service
is a fake listening on private/bounce (the protocol of docs/protocols.md),
so a rejected local message can be followed to its bounce request.
"""
import os
import re
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

from attrproto import encode
from conftest import PREFIX, SBIN, run, wait_for

SENDMAIL = SBIN / "sendmail"
POSTDROP = SBIN / "postdrop"


# -- reading queue files (docs/queue-file.md) -------------------------------
def records(path):
    """[(type, bytes)] of a queue or maildrop file."""
    data = Path(path).read_bytes()
    out, pos = [], 0
    while pos < len(data):
        rtype, pos = chr(data[pos]), pos + 1
        length, shift = 0, 0
        while True:
            byte, pos = data[pos], pos + 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        out.append((rtype, data[pos:pos + length]))
        pos += length
    return out


class QueueFile:
    """The parts of a queue file the tests look at."""

    def __init__(self, path):
        self.path = Path(path)
        self.mode = stat.S_IMODE(self.path.stat().st_mode)
        self.records = records(path)
        self.attrs, self.recipients, self.orig, self.notify = {}, [], [], []
        self.sender, self.fullname, self.lines, self.extracted = None, None, [], False
        pending = {}
        for rtype, data in self.records:
            text = data.decode(errors="replace")
            if rtype == "A":
                name, _, value = text.partition("=")
                self.attrs[name] = value
            elif rtype == "S":
                self.sender = text
            elif rtype == "F":
                self.fullname = text
            elif rtype in "OQN":
                pending[rtype] = text
            elif rtype == "R":
                self.recipients.append(text)
                self.orig.append(pending.get("O"))
                self.notify.append(pending.get("N"))
                pending = {}
            elif rtype == "L":
                self.lines.append(text)
        assert self.records[0][0] == "V" and self.records[-1][0] == "E"

    @property
    def headers(self):
        return self.lines[:self.lines.index("")] if "" in self.lines else self.lines

    def header(self, name):
        wanted = name.lower() + ":"
        return [h for h in self.headers if h.lower().startswith(wanted)]


# -- the instance -------------------------------------------------------------
def without_qmgr_and_bounce(text):
    return re.sub(r"^(qmgr|bounce)\s.*\n", "", text, flags=re.M)


class FakeBounce:
    """Answers bounce requests on private/bounce, remembering each one."""

    def __init__(self, inst):
        self.path = inst.queue_dir / "private" / "bounce"
        self.requests = []
        self.answer = 0
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(str(self.path))
        os.chmod(self.path, 0o666)
        self.sock.listen(5)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while not data.endswith(b"\n\n"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                frame = dict(re.findall(rb"([a-z_]+)=\d+:([^\n]*)\n", data))
                frame = {k.decode(): v.decode() for k, v in frame.items()}
                path = self.path.parent.parent / frame.get("queue_name", "?") / \
                    frame.get("queue_id", "?")
                frame["file_mode"] = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
                frame["file"] = QueueFile(path) if path.exists() else None
                self.requests.append(frame)
                conn.sendall(encode([("status", self.answer)]))


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    inst = module_instance_factory(
        "intake", master_cf_edit=without_qmgr_and_bounce,
        main_cf={"header_checks": "regexp:$config_directory/header_checks",
                 "canonical_maps": "inline:{ canon@mx.example.test=canonical@example.test }",
                 "masquerade_domains": "example.test", "masquerade_exceptions": "root",
                 "virtual_alias_maps": "inline:{ {team@example.test = ann@remote.example, "
                                       "bob@remote.example} }"})
    (inst.config_dir / "header_checks").write_text(
        "/^Subject: reject me/ REJECT go away now\n/^Subject: warn me/ WARN watch out\n")
    inst.start(wait_port=False)
    wait_for(lambda: (inst.queue_dir / "public" / "pickup").exists(), what="public/pickup")
    inst.bounce = FakeBounce(inst)
    return inst


def sendmail(inst, *args, message, check=True, **kwargs):
    return inst.command("sendmail", *args, input=message, check=check, **kwargs)


def queued(inst, sender, since_mark=True):
    """The queue file of the message pickup logged for `sender`."""
    match = inst.wait_log(rf"postfix/pickup\[\d+\]: ([0-9A-F]+): uid=\d+ "
                          rf"from=<{re.escape(sender)}>", since_mark=since_mark)
    path = inst.queue_dir / "incoming" / match.group(1)
    wait_for(lambda: path.exists() and path.stat().st_mode & 0o100, what=f"{path} complete")
    return QueueFile(path)


def maildrop_files(inst):
    return sorted(p.name for p in (inst.queue_dir / "maildrop").iterdir())


# -- sendmail, postdrop, pickup, cleanup ------------------------------------
def test_sendmail_f_sets_the_envelope_sender(inst):
    inst.mark_log()
    sendmail(inst, "-f", "a@b.example", "-F", "Jo Smith", "user",
             message="Subject: plain\n\nbody\n")
    qf = queued(inst, "a@b.example")
    assert qf.mode == 0o700
    assert qf.sender == "a@b.example"
    assert qf.fullname == "Jo Smith"
    assert qf.recipients == ["user@mx.example.test"]
    assert qf.orig == ["user"]
    assert qf.attrs["rewrite_context"] == "local"
    assert qf.attrs["submit_uid"] == "0"
    received = qf.lines[:2]
    assert re.fullmatch(r"Received: by mx\.example\.test \(Postern, from userid 0\)",
                        received[0])
    assert re.fullmatch(r"\tid [0-9A-F]+; \w{3}, \d{1,2} \w{3} \d{4} [\d:]{8} [+-]\d{4}.*",
                        received[1])
    assert qf.header("Subject") == ["Subject: plain"]
    assert qf.header("From") == ["From: Jo Smith <a@b.example>"]
    assert len(qf.header("Message-Id")) == 1 and len(qf.header("Date")) == 1
    inst.wait_log(rf"postfix/cleanup\[\d+\]: {qf.path.name}: message-id=<\d+\."
                  rf"{qf.path.name}@mx\.example\.test>")
    assert not maildrop_files(inst)


def test_null_sender_and_login_name(inst):
    inst.mark_log()
    sendmail(inst, "-f", "<>", "user", message="Subject: null\n\nx\n")
    qf = queued(inst, "")
    assert qf.sender == ""
    assert qf.header("From") == ["From: MAILER-DAEMON"]
    inst.mark_log()
    sendmail(inst, "user", message="Subject: login\n\nx\n")
    qf = queued(inst, "root")
    assert qf.sender == "root@mx.example.test"


def test_sendmail_t_one_copy_each_bcc_gone(inst):
    inst.mark_log()
    sendmail(inst, "-t", "-f", "t@b.example", message=(
        "To: x@remote.example, Y <y@remote.example>\nCc: x@remote.example\n"
        "Bcc: hidden@remote.example\nSubject: -t\n\nbody\n"))
    qf = queued(inst, "t@b.example")
    assert qf.recipients == ["x@remote.example", "y@remote.example", "hidden@remote.example"]
    assert not qf.header("Bcc")
    assert "hidden" not in "\n".join(qf.lines)
    assert qf.header("Cc") == ["Cc: x@remote.example"]


def test_sendmail_t_adds_argument_recipients(inst):
    inst.mark_log()
    sendmail(inst, "-t", "-f", "t2@b.example", "arg@remote.example",
             message="To: hdr@remote.example\n\nbody\n")
    qf = queued(inst, "t2@b.example")
    assert qf.recipients == ["arg@remote.example", "hdr@remote.example"]


def test_sendmail_t_without_recipients_fails(inst):
    result = sendmail(inst, "-t", message="Subject: nobody\n\nbody\n", check=False)
    assert result.returncode == 75
    assert result.stderr.endswith(
        "sendmail: fatal: root(0): No recipient addresses found in message header\n")
    result = sendmail(inst, message="x\n", check=False)
    assert result.returncode == 75
    assert "Recipient addresses must be specified on the command line or via the -t option" \
        in result.stderr
    assert not maildrop_files(inst)


def test_lone_dot(inst):
    inst.mark_log()
    sendmail(inst, "-i", "-f", "dot-i@b.example", "user",
             message="Subject: dots\n\nbefore\n.\nafter\n")
    assert queued(inst, "dot-i@b.example").lines[-3:] == ["before", ".", "after"]
    inst.mark_log()
    sendmail(inst, "-oi", "-f", "dot-oi@b.example", "user",
             message="From x@y Mon Nov 23 10:00:00 2026\n\nbefore\n.\nafter\n")
    lines = queued(inst, "dot-oi@b.example").lines
    assert lines[-2:] == [".", "after"]
    assert not any(line.startswith("From x@y") for line in lines)    # mbox line dropped
    inst.mark_log()
    sendmail(inst, "-f", "dot@b.example", "user",
             message="Subject: dots\r\n\r\nbefore\r\n.\r\nafter\r\n")
    lines = queued(inst, "dot@b.example").lines
    assert lines[-1] == "before" and "after" not in lines


def test_long_lines_and_binary(inst):
    inst.mark_log()
    long_line = b"y" * 5000
    inst.command("sendmail", "-f", "long@b.example", "user", text=False,
                 input=b"Subject: long\n\n" + long_line + b"\nx\x00y\xff\n")
    qf = queued(inst, "long@b.example")
    body = [(t, d) for t, d in qf.records if t in "LC"][-4:]
    # line_length_limit (2048) pieces; NUL and 8-bit bytes are data
    assert [t for t, _ in body[:3]] == ["C", "C", "L"]
    assert b"".join(d for _, d in body[:3]) == long_line
    assert body[3] == ("L", b"x\x00y\xff")
    assert qf.records[0][1].split()[4] == b"5"      # local submission, 8-bit content


def test_dsn_options(inst):
    inst.mark_log()
    sendmail(inst, "-f", "dsn@b.example", "-N", "success,delay", "-R", "hdrs", "-V", "env-1",
             "-B", "8BITMIME", "user", message="Subject: dsn\n\nx\n")
    qf = queued(inst, "dsn@b.example")
    assert qf.attrs["dsn_envid"] == "env-1"
    assert qf.attrs["dsn_ret"] == "2"
    assert qf.attrs["encoding"] == "8bitmime"
    assert qf.notify == ["6"]
    result = sendmail(inst, "-N", "sometimes", "user", message="x\n", check=False)
    assert result.returncode == 64 and "bad -N option value: sometimes" in result.stderr


def test_addresses_are_data(inst):
    marker = Path("/tmp/postern-intake-shell-marker")
    marker.unlink(missing_ok=True)
    inst.mark_log()
    sendmail(inst, "-f", f";touch {marker};", "--", "|/bin/true@example.test",
             "${run{/bin/true}}@example.test", message="Subject: shell\n\nx\n")
    qf = queued(inst, f'";touch {marker};"')   # logged in external (quoted) form
    assert qf.sender == f";touch {marker};@example.test"      # masqueraded
    assert qf.recipients == ["|/bin/true@example.test", "${run{/bin/true}}@example.test"]
    assert not marker.exists()


def test_rewriting_on_headers(inst):
    inst.mark_log()
    sendmail(inst, "-f", "canon", "team@example.test", message=(
        "From: canon\nTo: someone@host.example.test, team@example.test\nSubject: rw\n\nx\n"))
    qf = queued(inst, "canon")
    assert qf.sender == "canonical@example.test"
    assert qf.header("From") == ["From: canonical@example.test"]
    # masquerade_domains strips the host; virtual aliasing is for the envelope.
    assert qf.header("To") == ["To: someone@example.test, team@example.test"]
    assert qf.recipients == ["ann@remote.example", "bob@remote.example"]


def test_header_checks_reject_bounces_local_mail(inst):
    inst.mark_log()
    sendmail(inst, "-f", "rej@b.example", "bob@remote.example",
             message="Subject: reject me\n\nbody\n")
    match = inst.wait_log(r"postfix/cleanup\[\d+\]: ([0-9A-F]+): reject: header Subject: reject "
                          r"me from local; from=<rej@b\.example> to=<bob@remote\.example>: "
                          r"5\.7\.1 go away now\n")
    queue_id = match.group(1)
    inst.wait_log(rf"{queue_id}: to=<bob@remote\.example>, relay=none, delay=[\d.]+, "
                  r"delays=[\d.]+/0/0/0, dsn=5\.7\.1, status=bounced \(go away now\)")
    request = wait_for(lambda: next((r for r in inst.bounce.requests
                                     if r["queue_id"] == queue_id), None), what="bounce request")
    assert request["request"] == "flush" and request["queue_name"] == "incoming"
    assert request["sender"] == "rej@b.example"
    # The bounce service can read the message; qmgr would never take it.
    assert request["file_mode"] == 0o600
    assert request["file"].header("Subject") == ["Subject: reject me"]
    wait_for(lambda: not (inst.queue_dir / "incoming" / queue_id).exists(), what="file removed")
    wait_for(lambda: not maildrop_files(inst), what="maildrop emptied")


def test_reject_waits_while_the_bounce_service_is_down(inst):
    inst.bounce.answer = 1
    inst.mark_log()
    try:
        sendmail(inst, "-f", "later@b.example", "bob@remote.example",
                 message="Subject: reject me\n\nbody\n")
        inst.wait_log(r"warning: maildrop/[0-9A-F]+: 4\.3\.0 bounce service unavailable, "
                      r"try again later; will try again later")
        assert len(maildrop_files(inst)) == 1
    finally:
        inst.bounce.answer = 0
    inst.mark_log()
    trigger_pickup(inst)
    inst.wait_log(r"to=<bob@remote\.example>, .*status=bounced \(go away now\)")
    wait_for(lambda: not maildrop_files(inst), what="maildrop emptied")


def test_header_checks_warn(inst):
    inst.mark_log()
    sendmail(inst, "-f", "warn@b.example", "user", message="Subject: warn me\n\nbody\n")
    qf = queued(inst, "warn@b.example")
    inst.wait_log(rf"{qf.path.name}: warning: header Subject: warn me from local; "
                  r"from=<warn@b\.example> to=<user@mx\.example\.test>: watch out")


def trigger_pickup(inst):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(inst.queue_dir / "public" / "pickup"))
        s.sendall(b"W")


# -- maildrop tampering -------------------------------------------------------
def test_garbage_and_links_in_maildrop(inst, tmp_path):
    maildrop = inst.queue_dir / "maildrop"
    outside = tmp_path / "outside"
    outside.write_text("not mail\n")
    (maildrop / "ABCDEF123").write_bytes(b"garbage\x00\xff")
    os.chmod(maildrop / "ABCDEF123", 0o744)
    os.link(outside, maildrop / "ABCDEF456")
    os.chmod(outside, 0o744)
    (maildrop / "ABCDEF789").symlink_to("/etc/passwd")
    (maildrop / "not-a-queue-id").write_text("x")
    os.mkfifo(maildrop / "ABCDEF999")
    truncated = b"T\x111700000000.000001S\x01aR\x01bM\x00L\x03abc"
    (maildrop / "ABCDEF321").write_bytes(truncated)
    os.chmod(maildrop / "ABCDEF321", 0o744)
    inst.mark_log()
    sendmail(inst, "-f", "amid-garbage@b.example", "user", message="Subject: fine\n\nx\n")
    queued(inst, "amid-garbage@b.example")
    log_lines = {
        "ABCDEF123": r"bad record type; removing the file",
        "ABCDEF456": r"file has 2 links; removing the file",
        "ABCDEF789": r"symbolic link; removing the file",
        "not-a-queue-id": r"not a maildrop file name; removing the file",
        "ABCDEF999": r"not a regular file; removing the file",
        "ABCDEF321": r"premature end of file; removing the file",
    }
    for name, reason in log_lines.items():
        inst.wait_log(rf"postfix/pickup\[\d+\]: warning: maildrop/{name}: uid \d+: {reason}")
    wait_for(lambda: not maildrop_files(inst), what="maildrop emptied")
    assert outside.read_text() == "not mail\n"
    assert Path("/etc/passwd").exists()


def test_a_flood_of_files(inst):
    maildrop = inst.queue_dir / "maildrop"
    for i in range(300):
        path = maildrop / f"F{i:08X}"
        path.write_bytes(b"Xjunk")
        os.chmod(path, 0o744)
    inst.mark_log()
    sendmail(inst, "-f", "flood@b.example", "user", message="Subject: flood\n\nx\n")
    queued(inst, "flood@b.example")
    wait_for(lambda: not maildrop_files(inst), timeout=30, what="maildrop emptied")
    assert len(re.findall(r"warning: maildrop/F[0-9A-F]{8}: ", inst.new_log())) == 300


def test_incomplete_files_are_left_alone(inst):
    maildrop = inst.queue_dir / "maildrop"
    fresh, stale = maildrop / "ABC0000001", maildrop / "ABC0000002"
    for path in (fresh, stale):
        path.write_bytes(b"T\x111700000000.000001")
        os.chmod(path, 0o600)
    old = time.time() - 2 * 86400
    os.utime(stale, (old, old))
    inst.mark_log()
    trigger_pickup(inst)
    inst.wait_log(r"maildrop/ABC0000002: uid 0: incomplete file left over by postdrop; "
                  r"removing the file")
    assert fresh.exists() and not stale.exists()
    fresh.unlink()


# -- postdrop -----------------------------------------------------------------
def as_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def test_postdrop_is_setgid_and_files_belong_to_the_user(inst):
    mode = (SBIN / "postdrop").stat().st_mode
    assert mode & stat.S_ISGID and not mode & stat.S_ISUID
    default_main_cf = PREFIX / "etc" / "postfix" / "main.cf"
    saved = default_main_cf.read_text()
    # Unlisted configuration directory: refused for a user.
    result = run([SENDMAIL, "-f", "u@b.example", "user"], input="x\n", check=False,
                 preexec_fn=as_nobody, env={"MAIL_CONFIG": str(inst.config_dir)})
    assert result.returncode == 77
    assert "untrusted configuration directory: " + str(inst.config_dir) in result.stderr
    default_main_cf.write_text(saved + f"\nalternate_config_directories = {inst.config_dir}\n")
    try:
        inst.mark_log()
        run([SENDMAIL, "-f", "nobody-sender@b.example", "user"], input="Subject: u\n\nx\n",
            preexec_fn=as_nobody, env={"MAIL_CONFIG": str(inst.config_dir)})
        qf = queued(inst, "nobody-sender@b.example")
        assert qf.attrs["submit_uid"] == "65534"
        assert "(Postern, from userid 65534)" in qf.lines[0]
        inst.wait_log(r"postfix/pickup\[\d+\]: [0-9A-F]+: uid=65534 "
                      r"from=<nobody-sender@b\.example>")
        # authorized_submit_users
        inst.edit_main_cf(authorized_submit_users="!nobody, static:all")
        result = run([SENDMAIL, "-f", "u@b.example", "user"], input="x\n", check=False,
                     preexec_fn=as_nobody, env={"MAIL_CONFIG": str(inst.config_dir)})
        assert result.returncode == 77
        assert "User nobody(65534) is not allowed to submit mail" in result.stderr
    finally:
        default_main_cf.write_text(saved)
        inst.edit_main_cf(authorized_submit_users="static:anyone")


def test_postdrop_refuses_bad_input(inst):
    def postdrop(data):
        return inst.command("postdrop", "-r", input=data, check=False, text=False)

    for data in (b"", b"Sgarbage", b"A\x0cnot_allowed=1", b"S\x01aR\x01bM\x00L\x01x"):
        result = postdrop(data)
        assert result.returncode == 65, result
        assert b"malformed input" in result.stderr
    assert not maildrop_files(inst)
    result = inst.command("postdrop", "-x", check=False)
    assert result.returncode == 64


def test_mail_waits_in_maildrop_while_the_system_is_down(inst):
    inst.postfix("stop")
    wait_for(lambda: not inst.processes(), what="instance stopped")
    try:
        result = sendmail(inst, "-f", "down@b.example", "user", message="Subject: down\n\nx\n")
        assert "postdrop: warning: unable to look up public/pickup: " in result.stderr
        files = maildrop_files(inst)
        assert len(files) == 1
        info = (inst.queue_dir / "maildrop" / files[0]).stat()
        assert stat.S_IMODE(info.st_mode) == 0o744 and info.st_uid == 0
        maildrop_records = records(inst.queue_dir / "maildrop" / files[0])
        assert [r[0] for r in maildrop_records] == list("TSFRMLLLXE")
    finally:
        inst.mark_log()
        inst.start(wait_port=False)
    queued(inst, "down@b.example")
    wait_for(lambda: not maildrop_files(inst), what="maildrop emptied")


# -- sendmail modes -------------------------------------------------------------
def test_sendmail_bs(inst):
    inst.mark_log()
    dialogue = ("EHLO client.example\r\nMAIL FROM:<bs@b.example>\r\n"
                "RCPT TO:<user@mx.example.test>\r\nDATA\r\nSubject: bs\r\n\r\n..dot\r\n.\r\n"
                "RSET\r\nRCPT TO:<x@y>\r\nFOO\r\nQUIT\r\n")
    result = sendmail(inst, "-bs", message=dialogue)
    replies = result.stdout.splitlines()
    assert replies[0] == "220 mx.example.test ESMTP Postern"
    assert replies[1:7] == ["250-mx.example.test", "250-PIPELINING", "250-SIZE 10240000",
                            "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250 DSN"]
    assert replies[7:10] == ["250 2.1.0 Ok", "250 2.1.5 Ok",
                             "354 End data with <CR><LF>.<CR><LF>"]
    assert re.fullmatch(r"250 2\.0\.0 Ok: queued as [0-9A-F]+", replies[10])
    assert replies[11:15] == ["250 2.0.0 Ok", "503 5.5.1 Error: need MAIL command",
                              "500 5.5.2 Error: command not recognized", "221 2.0.0 Bye"]
    qf = queued(inst, "bs@b.example")
    assert qf.lines[-1] == ".dot"


def test_newaliases(inst):
    aliases = inst.config_dir / "aliases"
    aliases.write_text("postmaster: root\nabuse: root\n")
    db = inst.config_dir / "aliases.db"
    db.unlink(missing_ok=True)
    run([SBIN / "newaliases"], env={"MAIL_CONFIG": str(inst.config_dir)})
    assert db.exists()
    out = run(["db5.3_dump", "-p", db]).stdout
    assert "abuse" in out and "postmaster" in out
    db.unlink()
    sendmail(inst, "-bi", message="")
    assert db.exists()
    db.unlink()
    sendmail(inst, "-I", message="")
    assert db.exists()
