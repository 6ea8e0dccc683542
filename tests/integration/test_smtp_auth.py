"""smtp(8) client AUTH (PLAIN, LOGIN) against a real server: Debian's Postfix
3.7 smtpd with Dovecot's authentication server behind it (smtpd_sasl_type =
dovecot, a passwd-file of test users), both started here with their own
directories; the Postfix relay accepts mail only from authenticated clients.
A scripted server plays the hostile or broken peer.

Most tests play qmgr (agent_request.deliver) to reach one transport with its
own -o settings; test_relayhost_tls_and_auth_whole_chain goes through
sendmail, pickup, cleanup, qmgr and smtp."""
import os
import re
import shutil
import time

import pytest

from agent_request import Message, deliver
from conftest import SCRATCH, wait_for
from fake_smtp import FakeSMTP
from mail_peers import CertAuthority, DebianPostfix, Dnsmasq, DovecotAuth

NAMES = ("auth.example.test", "bad.example.test")


@pytest.fixture(scope="module")
def env(module_instance_factory):
    scratch = SCRATCH / f"smtpauth-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    os.chmod(scratch, 0o755)
    ca = CertAuthority(scratch / "ca")
    key, cert = ca.issue("auth", "auth.example.test", ["DNS:auth.example.test"])
    dns = Dnsmasq(hosts=[(name, "127.0.0.1") for name in NAMES])
    debian = DebianPostfix("auth", main_cf=(
        "smtpd_tls_security_level = may\n"
        f"smtpd_tls_cert_file = {cert}\nsmtpd_tls_key_file = {key}\n"
        "smtpd_sasl_auth_enable = yes\nsmtpd_sasl_type = dovecot\n"
        "smtpd_sasl_path = private/auth\n"
        "smtpd_recipient_restrictions = permit_sasl_authenticated, reject\n"),
        listeners={"tlsonly": "-o smtpd_tls_auth_only=yes",
                   "clear": "-o smtpd_tls_security_level=none"})
    debian.start()
    dovecot = DovecotAuth("smtpauth", debian.root / "spool" / "private" / "auth",
                          {"alice": "secret1", "bob": "hunter2 with spaces"})
    ports = debian.ports
    hostile = FakeSMTP(ehlo=["PIPELINING", "AUTH LOGIN"],
                       replies={"AUTH": b"334 not*base64\r\n",
                                "*": b"501 5.7.0 Authentication aborted\r\n"})
    passwords = scratch / "sasl_passwd"
    passwords.write_text(
        f"[127.0.0.1]:{ports['tlsonly']} alice:secret1\n"
        f"[127.0.0.1]:{ports['clear']} bob:hunter2 with spaces\n"
        "bad.example.test alice:wrong\n"
        f"[bad.example.test]:{ports['tlsonly']} alice:secret1\n"
        f"[auth.example.test]:{ports['tlsonly']} bob:hunter2 with spaces\n"
        f"[127.0.0.1]:{hostile.port} alice:secret1\n")

    def service(name, *settings):
        common = ("smtp_sasl_auth_enable=yes", f"smtp_sasl_password_maps=texthash:{passwords}",
                  "smtp_sasl_tls_security_options=noanonymous")
        return (f"{name} unix - - y - - smtp\n"
                + "".join(f"  -o {s}\n" for s in common + settings))

    def master_edit(text):
        return text + "".join([
            service("authmay", "smtp_tls_security_level=may"),
            service("authlogin", "smtp_tls_security_level=may", "smtp_sasl_mechanism_filter=login"),
            service("authnone", "smtp_tls_security_level=none"),
            service("authclear", "smtp_tls_security_level=none",
                    "smtp_sasl_security_options=noanonymous"),
            service("authhard", "smtp_tls_security_level=may", "smtp_sasl_auth_soft_bounce=no"),
            "authoff unix - - y - - smtp\n  -o smtp_tls_security_level=may\n",
        ])
    inst = module_instance_factory("smtpauth", main_cf={
        "smtp_helo_name": "postern.example.test",
        "smtp_tls_CAfile": ca.cert,
        "inet_protocols": "ipv4",
    }, master_cf_edit=master_edit)
    inst.start()
    dns.point(inst)
    wait_for(lambda: inst.daemon_pids("qmgr"), what="qmgr")
    time.sleep(1)
    yield {"inst": inst, "debian": debian, "ports": ports, "ca": ca, "dns": dns,
           "passwords": passwords, "hostile": hostile}
    if os.environ.get("SHOWLOG"):
        print(inst.log()[-int(os.environ["SHOWLOG"]):])
        print(debian.log()[-int(os.environ["SHOWLOG"]):])
    hostile.close()
    dovecot.stop()
    debian.stop()
    dns.stop()
    shutil.rmtree(scratch, ignore_errors=True)


def send(env, transport, nexthop, marker):
    msg = Message(env["inst"], "sender@example.org", ["box@recv.example.test"], body=[marker])
    reply = deliver(msg, transport=transport, nexthop=nexthop)
    assert reply["status"] in ("0", "1"), reply
    return msg


def hop(env, label, name="127.0.0.1"):
    return f"[{name}]:{env['ports'][label]}"


def sasl_log(debian, label, user, method):
    return re.search(rf"postfix-{label}/smtpd\[\d+\]: \w+: client=unknown\[127\.0\.0\.1\], "
                     rf"sasl_method={method}, sasl_username={user}", debian.log())


def test_plain_after_starttls_relays(env):
    inst, debian = env["inst"], env["debian"]
    inst.mark_log()
    msg = send(env, "authmay", hop(env, "tlsonly"), "auth-plain")
    inst.wait_log(rf"{msg.queue_id}: to=<box@recv\.example\.test>, relay=127\.0\.0\.1"
                  r"\[127\.0\.0\.1\]:\d+, .*status=sent \(250 2\.0\.0 Ok: queued as \w+\)")
    debian.wait_message("auth-plain")
    wait_for(lambda: sasl_log(debian, "tlsonly", "alice", "PLAIN"), what="PLAIN in Postfix's log")


def test_login_mechanism(env):
    inst, debian = env["inst"], env["debian"]
    inst.mark_log()
    msg = send(env, "authlogin", hop(env, "tlsonly"), "auth-login")
    inst.wait_log(rf"{msg.queue_id}: .*status=sent")
    debian.wait_message("auth-login")
    wait_for(lambda: sasl_log(debian, "tlsonly", "alice", "LOGIN"), what="LOGIN in Postfix's log")


def test_no_password_in_clear_by_default(env):
    inst, debian = env["inst"], env["debian"]
    inst.mark_log()
    msg = send(env, "authnone", hop(env, "clear"), "auth-clear-refused")
    inst.wait_log(rf"{msg.queue_id}: to=<box@recv\.example\.test>, .*dsn=4\.7\.0, "
                  r"status=deferred \(SASL authentication failed; cannot authenticate to server "
                  r"127\.0\.0\.1\[127\.0\.0\.1\]: no mechanism available\)")
    assert msg.record_types() == ["R"]
    assert not sasl_log(debian, "clear", "bob", "PLAIN")


def test_password_in_clear_when_the_options_allow(env):
    inst, debian = env["inst"], env["debian"]
    inst.mark_log()
    msg = send(env, "authclear", hop(env, "clear"), "auth-clear-allowed")
    inst.wait_log(rf"{msg.queue_id}: .*status=sent")
    debian.wait_message("auth-clear-allowed")
    wait_for(lambda: sasl_log(debian, "clear", "bob", "PLAIN"), what="bob's PLAIN login")


def test_without_starttls_the_server_offers_no_auth_and_refuses(env):
    """Level none against a server that offers AUTH only under TLS: the
    client does not authenticate, and the relay's refusal bounces."""
    inst = env["inst"]
    inst.mark_log()
    msg = send(env, "authnone", hop(env, "tlsonly"), "auth-not-offered")
    inst.wait_log(rf"{msg.queue_id}: .*dsn=5\.7\.1, status=bounced \(host 127\.0\.0\.1"
                  r"\[127\.0\.0\.1\] said: 554 5\.7\.1 <box@recv\.example\.test>: Recipient "
                  r"address rejected: Access denied \(in reply to RCPT TO command\)\)")


def test_wrong_password_defers_with_the_servers_reply(env):
    inst, debian = env["inst"], env["debian"]
    inst.mark_log()
    port = env["ports"]["tlsonly"]
    # the host name entry (wrong password) wins over the next-hop entry, as in Postfix
    msg = send(env, "authmay", hop(env, "tlsonly", "bad.example.test"), "auth-wrong")
    inst.wait_log(rf"{msg.queue_id}: to=<box@recv\.example\.test>, relay=bad\.example\.test"
                  rf"\[127\.0\.0\.1\]:{port}, .*dsn=4\.7\.8, status=deferred \(SASL "
                  r"authentication failed; server bad\.example\.test\[127\.0\.0\.1\] said: 535 "
                  r"5\.7\.8 Error: authentication failed: \S.*\)")
    assert msg.record_types() == ["R"]
    assert not [m for m in debian.messages() if "auth-wrong" in m]
    assert "secret1" not in inst.log() and "hunter2" not in inst.log()


def test_wrong_password_bounces_without_soft_bounce(env):
    inst = env["inst"]
    inst.mark_log()
    msg = send(env, "authhard", hop(env, "tlsonly", "bad.example.test"), "auth-hard")
    inst.wait_log(rf"{msg.queue_id}: .*dsn=5\.7\.8, status=bounced \(SASL authentication "
                  r"failed; server bad\.example\.test\[127\.0\.0\.1\] said: 535 5\.7\.8 Error: "
                  r"authentication failed")
    assert msg.record_types() == ["D"]


def test_auth_disabled_sends_no_credentials(env):
    inst = env["inst"]
    inst.mark_log()
    msg = send(env, "authoff", hop(env, "tlsonly"), "auth-off")
    inst.wait_log(rf"{msg.queue_id}: .*status=bounced .*Recipient address rejected: "
                  r"Access denied")


def test_malformed_challenge_is_cancelled(env):
    inst, server = env["inst"], env["hostile"]
    inst.mark_log()
    msg = send(env, "authclear", f"[127.0.0.1]:{server.port}", "bad-challenge")
    inst.wait_log(rf"{msg.queue_id}: .*dsn=4\.7\.0, status=deferred \(SASL authentication "
                  r"failed; cannot authenticate to server 127\.0\.0\.1\[127\.0\.0\.1\]: ")
    commands = server.sessions[-1].commands
    assert commands[1:3] == ["AUTH LOGIN", "*"], commands
    assert not any(c.startswith("MAIL") for c in commands)
    # a broken peer does not stop the client: the next request is served
    msg = send(env, "authmay", hop(env, "tlsonly"), "after-bad-challenge")
    inst.wait_log(rf"{msg.queue_id}: .*status=sent")


def test_relayhost_tls_and_auth_whole_chain(make_instance, env):
    """sendmail -> pickup -> cleanup -> qmgr -> smtp: STARTTLS at level verify,
    then AUTH PLAIN with credentials for the relayhost."""
    debian, ca = env["debian"], env["ca"]
    relay = hop(env, "tlsonly", "auth.example.test")
    inst = make_instance("authchain", main_cf={
        "relayhost": relay, "smtp_tls_security_level": "verify",
        "smtp_tls_CAfile": ca.cert, "smtp_tls_loglevel": "1", "inet_protocols": "ipv4",
        "smtp_sasl_auth_enable": "yes",
        "smtp_sasl_password_maps": f"texthash:{env['passwords']}",
        "smtp_sasl_tls_verified_security_options": "noanonymous"})
    inst.start()
    env["dns"].point(inst)
    inst.mark_log()
    inst.command("sendmail", "-f", "sender@example.org", "box@recv.example.test",
                 input="Subject: chain\n\nauth-whole-chain\n")
    inst.wait_log(r"Verified TLS connection established to auth\.example\.test\[127\.0\.0\.1\]",
                  timeout=30)
    inst.wait_log(r"to=<box@recv\.example\.test>, relay=auth\.example\.test\[127\.0\.0\.1\]:\d+, "
                  r".*status=sent", timeout=30)
    debian.wait_message("auth-whole-chain")
    wait_for(lambda: sasl_log(debian, "tlsonly", "bob", "PLAIN"), what="bob's login")
