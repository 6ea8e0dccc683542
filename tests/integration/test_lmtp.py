"""lmtp(8) into Dovecot's LMTP server (Debian dovecot-lmtpd), started by the
test with its own configuration, over TCP (in plaintext and with STARTTLS,
the certificate from a test CA made here) and over a UNIX socket inside the
queue directory (the lmtp service is chrooted there)."""
import os
import shutil
import subprocess

import pytest

from agent_request import Message, deliver
from conftest import SCRATCH, free_port, port_open, wait_for
from fake_smtp import FakeSMTP
from mail_peers import CertAuthority

DOVECOT_CONF = """base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = lmtp
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
listen = 127.0.0.1
mail_location = maildir:{root}/mail/%n
first_valid_uid = 1
userdb {{
  driver = passwd-file
  args = username_format=%n {root}/users
}}
passdb {{
  driver = passwd-file
  args = username_format=%n {root}/users
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
  unix_listener {socket} {{
    mode = 0666
  }}
}}
"""


@pytest.fixture(scope="module")
def env(module_instance_factory):
    root = SCRATCH / f"dovecot-{os.getpid()}"
    shutil.rmtree(root, ignore_errors=True)
    (root / "mail").mkdir(parents=True)
    ca = CertAuthority(root / "ca")
    key, cert = ca.issue("lmtp", "lmtp.example.test", ["IP:127.0.0.1"])

    def master_edit(text):
        return text + ("lmtptls unix - - y - - lmtp\n"
                       "  -o lmtp_tls_security_level=verify -o lmtp_tls_loglevel=1\n"
                       f"  -o lmtp_tls_CAfile={ca.cert}\n"
                       "lmtpenc unix - - y - - lmtp\n  -o lmtp_tls_security_level=encrypt\n")
    port = free_port()
    transports = root / "transport"
    transports.write_text(f"lmtp.example.test lmtp:inet:127.0.0.1:{port}\n")
    inst = module_instance_factory("lmtp", main_cf={"mydestination": "mx.example.test",
                                                    "transport_maps": f"texthash:{transports}"},
                                   master_cf_edit=master_edit)
    inst.start()
    os.chmod(root, 0o755)
    os.chmod(root / "mail", 0o1777)
    users = "".join(f"{u}::65534:65534::{root}/mail/{u}::\n" for u in ("bob", "alice"))
    (root / "users").write_text(users)
    socket_path = inst.queue_dir / "private" / "dovecot-lmtp"
    (root / "dovecot.conf").write_text(DOVECOT_CONF.format(root=root, port=port,
                                                           socket=socket_path, cert=cert,
                                                           key=key))
    proc = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", str(root / "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(lambda: port_open(port) and socket_path.exists(), what="dovecot lmtp")
    yield {"inst": inst, "root": root, "port": port}
    proc.terminate()
    proc.wait(timeout=20)
    shutil.rmtree(root, ignore_errors=True)


def maildir_messages(env, user):
    new = env["root"] / "mail" / user / "new"
    return [p.read_text() for p in new.iterdir()] if new.exists() else []


def test_lmtp_delivery_into_dovecot_per_recipient_replies(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org",
                  ["bob@mx.example.test", "carol@mx.example.test", "alice@mx.example.test"],
                  body=["into dovecot"])
    reply = deliver(msg, transport="lmtp", nexthop=f"inet:127.0.0.1:{env['port']}")
    assert reply["status"] == "0"
    relay = rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{env['port']}"
    inst.wait_log(rf"to=<bob@mx\.example\.test>, {relay}, .*dsn=2\.0\.0, "
                  r"status=sent \(250 2\.0\.0 <bob@mx\.example\.test> \S+ Saved\)")
    inst.wait_log(rf"to=<alice@mx\.example\.test>, {relay}, .*status=sent")
    inst.wait_log(rf"to=<carol@mx\.example\.test>, {relay}, .*dsn=5\.1\.1, status=bounced "
                  r"\(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 "
                  r"<carol@mx\.example\.test> User doesn't exist")
    assert msg.record_types() == ["D", "D", "D"]
    assert any("into dovecot" in m for m in maildir_messages(env, "bob"))
    assert any("into dovecot" in m for m in maildir_messages(env, "alice"))


def test_lmtp_through_the_whole_chain(env):
    """sendmail -> pickup -> cleanup -> qmgr -> lmtp (transport_maps) -> Dovecot."""
    inst = env["inst"]
    inst.mark_log()
    inst.command("sendmail", "-f", "sender@example.org", "alice@lmtp.example.test",
                 input="Subject: lmtp chain\n\nlmtp-whole-chain\n")
    inst.wait_log(rf"postfix/lmtp\[\d+\]: \w+: to=<alice@lmtp\.example\.test>, "
                  rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{env['port']}, .*status=sent "
                  r"\(250 2\.0\.0 <alice@lmtp\.example\.test> \S+ Saved\)", timeout=30)
    wait_for(lambda: any("lmtp-whole-chain" in m for m in maildir_messages(env, "alice")),
             what="the message in Dovecot's Maildir")


def test_lmtp_over_unix_socket(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", ["bob@mx.example.test"], body=["over unix"])
    reply = deliver(msg, transport="lmtp", nexthop="unix:private/dovecot-lmtp")
    assert reply["status"] == "0"
    inst.wait_log(r"to=<bob@mx\.example\.test>, relay=private/dovecot-lmtp\[private/dovecot-lmtp\]"
                  r", .*status=sent \(250 2\.0\.0 <bob@mx\.example\.test>")
    assert any("over unix" in m for m in maildir_messages(env, "bob"))


def test_lmtp_server_down_is_deferred(env):
    inst = env["inst"]
    inst.mark_log()
    port = free_port()
    msg = Message(inst, "sender@example.org", ["bob@mx.example.test"])
    reply = deliver(msg, transport="lmtp", nexthop=f"inet:127.0.0.1:{port}")
    assert reply["status"] == "1"
    inst.wait_log(rf"status=deferred \(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:{port}: "
                  r"Connection refused\)")


def test_lmtp_starttls_at_level_verify(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", ["alice@mx.example.test"], body=["lmtp over tls"])
    reply = deliver(msg, transport="lmtptls", nexthop=f"inet:127.0.0.1:{env['port']}")
    assert reply["status"] == "0"
    inst.wait_log(rf"lmtp\[\d+\]: Verified TLS connection established to 127\.0\.0\.1"
                  rf"\[127\.0\.0\.1\]:{env['port']}: TLSv1\.3 with cipher")
    inst.wait_log(r"to=<alice@mx\.example\.test>, .*status=sent \(250 2\.0\.0 "
                  r"<alice@mx\.example\.test>")
    assert any("lmtp over tls" in m for m in maildir_messages(env, "alice"))


def test_lmtp_encrypt_refuses_a_server_without_starttls(env):
    inst = env["inst"]
    server = FakeSMTP(lmtp=True, ehlo=["PIPELINING", "8BITMIME"])
    try:
        inst.mark_log()
        msg = Message(inst, "sender@example.org", ["bob@mx.example.test"], body=["not in clear"])
        reply = deliver(msg, transport="lmtpenc", nexthop=f"inet:127.0.0.1:{server.port}")
        assert reply["status"] == "1"
        inst.wait_log(r"to=<bob@mx\.example\.test>, .*dsn=4\.7\.4, status=deferred \(TLS is "
                      r"required, but was not offered by host 127\.0\.0\.1\[127\.0\.0\.1\]\)")
        assert not any(c.startswith("MAIL") for s in server.sessions for c in s.commands)
    finally:
        server.close()
