"""smtp(8) through the documented delivery-agent protocol, playing qmgr,
against smtp-sink and a scripted server (fake_smtp.py) that replies as the
test tells it, hostile replies included."""
import os
import re
import shutil
import subprocess
import time

import pytest

import attrproto

from agent_request import Message, deliver
from conftest import SCRATCH, free_port, port_open, wait_for
from fake_smtp import FakeSMTP

DOMAIN = "mx.example.test"


@pytest.fixture(scope="module")
def env(module_instance_factory):
    scratch = SCRATCH / f"smtp-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    os.chmod(scratch, 0o755)
    generic = scratch / "generic"
    generic.write_text("sender@example.org public@example.net\n"
                       "inside@example.org outside@example.net\n")
    checks = scratch / "header_checks"
    checks.write_text("/^X-Secret:/ IGNORE\n"
                      "/^Subject: replace me/ REPLACE Subject: replaced\n"
                      "/^X-Mark:/ PREPEND X-Added: yes\n")
    good = FakeSMTP()
    sink_dump = scratch / "sink"
    sink_dump.mkdir()
    os.chmod(sink_dump, 0o1777)
    sink_port = free_port()
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody", "-d", f"{sink_dump}/%M.",
                             f"127.0.0.1:{sink_port}", "10"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def master_edit(text):
        return text + (
            "smtpshort unix  -       -       y       -       -       smtp\n"
            "  -o smtp_mail_timeout=3s -o smtp_rcpt_timeout=3s -o smtp_helo_timeout=3s\n"
            "  -o smtp_data_done_timeout=2s\n"
            "smtpreuse unix  -       -       y       -       1       smtp\n"
            "smtpfb    unix  -       -       y       -       -       smtp\n"
            f"  -o smtp_fallback_relay=[127.0.0.1]:{good.port}\n"
            "smtpgen   unix  -       -       y       -       -       smtp\n"
            f"  -o smtp_generic_maps=texthash:{generic}\n"
            f"  -o smtp_header_checks=regexp:{checks}\n")
    inst = module_instance_factory("smtp", main_cf={
        "mydestination": DOMAIN,
        "smtp_helo_name": "client.example.test",
        "relayhost": f"[127.0.0.1]:{sink_port}",
    }, master_cf_edit=master_edit)
    inst.start()
    wait_for(lambda: port_open(sink_port), what="smtp-sink")
    yield {"inst": inst, "scratch": scratch, "good": good, "sink": (sink_port, sink_dump)}
    sink.kill()
    sink.wait()
    if os.environ.get("SHOWLOG"):
        print(inst.log()[-int(os.environ["SHOWLOG"]):])
    good.close()
    shutil.rmtree(scratch, ignore_errors=True)


def hop(server):
    return f"[127.0.0.1]:{server.port}"


def resolve(inst, address):
    """Asks trivial-rewrite where an address goes, as qmgr does."""
    chan = attrproto.Channel(inst.queue_dir / "private" / "rewrite")
    try:
        chan.send([("request", "resolve"), ("sender", ""), ("address", address)])
        return chan.receive()
    finally:
        chan.close()


def test_relay_to_smtp_sink(env):
    inst = env["inst"]
    port, dump = env["sink"]
    inst.mark_log()
    route = resolve(inst, "one@remote.example")
    assert (route["transport"], route["nexthop"]) == ("smtp", f"[127.0.0.1]:{port}")
    msg = Message(inst, "sender@example.org", ["one@remote.example", "two@remote.example"],
                  body=["relayed through the sink"])
    reply = deliver(msg, transport=route["transport"], nexthop=route["nexthop"])
    assert reply["status"] == "0"
    for rcpt in ("one", "two"):
        inst.wait_log(rf"{msg.queue_id}: to=<{rcpt}@remote\.example>, "
                      rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port}, delay=[\d.]+, "
                      r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok\)")
    assert msg.record_types() == ["D", "D"]
    dumps = wait_for(lambda: [p for p in dump.iterdir() if p.stat().st_size], what="dump")
    text = dumps[0].read_text()
    assert "X-Rcpt-Args: <one@remote.example>" in text
    assert "X-Rcpt-Args: <two@remote.example>" in text
    assert "X-Helo-Args: client.example.test" in text
    assert "relayed through the sink" in text


def test_relayhost_through_the_whole_chain(env):
    """sendmail -> pickup -> cleanup -> qmgr -> smtp -> relayhost (smtp-sink)."""
    inst = env["inst"]
    port, dump = env["sink"]
    inst.mark_log()
    inst.command("sendmail", "-f", "sender@example.org", "far@remote.example",
                 input="Subject: relay chain\n\nrelay-whole-chain\n")
    match = inst.wait_log(rf"postfix/smtp\[\d+\]: (\w+): to=<far@remote\.example>, "
                          rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port}, .*status=sent",
                          timeout=30)
    inst.wait_log(rf"{match.group(1)}: removed")
    wait_for(lambda: [p for p in dump.iterdir() if p.stat().st_size
                      and "relay-whole-chain" in p.read_text(errors="replace")],
             what="the message at the sink")


def test_pipelined_envelope_with_esmtp_parameters(env):
    inst = env["inst"]
    server = FakeSMTP()
    try:
        msg = Message(inst, "sender@example.org", ["a@remote.example", "b@remote.example"],
                      body=[".leading dot", "end"])
        reply = deliver(msg, transport="smtp", nexthop=hop(server),
                        notify={"a@remote.example": 2 | 8},
                        orig={"b@remote.example": "b-orig@example.org"},
                        encoding="8bitmime", envid="ENV+ID", ret=2)
        assert reply["status"] == "0"
        session = server.sessions[0]
        mail = next(c for c in session.commands if c.startswith("MAIL"))
        assert mail == (f"MAIL FROM:<sender@example.org> SIZE={msg.size} BODY=8BITMIME "
                        "RET=HDRS ENVID=ENV+2BID")
        rcpts = [c for c in session.commands if c.startswith("RCPT")]
        assert rcpts == ["RCPT TO:<a@remote.example> NOTIFY=SUCCESS,FAILURE",
                         "RCPT TO:<b@remote.example> ORCPT=rfc822;b-orig@example.org"]
        assert any(batch[:4] == [mail] + rcpts + ["DATA"] for batch in session.batches)
        assert b"\r\n..leading dot\r\nend\r\n" in session.messages[0]
        assert session.commands[0] == "EHLO client.example.test"
    finally:
        server.close()


def test_no_pipelining_sends_one_command_at_a_time(env):
    inst = env["inst"]
    server = FakeSMTP(ehlo=["8BITMIME"])
    try:
        msg = Message(inst, "sender@example.org", ["a@remote.example"])
        assert deliver(msg, transport="smtp", nexthop=hop(server))["status"] == "0"
        session = server.sessions[0]
        assert all(len(batch) == 1 for batch in session.batches)
        assert "SIZE=" not in next(c for c in session.commands if c.startswith("MAIL"))
    finally:
        server.close()


def test_rcpt_replies_bounce_defer_and_send(env):
    inst = env["inst"]

    def rcpt(line):
        if "hard" in line:
            return b"550 5.1.1 <hard@remote.example>: Recipient address rejected\r\n"
        if "soft" in line:
            return b"450 4.2.1 <soft@remote.example>: try later\r\n"
        return b"250 2.1.5 Ok\r\n"
    server = FakeSMTP(replies={"RCPT": rcpt})
    try:
        inst.mark_log()
        msg = Message(inst, "sender@example.org",
                      ["hard@remote.example", "soft@remote.example", "ok@remote.example"])
        assert deliver(msg, transport="smtp", nexthop=hop(server))["status"] == "1"
        inst.wait_log(r"to=<hard@remote\.example>, .*dsn=5\.1\.1, status=bounced \(host "
                      r"127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 <hard@remote\.example>: "
                      r"Recipient address rejected \(in reply to RCPT TO command\)\)")
        inst.wait_log(r"to=<soft@remote\.example>, .*dsn=4\.2\.1, status=deferred \(host "
                      r"127\.0\.0\.1\[127\.0\.0\.1\] said: 450 4\.2\.1")
        inst.wait_log(r"to=<ok@remote\.example>, .*status=sent \(250 2\.0\.0 Ok: queued as FAKE1\)")
        assert msg.record_types() == ["D", "R", "D"]
        bounce = msg.status_log("bounce")[0]
        assert bounce["diag_type"] == "smtp"
        assert bounce["diag_text"].startswith("550 5.1.1")
        assert bounce["mta_name"] == "127.0.0.1"
    finally:
        server.close()


def test_hostile_reply_text_is_sanitized(env):
    inst = env["inst"]
    evil = (b"550-5.7.1 first\x00line\r\n"
            b"550 5.7.1 bad\rInjected: header\x1b[31m\xff end\r\n")
    server = FakeSMTP(replies={"RCPT": evil})
    try:
        inst.mark_log()
        msg = Message(inst, "sender@example.org", ["x@remote.example"])
        assert deliver(msg, transport="smtp", nexthop=hop(server))["status"] == "0"
        match = inst.wait_log(r"to=<x@remote\.example>, .*status=bounced \((.*)\)\n")
        assert match.group(1) == ("host 127.0.0.1[127.0.0.1] said: 550-5.7.1 first?line "
                                  "550 5.7.1 bad?Injected: header?[31m? end "
                                  "(in reply to RCPT TO command)")
        diag = msg.status_log("bounce")[0]["diag_text"]
        assert "\r" not in diag and "\n" not in diag and "\x00" not in diag
    finally:
        server.close()


def test_overlong_reply_is_bounded(env):
    inst = env["inst"]
    server = FakeSMTP(replies={"RCPT": b"550 5.1.1 " + b"A" * 200000 + b"\r\n"})
    try:
        inst.mark_log()
        msg = Message(inst, "sender@example.org", ["long@remote.example"])
        assert deliver(msg, transport="smtp", nexthop=hop(server))["status"] == "0"
        match = inst.wait_log(r"to=<long@remote\.example>, .*status=bounced \((.*)\)\n")
        assert len(match.group(1)) < 2200
    finally:
        server.close()


def test_endless_multiline_reply_is_given_up(env):
    inst = env["inst"]
    server = FakeSMTP(replies={"MAIL": b"250-more\r\n" * 5000})
    try:
        inst.mark_log()
        msg = Message(inst, "sender@example.org", ["endless@remote.example"])
        assert deliver(msg, transport="smtpshort", nexthop=hop(server))["status"] == "1"
        inst.wait_log(r"to=<endless@remote\.example>, .*status=deferred \(protocol error: "
                      r"host 127\.0\.0\.1\[127\.0\.0\.1\] sent a reply with too many lines")
    finally:
        server.close()
    # the agent still serves
    msg = Message(inst, "sender@example.org", ["after@remote.example"])
    assert deliver(msg, transport="smtpshort", nexthop=hop(env["good"]))["status"] == "0"


def test_unterminated_reply_times_out(env):
    inst = env["inst"]
    server = FakeSMTP(ehlo=["8BITMIME"],
                      replies={"MAIL": b"250-partial\r\n250-and then nothing"})
    try:
        inst.mark_log()
        msg = Message(inst, "sender@example.org", ["stall@remote.example"])
        assert deliver(msg, transport="smtpshort", nexthop=hop(server))["status"] == "1"
        inst.wait_log(r"to=<stall@remote\.example>, .*status=deferred \(conversation with "
                      r"127\.0\.0\.1\[127\.0\.0\.1\] timed out while sending MAIL FROM\)")
    finally:
        server.close()


def test_no_reply_after_the_message_defers(env):
    inst = env["inst"]
    server = FakeSMTP(replies={"DOT": b""})
    try:
        inst.mark_log()
        msg = Message(inst, "sender@example.org", ["dot@remote.example"])
        assert deliver(msg, transport="smtpshort", nexthop=hop(server))["status"] == "1"
        inst.wait_log(r"to=<dot@remote\.example>, .*status=deferred \(conversation with "
                      r"127\.0\.0\.1\[127\.0\.0\.1\] timed out while sending end of data -- "
                      r"message may be sent more than once\)")
        assert msg.record_types() == ["R"]
    finally:
        server.close()


def test_size_limit_of_server_is_respected(env):
    inst = env["inst"]
    server = FakeSMTP(ehlo=["PIPELINING", "SIZE 10"])
    try:
        inst.mark_log()
        msg = Message(inst, "sender@example.org", ["big@remote.example"])
        assert deliver(msg, transport="smtp", nexthop=hop(server))["status"] == "0"
        inst.wait_log(rf"dsn=5\.3\.4, status=bounced \(message size {msg.size} exceeds size "
                      r"limit 10 of server 127\.0\.0\.1\[127\.0\.0\.1\]\)")
        assert not any(c.startswith("MAIL") for c in server.sessions[0].commands)
    finally:
        server.close()


def test_smtputf8_needs_server_support(env):
    inst = env["inst"]
    server = FakeSMTP(ehlo=["PIPELINING"])
    try:
        inst.mark_log()
        msg = Message(inst, "sender@example.org", ["utf8@remote.example"])
        assert deliver(msg, transport="smtp", nexthop=hop(server), smtputf8=1)["status"] == "0"
        inst.wait_log(r"dsn=5\.6\.7, status=bounced \(SMTPUTF8 is required, but was not "
                      r"offered by host 127\.0\.0\.1\[127\.0\.0\.1\]\)")
    finally:
        server.close()


def test_connection_is_reused_for_the_next_message(env):
    inst = env["inst"]
    server = FakeSMTP()
    try:
        inst.mark_log()
        first = Message(inst, "sender@example.org", ["r1@remote.example"])
        second = Message(inst, "sender@example.org", ["r2@remote.example"])
        # one process (maxproc 1), so the second request meets the cached session
        assert deliver(first, transport="smtpreuse", nexthop=hop(server))["status"] == "0"
        assert deliver(second, transport="smtpreuse", nexthop=hop(server))["status"] == "0"
        assert server.connections == 1
        assert len(server.sessions[0].messages) == 2
        inst.wait_log(rf"{second.queue_id}: to=<r2@remote\.example>, "
                      rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{server.port}, conn_use=2, ")
        # after smtp_connection_cache_time_limit the idle connection is closed
        wait_for(lambda: "QUIT" in server.sessions[0].commands, timeout=10, what="QUIT")
    finally:
        server.close()


def test_connection_refused_is_a_site_failure(env):
    inst = env["inst"]
    port = free_port()
    inst.mark_log()
    msg = Message(inst, "sender@example.org", ["nobody@remote.example"])
    reply = deliver(msg, transport="smtp", nexthop=f"[127.0.0.1]:{port}")
    assert reply["status"] == "1"
    assert reply["site_failure"] == "1"
    inst.wait_log(rf"to=<nobody@remote\.example>, relay=none, .*dsn=4\.4\.1, "
                  rf"status=deferred \(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:{port}: "
                  r"Connection refused\)")
    assert msg.record_types() == ["R"]
    assert "Connection refused" in msg.status_log("defer")[0]["reason"]


def test_fallback_relay_takes_over(env):
    inst = env["inst"]
    good = env["good"]
    before = sum(len(s.messages) for s in good.sessions)
    inst.mark_log()
    msg = Message(inst, "sender@example.org", ["fb@remote.example"])
    assert deliver(msg, transport="smtpfb", nexthop=f"[127.0.0.1]:{free_port()}")["status"] == "0"
    good.wait_messages(before + 1)
    inst.wait_log(rf"to=<fb@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{good.port}, "
                  r".*status=sent")


def test_greeting_refusal_moves_on(env):
    inst = env["inst"]
    server = FakeSMTP(greeting=b"554 5.3.2 go away\r\n")
    try:
        inst.mark_log()
        msg = Message(inst, "sender@example.org", ["greet@remote.example"])
        assert deliver(msg, transport="smtp", nexthop=hop(server))["status"] == "1"
        inst.wait_log(r"status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] refused to talk "
                      r"to me: 554 5\.3\.2 go away\)")
    finally:
        server.close()


def test_generic_maps_and_header_checks(env):
    inst = env["inst"]
    server = FakeSMTP()
    try:
        msg = Message(inst, "sender@example.org", ["dest@remote.example"],
                      headers=["From: Inside <inside@example.org>", "Subject: replace me",
                               "X-Secret: hidden", "X-Mark: 1", "To: dest@remote.example"],
                      body=["body"])
        assert deliver(msg, transport="smtpgen", nexthop=hop(server))["status"] == "0"
        session = server.sessions[0]
        assert any(c.startswith("MAIL FROM:<public@example.net>") for c in session.commands)
        data = session.messages[0].decode()
        assert "From: Inside <outside@example.net>\r\n" in data
        assert "Subject: replaced\r\n" in data
        assert "X-Secret" not in data
        assert "X-Added: yes\r\nX-Mark: 1\r\n" in data
    finally:
        server.close()


def test_long_lines_are_broken(env):
    inst = env["inst"]
    server = FakeSMTP()
    try:
        msg = Message(inst, "sender@example.org", ["long@remote.example"],
                      body=["x" * 2500])
        assert deliver(msg, transport="smtp", nexthop=hop(server))["status"] == "0"
        lines = server.sessions[0].messages[0].split(b"\r\n")
        assert max(len(l) for l in lines) <= 998
        assert b"".join(l for l in lines if l.startswith(b"x")) == b"x" * 2500
    finally:
        server.close()
