"""Interop: Debian's Postfix (a second instance on other ports, its own
directories) as the receiving server for Postern's smtp client, and as the
sending client into Postern's smtpd, through both whole chains."""
import os
import shutil
import smtplib
import subprocess

import pytest

from agent_request import Message, deliver
from conftest import SBIN, SCRATCH, free_port, port_open, run, wait_for
from mail_peers import DebianPostfix

POSTFIX = "/usr/sbin/postfix"


@pytest.fixture(scope="module")
def receiver():
    root = SCRATCH / f"debian-postfix-{os.getpid()}"
    shutil.rmtree(root, ignore_errors=True)
    for sub in ("etc", "spool", "data", "vmail"):
        (root / sub).mkdir(parents=True)
    os.chmod(root, 0o755)
    shutil.chown(root / "data", "postfix")
    os.chmod(root / "vmail", 0o1777)
    port = free_port()
    log = f"/var/log/postern-interop-{os.getpid()}.log"
    master = open("/usr/share/postfix/master.cf.dist").read()
    master = master.replace("\nsmtp      inet", f"\n127.0.0.1:{port} inet", 1)
    (root / "etc" / "master.cf").write_text(master)
    (root / "etc" / "main.cf").write_text(f"""compatibility_level = 3.6
queue_directory = {root}/spool
data_directory = {root}/data
maillog_file = {log}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = recv.example.test
mydestination =
mynetworks = 127.0.0.2/32
alias_maps =
alias_database =
virtual_mailbox_domains = recv.example.test
virtual_mailbox_base = {root}/vmail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
""")
    subprocess.run([POSTFIX, "-c", root / "etc", "start"], check=True, capture_output=True)
    wait_for(lambda: port_open(port), timeout=30, what="Debian Postfix smtpd")
    yield {"root": root, "port": port, "log": log}
    subprocess.run([POSTFIX, "-c", root / "etc", "stop"], capture_output=True)
    shutil.rmtree(root, ignore_errors=True)
    if os.path.exists(log):
        os.unlink(log)


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    inst = module_instance_factory("interop", main_cf={"smtp_helo_name": "postern.example.test"})
    inst.start()
    return inst


def received(receiver):
    new = receiver["root"] / "vmail" / "box" / "new"
    return [p.read_text() for p in new.iterdir()] if new.exists() else []


def test_postfix_receives_from_our_smtp_client(inst, receiver):
    inst.mark_log()
    msg = Message(inst, "sender@example.org", ["one@recv.example.test", "two@recv.example.test"],
                  body=["hello Postfix", ".dot line"])
    reply = deliver(msg, transport="smtp", nexthop=f"[127.0.0.1]:{receiver['port']}",
                    notify={"one@recv.example.test": 2})
    assert reply["status"] == "0"
    inst.wait_log(r"to=<one@recv\.example\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*"
                  r"dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as [0-9A-F]+\)")
    messages = wait_for(lambda: received(receiver), timeout=20, what="Postfix delivery")
    text = messages[0]
    assert "hello Postfix\n.dot line\n" in text
    assert "from postern.example.test (unknown [127.0.0.1])" in text
    log = open(receiver["log"]).read()
    assert "from=<sender@example.org>" in log
    # the server offered DSN and took NOTIFY=SUCCESS: no success notice of ours
    assert msg.status_log("trace") == []


def test_postfix_refusal_is_bounced_with_its_reply(inst, receiver):
    inst.mark_log()
    msg = Message(inst, "sender@example.org", ["someone@elsewhere.example"])
    reply = deliver(msg, transport="smtp", nexthop=f"[127.0.0.1]:{receiver['port']}")
    assert reply["status"] == "0"
    inst.wait_log(r"to=<someone@elsewhere\.example>, .*dsn=5\.7\.1, status=bounced \(host "
                  r"127\.0\.0\.1\[127\.0\.0\.1\] said: 554 5\.7\.1 <someone@elsewhere\.example>: "
                  r"Relay access denied \(in reply to RCPT TO command\)\)")


def test_our_whole_chain_into_postfix(make_instance, receiver):
    """sendmail -> pickup -> cleanup -> qmgr -> smtp -> Debian's smtpd -> its vmail."""
    inst = make_instance("interop-out", main_cf={
        "relayhost": f"[127.0.0.1]:{receiver['port']}",
        "smtp_helo_name": "postern.example.test"})
    inst.start()
    inst.mark_log()
    inst.command("sendmail", "-f", "sender@example.org", "box@recv.example.test",
                 input="Subject: out\n\nour-chain-into-postfix\n")
    inst.wait_log(r"postfix/smtp\[\d+\]: \w+: to=<box@recv\.example\.test>, .*status=sent "
                  r"\(250 2\.0\.0 Ok: queued as \w+\)", timeout=30)
    wait_for(lambda: any("our-chain-into-postfix" in m for m in received(receiver)),
             timeout=30, what="Postfix delivery")


def test_postfix_sends_into_our_smtpd(make_instance):
    """Debian's Postfix relays (its smtp client) to our smtpd -> cleanup -> qmgr -> local."""
    drop = SCRATCH / f"interop-drop-{os.getpid()}"
    shutil.rmtree(drop, ignore_errors=True)
    drop.mkdir(parents=True)
    os.chmod(drop, 0o1777)
    ours = make_instance("interop-in", main_cf={"mydestination": "mx.example.test"})
    (ours.config_dir / "aliases").write_text(f"interop: {drop}/interop.mbox\n")
    run([SBIN / "postalias", "-c", ours.config_dir, f"hash:{ours.config_dir}/aliases"])
    ours.start()
    debian = DebianPostfix("sender", main_cf=(
        f"relayhost = [127.0.0.1]:{ours.smtp_port}\nmynetworks = 127.0.0.0/8\n"
        "smtp_helo_name = sender.example.test\n"), listeners={"in": ""})
    try:
        debian.start()
        ours.mark_log()
        with smtplib.SMTP("127.0.0.1", debian.ports["in"], timeout=30) as client:
            client.sendmail("someone@example.org", ["interop@mx.example.test"],
                            "Subject: in\r\n\r\npostfix-into-our-smtpd\r\n")
        ours.wait_log(r"postfix/smtpd\[\d+\]: connect from localhost\[127\.0\.0\.1\]",
                      timeout=30)
        ours.wait_log(r"postfix/local\[\d+\]: \w+: to=<interop@mx\.example\.test>, "
                      r"relay=local, .*status=sent \(delivered to file: ", timeout=30)
        debian.wait_log("status=sent (250 2.0.0 Ok: queued as ")
        text = (drop / "interop.mbox").read_text()
        assert text.startswith("From someone@example.org  ")
        assert "postfix-into-our-smtpd" in text
        assert "Received: from sender.example.test (localhost [127.0.0.1])" in text
        assert "by recv.example.test (Postfix)" in text
    finally:
        debian.stop()
        shutil.rmtree(drop, ignore_errors=True)
