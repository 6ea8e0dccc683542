"""smtpd against what attackers send (/work/shared/ATTACKS.md), black-box over
TCP from a client outside mynetworks unless a test says otherwise. Every
test ends by showing the daemon still serves."""
import os
import re
import subprocess
import time

import pytest

from conftest import SBIN, free_port
from smtpd_client import (INSIDER, SmtpClient, message, queue_files, queue_id, rss_kib,
                          wait_until)

USERS = "inline:{ alice=1, bob=1 }"
MARKER = "/tmp/postern-smtpd-attack-marker"


@pytest.fixture(scope="module")
def ports():
    return {name: free_port() for name in ("reject_lf", "no_lf", "relay_reject", "slow",
                                            "single", "lenient")}


@pytest.fixture(scope="module")
def inst(module_instance_factory, ports):
    def listeners(text):
        return text + "".join([
            f"127.0.0.1:{ports['reject_lf']} inet n - y - - smtpd"
            " -o smtpd_forbid_bare_newline=reject\n",
            f"127.0.0.1:{ports['no_lf']} inet n - y - - smtpd -o smtpd_forbid_bare_newline=no\n",
            f"127.0.0.1:{ports['relay_reject']} inet n - y - - smtpd"
            " -o smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination\n",
            f"127.0.0.1:{ports['slow']} inet n - y - - smtpd -o smtpd_timeout=2s\n",
            f"127.0.0.1:{ports['single']} inet n - y - 1 smtpd\n",
            f"127.0.0.1:{ports['lenient']} inet n - y - - smtpd"
            " -o smtpd_forbid_unauth_pipelining=no"
            " -o smtpd_data_restrictions=reject_unauth_pipelining\n",
        ])
    inst = module_instance_factory("smtpd-attacks", main_cf={
        "mydestination": "$myhostname, localhost, $mydomain",
        "local_recipient_maps": USERS,
        "smtpd_error_sleep_time": "0",
        "smtpd_data_restrictions": "check_client_access static:HOLD",
    }, master_cf_edit=listeners)
    return inst.start()


def connect(port, source="127.0.0.1"):
    c = SmtpClient(port, source=source)
    assert c.banner == "220 mx.example.test ESMTP Postern"
    return c


def still_serves(port, source="127.0.0.1"):
    c = connect(port, source)
    assert c.cmd("EHLO again.example").startswith("250-mx.example.test")
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    c.close()


def postcat_body(inst, qid):
    return subprocess.run([str(SBIN / "postcat"), "-c", str(inst.config_dir), "-bq", qid],
                          capture_output=True, timeout=30).stdout


def serving_pid(inst, client):
    """The smtpd process holding the other end of a client connection."""
    ours, theirs = client.sock.getsockname()[1], client.sock.getpeername()[1]
    inodes = set()
    for line in open("/proc/net/tcp").readlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == theirs and \
                int(fields[2].split(":")[1], 16) == ours:
            inodes.add(f"socket:[{fields[9]}]")
    for pid in inst.daemon_pids("smtpd"):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                pass
    raise AssertionError("no smtpd process holds the connection")


# SMTP smuggling ------------------------------------------------------------

SMUGGLED = (b"MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
            b"Subject: smuggled\r\n\r\nforged\r\n")
VARIANTS = {
    "lf-dot-lf": b"\n.\n",
    "lf-dot-crlf": b"\n.\r\n",
    "crlf-dot-lf": b"\r\n.\n",
    "cr-dot-cr": b"\r.\r",
    "crlf-dot-cr": b"\r\n.\r",
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("source", ["127.0.0.1", INSIDER])
def test_smuggling_yields_one_message(inst, variant, source):
    c = connect(inst.smtp_port, source)
    c.ehlo()
    before = queue_files(inst, "hold")
    payload = b"Subject: real\r\n\r\ntext" + VARIANTS[variant] + SMUGGLED + b".\r\n"
    qid = queue_id(message(c, "a@c.example.org", ["alice@example.test"], payload))
    assert c.cmd("NOOP") == "250 2.0.0 Ok"         # no reply to smuggled commands is pending
    after = queue_files(inst, "hold")
    assert len(after) == len(before) + 1 and qid in after
    body = postcat_body(inst, qid)
    assert b"MAIL FROM:<evil@attacker.example>" in body
    assert b"RCPT TO:<bob@example.test>" in body
    assert b"forged" in body
    c.close()


@pytest.mark.parametrize("variant", ["lf-dot-lf", "lf-dot-crlf", "crlf-dot-lf"])
def test_smuggling_rejected_under_reject(inst, ports, variant):
    inst.mark_log()
    c = connect(ports["reject_lf"])
    c.ehlo()
    before = queue_files(inst, "hold")
    payload = b"Subject: real\r\n\r\ntext" + VARIANTS[variant] + SMUGGLED + b".\r\n"
    reply = message(c, "a@c.example.org", ["alice@example.test"], payload)
    assert reply == "550 5.5.2 mx.example.test Error: bare <LF> received"
    assert queue_files(inst, "hold") == before
    inst.wait_log(r"[0-9A-F]+: reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: bare <LF> "
                  r"received; from=<a@c\.example\.org> to=<alice@example\.test> proto=ESMTP "
                  r"helo=<client\.example\.org>\n")
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


def test_bare_cr_is_no_line_end_under_reject(inst, ports):
    c = connect(ports["reject_lf"])
    c.ehlo()
    payload = b"Subject: real\r\n\r\ntext" + VARIANTS["cr-dot-cr"] + SMUGGLED + b".\r\n"
    qid = queue_id(message(c, "a@c.example.org", ["alice@example.test"], payload))
    assert b"\r.\rMAIL FROM:<evil@attacker.example>" in postcat_body(inst, qid)
    c.close()


def test_bare_lf_command_under_reject(inst, ports):
    inst.mark_log()
    c = connect(ports["reject_lf"])
    c.send(b"EHLO x\n")
    assert c.reply() == "550 5.5.2 mx.example.test Error: bare <LF> received"
    assert c.at_eof()
    inst.wait_log(r"NOQUEUE: reject: CONNECT from localhost\[127\.0\.0\.1\]: bare <LF> "
                  r"received; proto=SMTP\n")
    still_serves(ports["reject_lf"])


def test_no_mode_is_vulnerable_as_documented(inst, ports):
    """smtpd_forbid_bare_newline = no keeps Postfix 3.7's old behaviour."""
    c = connect(ports["no_lf"])
    c.ehlo()
    c.send(b"MAIL FROM:<a@c.example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    assert [c.reply(), c.reply(), c.reply()][2].startswith("354")
    c.send(b"Subject: x\r\n\r\ntext\n.\nNOOP\r\n")
    assert c.reply().startswith("250 2.0.0 Ok: queued as")
    assert c.reply() == "250 2.0.0 Ok"
    c.close()


# Expansion and shell characters are data ------------------------------------

def test_address_expansion_is_never_run(inst):
    if os.path.exists(MARKER):
        os.unlink(MARKER)
    inst.mark_log()
    c = connect(inst.smtp_port)
    c.ehlo()
    evil = "${run{/bin/touch${IFS}" + MARKER + "}}"
    assert c.cmd(f"MAIL FROM:<{evil}@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd(f"RCPT TO:<{evil}@example.test>").startswith(
        "550 5.1.1 <${run{/bin/touch${IFS}")
    assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.cmd("DATA").startswith("354")
    c.send(b"Subject: x\r\n\r\nhi\r\n.\r\n")
    queue_id(c.reply())
    inst.wait_log(re.escape("to=<" + evil + "@example.test>"))
    assert not os.path.exists(MARKER)
    c.close()


def test_shell_in_envelope(inst):
    c = connect(inst.smtp_port)
    c.ehlo()
    start = time.monotonic()
    assert c.cmd("MAIL FROM:<;sleep 5;>") == "501 5.1.7 Bad sender address syntax"
    assert c.cmd("MAIL FROM:<`touch${IFS}" + MARKER + "`@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<|/bin/sh -c id@example.test>") == \
        "501 5.1.3 Bad recipient address syntax"
    assert time.monotonic() - start < 4
    assert not os.path.exists(MARKER)
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


# Parameter and header injection --------------------------------------------

@pytest.mark.parametrize("param, reply", [
    (b"ENVID=a+0D+0AX-Evil:+201", "501 5.5.4 Bad ENVID parameter syntax"),
    (b"ENVID=a\rX-Evil", "501 5.5.4 Bad ENVID parameter syntax"),
    (b"RET=FULL\rX", "501 5.5.4 Bad RET parameter syntax"),
    (b"SIZE=1\r2", "501 5.5.4 Bad message size syntax"),
    (b"AUTH=a+0Ab", "555 5.5.4 Unsupported option: AUTH=a+0Ab"),
    (b"BODY=8BITMIME\x01", "555 5.5.4 Unsupported option: BODY=8BITMIME?"),
])
def test_mail_parameter_injection(inst, param, reply):
    c = connect(inst.smtp_port)
    c.ehlo()
    assert c.cmd(b"MAIL FROM:<a@c.example.org> " + param) == reply
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    c.close()


@pytest.mark.parametrize("param", [b"ORCPT=rfc822;a+0D+0Ab@example.test",
                                   b"ORCPT=rfc822;a\rb@example.test",
                                   b"NOTIFY=SUCCESS\rX"])
def test_rcpt_parameter_injection(inst, param):
    c = connect(inst.smtp_port)
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd(b"RCPT TO:<alice@example.test> " + param).startswith("501 5.5.4 ")
    assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    c.close()


def test_nul_cuts_a_parameter_before_it_is_stored(inst):
    c = connect(inst.smtp_port)
    c.ehlo()
    assert c.cmd(b"MAIL FROM:<a@c.example.org> ENVID=abc\x00X-Evil: yes") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.cmd("DATA").startswith("354")
    c.send(b"Subject: x\r\n\r\nhi\r\n.\r\n")
    qid = queue_id(c.reply())
    text = subprocess.run([str(SBIN / "postcat"), "-c", str(inst.config_dir), "-q", qid],
                          capture_output=True, timeout=30).stdout
    assert b"dsn_envid=abc\n" in text and b"X-Evil" not in text
    c.close()


def test_header_injection_through_helo_and_addresses(inst):
    c = connect(inst.smtp_port)
    assert c.cmd(b"EHLO evil\rX-Injected: yes") == "501 Syntax: EHLO hostname"
    assert c.cmd(b"HELO x\x1by") == "501 Syntax: HELO hostname"
    assert c.cmd(b"HELO b\xc3\xbcro.example") == "250 mx.example.test"
    assert c.cmd(b"MAIL FROM:<a\r@c.example.org>") == "501 5.1.7 Bad sender address syntax"
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd(b"RCPT TO:<a\rX-Evil: y@example.test>") == "501 5.1.3 Bad recipient address syntax"
    assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.cmd("DATA").startswith("354")
    c.send(b"Subject: x\r\n\r\nhi\r\n.\r\n")
    qid = queue_id(c.reply())
    text = subprocess.run([str(SBIN / "postcat"), "-c", str(inst.config_dir), "-q", qid],
                          capture_output=True, timeout=30).stdout
    received = re.search(rb"Received: from ([^\n]*)\n", text).group(1)
    assert received == b"b??ro.example (localhost [127.0.0.1])"
    assert b"X-Injected" not in text and b"X-Evil" not in text
    assert c.cmd("HELO " + "h" * 1500) == "250 mx.example.test"
    qid = queue_id(message(c, "a@c.example.org", ["alice@example.test"], b"Subject: y\r\n\r\n.\r\n"))
    text = subprocess.run([str(SBIN / "postcat"), "-c", str(inst.config_dir), "-q", qid],
                          capture_output=True, timeout=30).stdout
    assert re.search(rb"Received: from h{255} \(localhost", text)
    c.close()


# Open relay probes ----------------------------------------------------------

PROBES = ["user@remote.example", "user%remote.example@example.test",
          '"user@remote.example"@example.test', "@example.test:user@remote.example",
          "remote.example!user@example.test", "user@[192.0.2.1]"]


def expected_name(probe):
    """How the reply names the address: internal form, route dropped."""
    return {'"user@remote.example"@example.test': "user@remote.example@example.test",
            "@example.test:user@remote.example": "user@remote.example"}.get(probe, probe)


def test_open_relay_probes_from_a_stranger(inst, ports):
    inst.mark_log()
    c = connect(inst.smtp_port)
    c.ehlo()
    assert c.cmd("MAIL FROM:<spammer@c.example.org>") == "250 2.1.0 Ok"
    for probe in PROBES:
        assert c.cmd(f"RCPT TO:<{probe}>") == \
            f"454 4.7.1 <{expected_name(probe)}>: Relay access denied", probe
    assert c.cmd("DATA") == "554 5.5.1 Error: no valid recipients"
    c.close()
    inst.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 454 4\.7\.1 "
                  r"<user@remote\.example>: Relay access denied; from=<spammer@c\.example\.org> "
                  r"to=<user@remote\.example> proto=ESMTP helo=<client\.example\.org>\n")
    c = connect(ports["relay_reject"])
    c.ehlo()
    assert c.cmd("MAIL FROM:<spammer@c.example.org>") == "250 2.1.0 Ok"
    for probe in PROBES:
        assert c.cmd(f"RCPT TO:<{probe}>") == \
            f"554 5.7.1 <{expected_name(probe)}>: Relay access denied", probe
    c.close()


def test_relay_from_mynetworks(inst):
    c = connect(inst.smtp_port, INSIDER)
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"
    for probe in PROBES:
        assert c.cmd(f"RCPT TO:<{probe}>") == "250 2.1.5 Ok", probe
    c.close()


# Probes and protocol abuse -------------------------------------------------

def test_http_and_proxy_probes(inst):
    inst.mark_log()
    for line in ("GET / HTTP/1.0", "POST /x HTTP/1.1", "CONNECT mx.example.test:25 HTTP/1.1",
                 "Host: mx.example.test", "User-Agent: scanner", "get / http/1.0"):
        c = connect(inst.smtp_port)
        assert c.cmd(line) == "221 2.7.0 Error: I can break rules, too. Goodbye.", line
        assert c.at_eof()
    inst.wait_log(r"warning: non-SMTP command from localhost\[127\.0\.0\.1\]: CONNECT "
                  r"mx\.example\.test:25 HTTP/1\.1\n")
    still_serves(inst.smtp_port)


def test_talk_before_the_greeting(inst, ports):
    inst.mark_log()
    holder = connect(ports["single"])              # the only smtpd process is busy
    early = SmtpClient(ports["single"], greet=False)
    early.send(b"EHLO early.example\r\n")           # sent before any greeting
    holder.cmd("QUIT")
    holder.close()
    assert early.reply() == "554 5.5.0 Error: SMTP protocol synchronization"
    assert early.at_eof()
    inst.wait_log(r"improper command pipelining after CONNECT from localhost\[127\.0\.0\.1\]: "
                  r"EHLO early\.example\\r\\n\n")
    still_serves(ports["single"])


def test_pipelining_without_esmtp(inst):
    inst.mark_log()
    c = connect(inst.smtp_port)
    c.send(b"HELO bot.example\r\nMAIL FROM:<a@c.example.org>\r\n")
    assert c.reply() == "554 5.5.0 Error: SMTP protocol synchronization"
    assert c.at_eof()
    inst.wait_log(r"improper command pipelining after HELO from localhost\[127\.0\.0\.1\]: "
                  r"MAIL FROM:<a@c\.example\.org>\\r\\n\n")
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] helo=0/1 commands=0/1\n")
    c = connect(inst.smtp_port)
    c.ehlo()
    c.send(b"DATA\r\nSubject: spam\r\n\r\n.\r\n")
    assert c.reply() == "554 5.5.0 Error: SMTP protocol synchronization"
    assert c.at_eof()
    still_serves(inst.smtp_port)


def test_esmtp_pipelining_is_allowed(inst):
    c = connect(inst.smtp_port)
    c.ehlo()
    c.send(b"MAIL FROM:<a@c.example.org>\r\nRCPT TO:<alice@example.test>\r\n"
           b"RCPT TO:<bob@example.test>\r\nDATA\r\n")
    assert [c.reply() for _ in range(4)] == ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
                                             "354 End data with <CR><LF>.<CR><LF>"]
    c.send(b"Subject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n")
    assert c.reply().startswith("250 2.0.0 Ok: queued as ")
    assert c.reply() == "221 2.0.0 Bye"
    c.close()


def test_reject_unauth_pipelining(inst, ports):
    c = connect(ports["lenient"])
    c.ehlo()
    c.send(b"MAIL FROM:<a@c.example.org>\r\nRCPT TO:<alice@example.test>\r\n"
           b"DATA\r\nSubject: spam\r\n\r\n.\r\n")
    assert [c.reply() for _ in range(3)] == [
        "250 2.1.0 Ok", "250 2.1.5 Ok",
        "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining"]
    c.close()


# Slow clients --------------------------------------------------------------

def test_idle_client_times_out(inst, ports):
    inst.mark_log()
    c = connect(ports["slow"])
    start = time.monotonic()
    assert c.line() == "421 4.4.2 mx.example.test Error: timeout exceeded"
    assert 1.5 < time.monotonic() - start < 6
    assert c.at_eof()
    inst.wait_log(r"timeout after CONNECT from localhost\[127\.0\.0\.1\]\n")


def test_byte_at_a_time_client_times_out(inst, ports):
    inst.mark_log()
    c = connect(ports["slow"])
    start = time.monotonic()
    c.sock.settimeout(0.4)
    got = b""
    for byte in b"NOOPNOOPNOOPNOOPNOOPNOOP":
        try:
            c.send(bytes([byte]))
            got += c.sock.recv(1000)
        except (TimeoutError, OSError):
            pass
        if got.endswith(b"\r\n"):
            break
    assert got == b"421 4.4.2 mx.example.test Error: timeout exceeded\r\n"
    assert 1.5 < time.monotonic() - start < 6
    inst.wait_log(r"timeout after CONNECT from localhost\[127\.0\.0\.1\]\n")
    still_serves(ports["slow"])


def test_slow_data_times_out(inst, ports):
    inst.mark_log()
    c = connect(ports["slow"])
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.cmd("DATA").startswith("354")
    c.send(b"Subject: slow\r\n")
    assert c.line() == "421 4.4.2 mx.example.test Error: timeout exceeded"
    inst.wait_log(r"timeout after DATA \(15 bytes\) from localhost\[127\.0\.0\.1\]\n")


# Oversize input and bounded memory -------------------------------------------

def test_100k_command_line(inst):
    inst.mark_log()
    c = connect(inst.smtp_port)
    c.send(b"NOOP" + b"x" * 100_000 + b"\r\n")
    assert c.reply() == "500 5.5.2 Error: command not recognized"
    c.send(b"EHLO " + b"y" * 100_000 + b"\r\n")
    assert c.reply().startswith("250-mx.example.test")
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    inst.wait_log(r"warning: localhost\[127\.0\.0\.1\]: request longer than 2048: "
                  r"NOOPx{26}\.\.\.\n")
    pid = serving_pid(inst, c)
    before = rss_kib(pid)
    sender = c.send_in_background(b"NOOP" + b"z" * (20 * 1024 * 1024) + b"\r\n")
    peak = sample_rss_while(pid, sender)
    assert c.reply() == "500 5.5.2 Error: command not recognized"
    assert peak - before < 4 * 1024, (before, peak)   # a 20 MB line, under 4 MB more memory
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


def test_nul_bytes(inst):
    c = connect(inst.smtp_port)
    c.ehlo()
    assert c.cmd(b"NOOP \x00 hidden") == "250 2.0.0 Ok"
    assert c.cmd(b"\x00\x00\x00") == "500 5.5.2 Error: bad syntax"
    assert c.cmd(b"MAIL FROM:<a\x00@c.example.org>") == "501 5.1.7 Bad sender address syntax"
    qid = queue_id(message(c, "a@c.example.org", ["alice@example.test"],
                           b"Subject: nul\r\n\r\nbefore\x00after\r\n.\r\n"))
    assert qid
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


def sample_rss_while(pid, thread):
    peak = rss_kib(pid)
    while thread.is_alive():
        peak = max(peak, rss_kib(pid))
        time.sleep(0.01)
    return max(peak, rss_kib(pid))


def test_50mb_data_line_without_crlf(inst):
    inst.mark_log()
    c = connect(inst.smtp_port)
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.cmd("DATA").startswith("354")
    pid = serving_pid(inst, c)
    before = rss_kib(pid)
    sender = c.send_in_background(b"Subject: huge\r\n\r\n" + b"x" * (50 * 1024 * 1024)
                                  + b"\r\n.\r\n")
    peak = sample_rss_while(pid, sender)
    assert c.reply() == "552 5.3.4 Error: message file too big"
    assert peak - before < 8 * 1024, (before, peak)   # 50 MB in, under 8 MB more memory
    inst.wait_log(r"warning: NOQUEUE: queue file size limit exceeded\n|warning: [0-9A-F]+: "
                  r"queue file size limit exceeded\n")
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


def test_10000_pipelined_recipients(inst):
    c = connect(inst.smtp_port, INSIDER)
    c.ehlo()
    pid = serving_pid(inst, c)
    before = rss_kib(pid)
    flood = b"MAIL FROM:<a@example.test>\r\n" + b"".join(
        b"RCPT TO:<user%d@remote.example>\r\n" % i for i in range(10_000))
    sender = c.send_in_background(flood)
    assert c.reply() == "250 2.1.0 Ok"
    replies = []
    while True:
        try:
            replies.append(c.reply())
        except EOFError:
            break
        if replies[-1].startswith("421"):
            break
    sender.join(30)
    assert replies[:1000] == ["250 2.1.5 Ok"] * 1000
    # 1000 over the limit are refused without counting as errors, then 20 errors end it
    assert replies[1000:2020] == ["452 4.5.3 Error: too many recipients"] * 1020
    assert replies[2020:] == ["421 4.7.0 mx.example.test Error: too many errors"]
    assert rss_kib(pid) - before < 8 * 1024 or not os.path.exists(f"/proc/{pid}")
    still_serves(inst.smtp_port, INSIDER)


def test_thousands_of_header_lines(inst):
    c = connect(inst.smtp_port)
    c.ehlo()
    headers = b"".join(b"X-Header-%d: value\r\n\tcontinued\r\n" % i for i in range(5000))
    reply = message(c, "a@c.example.org", ["alice@example.test"],
                    headers + b"Subject: many\r\n\r\nbody\r\n.\r\n")
    assert reply.startswith("250 2.0.0 Ok: queued as ") or reply.startswith("552 "), reply
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()
