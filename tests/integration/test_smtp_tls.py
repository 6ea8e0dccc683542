"""smtp(8) client TLS against real peers: Debian's Postfix 3.7 smtpd (a second
instance with a certificate from a test CA made here with openssl) and a
scripted server for what Postfix will not do (strip STARTTLS, refuse it,
hang up in the handshake). Names come from a dnsmasq started by the test.

Most tests play qmgr (agent_request.deliver) to reach one transport with
its own -o settings; test_relayhost_verify_whole_chain goes through
sendmail, pickup, cleanup, qmgr and smtp."""
import os
import re
import shutil
import time

import pytest

from agent_request import Message, deliver
from conftest import SCRATCH, wait_for
from fake_smtp import FakeSMTP, Hangup
from mail_peers import DebianPostfix, Dnsmasq, CertAuthority

NAMES = ("recv.example.test", "wrong.example.test", "sni.example.test")


@pytest.fixture(scope="module")
def env(module_instance_factory):
    scratch = SCRATCH / f"smtptls-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    os.chmod(scratch, 0o755)
    ca = CertAuthority(scratch / "ca")
    other = CertAuthority(scratch / "other", "Other Test CA")
    srv_key, srv_cert = ca.issue("recv", "recv.example.test", ["DNS:recv.example.test"])
    sni_key, sni_cert = ca.issue("sni", "sni.example.test", ["DNS:sni.example.test"])
    cli_key, cli_cert = ca.issue("client", "client.example.test", ["DNS:client.example.test"],
                                 usage="clientAuth")
    dns = Dnsmasq(hosts=[(name, "127.0.0.1") for name in NAMES])
    debian = DebianPostfix("tls", main_cf=(
        "smtpd_tls_security_level = may\n"
        f"smtpd_tls_cert_file = {srv_cert}\nsmtpd_tls_key_file = {srv_key}\n"
        f"smtpd_tls_CAfile = {ca.cert}\n"
        "tls_server_sni_maps = hash:$config_directory/sni\n"),
        listeners={"tls": "", "plain": "-o smtpd_tls_security_level=none",
                   "ccert": "-o smtpd_tls_ask_ccert=yes",
                   "wrapper": "-o smtpd_tls_wrappermode=yes"})
    (debian.config / "sni").write_text(f"sni.example.test {sni_key} {sni_cert}\n")
    debian.postmap("-F", f"hash:{debian.config}/sni")
    debian.start()
    ports = debian.ports
    policy = scratch / "policy"
    policy.write_text(
        f"[127.0.0.1]:{ports['plain']} encrypt\n"
        f"[wrong.example.test]:{ports['tls']} verify match=recv.example.test\n"
        f"[127.0.0.1]:{ports['tls']} verify match=nomatch.example.test\n"
        f"[127.0.0.1]:{ports['ccert']} bogus\n"
        ".example.test secure\n")

    def service(name, *settings):
        return (f"{name} unix - - y - - smtp\n"
                + "".join(f"  -o {s}\n" for s in settings))

    def master_edit(text):
        # tlsmgr owns the client session cache the "tlscache" service uses
        text = re.sub(r"^(tlsmgr\s.*)$", r"\1\n  -o smtp_tls_session_cache_database="
                      r"btree:$data_directory/smtp_scache", text, count=1, flags=re.M)
        return text + "".join([
            service("tlsmay", "smtp_tls_security_level=may"),
            service("tlscache", "smtp_tls_security_level=may", "smtp_tls_loglevel=2",
                    "smtp_connection_reuse_count_limit=1",
                    "smtp_tls_session_cache_database=btree:$data_directory/smtp_scache"),
            service("tlsencrypt", "smtp_tls_security_level=encrypt"),
            service("tlsverify", "smtp_tls_security_level=verify"),
            service("tlsuntrusted", "smtp_tls_security_level=verify",
                    f"smtp_tls_CAfile={other.cert}"),
            service("tlssni", "smtp_tls_security_level=verify", "smtp_tls_servername=hostname"),
            service("tlspolicy", "smtp_tls_security_level=may",
                    f"smtp_tls_policy_maps=texthash:{policy}",
                    f"smtp_tcp_port={ports['tls']}"),
            service("tlsccert", "smtp_tls_security_level=encrypt",
                    f"smtp_tls_cert_file={cli_cert}", f"smtp_tls_key_file={cli_key}"),
            service("tlsnote", "smtp_tls_security_level=none",
                    "smtp_tls_note_starttls_offer=yes"),
            service("tlsdane", "smtp_tls_security_level=dane"),
            service("tlsdaneonly", "smtp_tls_security_level=dane-only"),
            service("tlsprotocols", "smtp_tls_security_level=encrypt",
                    "smtp_tls_mandatory_protocols=TLSv1.2"),
            service("tlsciphers", "smtp_tls_security_level=encrypt",
                    "smtp_tls_mandatory_protocols=TLSv1.2", "smtp_tls_mandatory_ciphers=high",
                    "smtp_tls_mandatory_exclude_ciphers=AESGCM"),
            service("tlswrapper", "smtp_tls_security_level=encrypt", "smtp_tls_wrappermode=yes"),
            service("tlswrapmay", "smtp_tls_security_level=may", "smtp_tls_wrappermode=yes"),
        ])
    inst = module_instance_factory("smtptls", main_cf={
        "smtp_helo_name": "postern.example.test",
        "smtp_tls_loglevel": "1",
        "smtp_tls_CAfile": ca.cert,
        "inet_protocols": "ipv4",
    }, master_cf_edit=master_edit)
    inst.start()
    dns.point(inst)
    settle(inst)
    yield {"inst": inst, "debian": debian, "ports": ports, "ca": ca, "dns": dns}
    if os.environ.get("SHOWLOG"):
        print(inst.log()[-int(os.environ["SHOWLOG"]):])
    debian.stop()
    dns.stop()
    shutil.rmtree(scratch, ignore_errors=True)


def settle(inst):
    """Waits until qmgr has started: at start-up it takes back whatever is in
    active/, and these tests place their own messages there."""
    wait_for(lambda: inst.daemon_pids("qmgr"), what="qmgr")
    time.sleep(1)


def send(env, transport, nexthop, marker, rcpt="box@recv.example.test"):
    msg = Message(env["inst"], "sender@example.org", [rcpt], body=[marker])
    reply = deliver(msg, transport=transport, nexthop=nexthop)
    assert reply["status"] in ("0", "1"), reply
    return msg


def hop(env, label, name="127.0.0.1"):
    return f"[{name}]:{env['ports'][label]}"


TLS_DETAILS = r"TLSv1\.3 with cipher TLS_\w+ \(\d+/\d+ bits\)"


def test_verify_delivers_to_postfix_with_trusted_name(env):
    inst, debian = env["inst"], env["debian"]
    inst.mark_log()
    port = env["ports"]["tls"]
    msg = send(env, "tlsverify", hop(env, "tls", "recv.example.test"), "verified-delivery")
    inst.wait_log(rf"smtp\[\d+\]: Verified TLS connection established to "
                  rf"recv\.example\.test\[127\.0\.0\.1\]:{port}: {TLS_DETAILS}")
    inst.wait_log(rf"{msg.queue_id}: to=<box@recv\.example\.test>, "
                  rf"relay=recv\.example\.test\[127\.0\.0\.1\]:{port}, .*status=sent")
    text = debian.wait_message("verified-delivery")
    assert "with ESMTPS id" in text
    debian.wait_log("Anonymous TLS connection established from unknown[127.0.0.1]")


def test_verify_refuses_certificate_for_another_name(env):
    inst, debian = env["inst"], env["debian"]
    inst.mark_log()
    port = env["ports"]["tls"]
    msg = send(env, "tlsverify", hop(env, "tls", "wrong.example.test"), "wrong-name")
    inst.wait_log(rf"server certificate verification failed for wrong\.example\.test"
                  rf"\[127\.0\.0\.1\]:{port}: num=62:hostname mismatch")
    inst.wait_log(rf"{msg.queue_id}: to=<box@recv\.example\.test>, "
                  rf"relay=wrong\.example\.test\[127\.0\.0\.1\]:{port}, .*dsn=4\.7\.5, "
                  r"status=deferred \(Server certificate not verified\)")
    assert msg.record_types() == ["R"]
    assert not [m for m in debian.messages() if "wrong-name" in m]
    # the client still serves
    msg = send(env, "tlsverify", hop(env, "tls", "recv.example.test"), "after-wrong-name")
    inst.wait_log(rf"{msg.queue_id}: to=<box@recv\.example\.test>, .*status=sent")


def test_verify_refuses_certificate_from_unknown_ca(env):
    inst = env["inst"]
    inst.mark_log()
    port = env["ports"]["tls"]
    msg = send(env, "tlsuntrusted", hop(env, "tls", "recv.example.test"), "untrusted")
    inst.wait_log(rf"certificate verification failed for recv\.example\.test\[127\.0\.0\.1\]:"
                  rf"{port}: untrusted issuer /CN=Postern Test CA")
    inst.wait_log(rf"{msg.queue_id}: .*dsn=4\.7\.5, status=deferred "
                  r"\(Server certificate not trusted\)")


def test_sni_selects_the_servers_certificate(env):
    inst, debian = env["inst"], env["debian"]
    port = env["ports"]["tls"]
    inst.mark_log()
    msg = send(env, "tlssni", hop(env, "tls", "sni.example.test"), "sni-delivery")
    inst.wait_log(rf"Verified TLS connection established to sni\.example\.test"
                  rf"\[127\.0\.0\.1\]:{port}")
    inst.wait_log(rf"{msg.queue_id}: .*status=sent")
    debian.wait_message("sni-delivery")
    # without SNI the server shows its default certificate, which is for another name
    inst.mark_log()
    msg = send(env, "tlsverify", hop(env, "tls", "sni.example.test"), "no-sni")
    inst.wait_log(rf"{msg.queue_id}: .*status=deferred \(Server certificate not verified\)")


def test_encrypt_refuses_postfix_without_starttls(env):
    inst, debian = env["inst"], env["debian"]
    inst.mark_log()
    msg = send(env, "tlsencrypt", hop(env, "plain"), "no-starttls")
    inst.wait_log(rf"{msg.queue_id}: to=<box@recv\.example\.test>, relay=127\.0\.0\.1"
                  rf"\[127\.0\.0\.1\]:{env['ports']['plain']}, .*dsn=4\.7\.4, status=deferred "
                  r"\(TLS is required, but was not offered by host 127\.0\.0\.1\[127\.0\.0\.1\]\)")
    assert msg.record_types() == ["R"]
    assert not [m for m in debian.messages() if "no-starttls" in m]


def test_encrypt_refuses_stripped_starttls_and_sends_nothing(env):
    inst = env["inst"]
    server = FakeSMTP(ehlo=["PIPELINING", "8BITMIME"])
    try:
        inst.mark_log()
        msg = send(env, "tlsencrypt", f"[127.0.0.1]:{server.port}", "stripped")
        inst.wait_log(rf"{msg.queue_id}: .*dsn=4\.7\.4, status=deferred \(TLS is required, "
                      r"but was not offered by host 127\.0\.0\.1\[127\.0\.0\.1\]\)")
        verbs = [c.split(" ")[0].split(":")[0] for s in server.sessions for c in s.commands]
        assert "MAIL" not in verbs and "RCPT" not in verbs
    finally:
        server.close()


def test_may_goes_plaintext_only_when_starttls_is_absent_or_refused(env):
    inst = env["inst"]
    absent = FakeSMTP(ehlo=["PIPELINING"])
    refusal = b"454 4.7.0 TLS not available due to local problem\r\n"
    refused = FakeSMTP(ehlo=["PIPELINING", "STARTTLS"], replies={"STARTTLS": refusal})
    try:
        for server in (absent, refused):
            inst.mark_log()
            msg = send(env, "tlsmay", f"[127.0.0.1]:{server.port}", "plain-ok")
            inst.wait_log(rf"{msg.queue_id}: .*status=sent")
            server.wait_messages(1)
        inst.mark_log()
        msg = send(env, "tlsencrypt", f"[127.0.0.1]:{refused.port}", "refused")
        inst.wait_log(rf"{msg.queue_id}: .*dsn=4\.7\.0, status=deferred \(TLS is required, but "
                      r"host 127\.0\.0\.1\[127\.0\.0\.1\] refused to start TLS: 454 4\.7\.0 TLS "
                      r"not available due to local problem\)")
        assert sum(len(s.messages) for s in refused.sessions) == 1
    finally:
        absent.close()
        refused.close()


def test_may_retries_in_plaintext_after_a_failed_handshake(env):
    inst = env["inst"]
    server = FakeSMTP(ehlo=["PIPELINING", "STARTTLS"],
                      replies={"STARTTLS": Hangup(b"220 2.0.0 Ready to start TLS\r\n")})
    try:
        inst.mark_log()
        msg = send(env, "tlsmay", f"[127.0.0.1]:{server.port}", "retry-plain")
        inst.wait_log(rf"{msg.queue_id}: .*status=sent")
        server.wait_messages(1)
        assert server.connections == 2
        assert "STARTTLS" in server.sessions[0].commands
        assert "STARTTLS" not in server.sessions[1].commands
        # at encrypt the same failure defers
        inst.mark_log()
        msg = send(env, "tlsencrypt", f"[127.0.0.1]:{server.port}", "no-retry")
        inst.wait_log(rf"{msg.queue_id}: .*dsn=4\.7\.5, status=deferred "
                      r"\(Cannot start TLS: handshake failure\)")
        assert sum(len(s.messages) for s in server.sessions) == 1
    finally:
        server.close()


def test_may_uses_tls_with_postfix(env):
    inst, debian = env["inst"], env["debian"]
    inst.mark_log()
    port = env["ports"]["tls"]
    msg = send(env, "tlsmay", hop(env, "tls"), "may-delivery")
    # a chain that verifies is "Trusted" at may; no name is checked
    inst.wait_log(rf"Trusted TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:{port}: "
                  rf"{TLS_DETAILS}")
    inst.wait_log(rf"{msg.queue_id}: .*status=sent")
    debian.wait_message("may-delivery")


def test_session_reused_through_tlsmgr(env):
    """Two deliveries with smtp_tls_session_cache_database, each connection
    used once: the second handshake resumes the session the first stored in
    tlsmgr's "smtp" cache."""
    inst, debian = env["inst"], env["debian"]
    port = env["ports"]["tls"]
    inst.mark_log()
    first = send(env, "tlscache", hop(env, "tls"), "cache-first")
    inst.wait_log(rf"{first.queue_id}: .*status=sent")
    assert "Reusing old session" not in inst.new_log()
    second = send(env, "tlscache", hop(env, "tls"), "cache-second")
    inst.wait_log(rf"127\.0\.0\.1\[127\.0\.0\.1\]:{port}: Reusing old session")
    inst.wait_log(rf"{second.queue_id}: .*status=sent")
    debian.wait_message("cache-second")


def test_policy_table_per_destination(env):
    inst, ports = env["inst"], env["ports"]
    inst.mark_log()
    # match= overrides the host name
    ok = send(env, "tlspolicy", hop(env, "tls", "wrong.example.test"), "policy-match")
    inst.wait_log(rf"Verified TLS connection established to wrong\.example\.test"
                  rf"\[127\.0\.0\.1\]:{ports['tls']}")
    inst.wait_log(rf"{ok.queue_id}: .*status=sent")
    # a name the certificate lacks
    bad = send(env, "tlspolicy", hop(env, "tls"), "policy-nomatch")
    inst.wait_log(rf"{bad.queue_id}: .*status=deferred \(Server certificate not verified\)")
    # encrypt for a server without STARTTLS, while the default level is may
    plain = send(env, "tlspolicy", hop(env, "plain"), "policy-encrypt")
    inst.wait_log(rf"{plain.queue_id}: .*status=deferred \(TLS is required, but was not "
                  r"offered")
    # a parent domain entry (.example.test secure) for a domain next-hop
    dom = send(env, "tlspolicy", "recv.example.test", "policy-secure")
    inst.wait_log(rf"Verified TLS connection established to recv\.example\.test"
                  rf"\[127\.0\.0\.1\]:{ports['tls']}")
    inst.wait_log(rf"{dom.queue_id}: .*status=sent")
    # a malformed entry defers without connecting, logged
    broken = send(env, "tlspolicy", hop(env, "ccert"), "policy-broken")
    inst.wait_log(rf"warning: TLS policy table, next-hop destination \"\[127\.0\.0\.1\]:"
                  rf"{ports['ccert']}\": invalid TLS security level \"bogus\"")
    inst.wait_log(rf"{broken.queue_id}: to=<box@recv\.example\.test>, relay=none, "
                  r".*dsn=4\.7\.5, status=deferred \(client TLS configuration problem\)")


def test_client_certificate_is_presented(env):
    inst, debian = env["inst"], env["debian"]
    inst.mark_log()
    msg = send(env, "tlsccert", hop(env, "ccert"), "client-cert")
    inst.wait_log(rf"{msg.queue_id}: .*status=sent")
    debian.wait_message("client-cert")
    debian.wait_log("postfix-ccert/smtpd")
    assert re.search(r"postfix-ccert/smtpd\[\d+\]: Trusted TLS connection established from "
                     r"unknown\[127\.0\.0\.1\]: .*client-signature ECDSA", debian.log())


def test_mandatory_protocols_and_ciphers_are_applied(env):
    inst = env["inst"]
    inst.mark_log()
    port = env["ports"]["tls"]
    msg = send(env, "tlsprotocols", hop(env, "tls"), "tls12")
    match = inst.wait_log(rf"TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:"
                          rf"{port}: TLSv1\.2 with cipher (\S+)")
    assert "GCM" in match.group(1)
    inst.wait_log(rf"{msg.queue_id}: .*status=sent")
    inst.mark_log()
    msg = send(env, "tlsciphers", hop(env, "tls"), "no-gcm")
    match = inst.wait_log(rf"TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:"
                          rf"{port}: TLSv1\.2 with cipher (\S+)")
    assert "GCM" not in match.group(1)
    inst.wait_log(rf"{msg.queue_id}: .*status=sent")


def test_level_none_notes_the_offer_and_stays_plaintext(env):
    inst, debian = env["inst"], env["debian"]
    inst.mark_log()
    msg = send(env, "tlsnote", hop(env, "tls"), "note-offer")
    inst.wait_log(r"smtp\[\d+\]: Host offered STARTTLS: \[127\.0\.0\.1\]")
    inst.wait_log(rf"{msg.queue_id}: .*status=sent")
    text = debian.wait_message("note-offer")
    assert "with ESMTP id" in text
    assert "TLS connection established" not in inst.new_log()


def test_dane_without_dnssec_is_may_and_dane_only_defers(env):
    inst = env["inst"]
    inst.mark_log()
    dest = hop(env, "tls")
    msg = send(env, "tlsdane", dest, "dane-may")
    inst.wait_log(rf"warning: {re.escape(dest)}: dane configured with dnssec lookups disabled")
    inst.wait_log(r"TLS connection established to 127\.0\.0\.1")
    inst.wait_log(rf"{msg.queue_id}: .*status=sent")
    msg = send(env, "tlsdaneonly", dest, "dane-only")
    inst.wait_log(rf"warning: {re.escape(dest)}: dane-only configured with dnssec lookups "
                  r"disabled")
    inst.wait_log(rf"{msg.queue_id}: .*dsn=4\.7\.5, status=deferred "
                  r"\(client TLS configuration problem\)")


def test_wrapper_mode_for_smtps(env):
    inst, debian = env["inst"], env["debian"]
    port = env["ports"]["wrapper"]
    inst.mark_log()
    msg = send(env, "tlswrapper", hop(env, "wrapper"), "wrapper-mode")
    inst.wait_log(rf"Trusted TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:{port}: "
                  rf"{TLS_DETAILS}")
    inst.wait_log(rf"{msg.queue_id}: .*status=sent")
    assert "with ESMTPS id" in debian.wait_message("wrapper-mode")
    # wrapper mode needs a mandatory level
    msg = send(env, "tlswrapmay", hop(env, "wrapper"), "wrapper-may")
    inst.wait_log(r"warning: smtp_tls_wrappermode requires \"smtp_tls_security_level = "
                  r"encrypt\" \(or stronger\)")
    inst.wait_log(rf"{msg.queue_id}: to=<box@recv\.example\.test>, relay=none, .*dsn=4\.7\.5, "
                  r"status=deferred \(client TLS configuration problem\)")


def test_relayhost_verify_whole_chain(make_instance, env):
    """sendmail -> pickup -> cleanup -> qmgr -> smtp at level verify."""
    debian, ca = env["debian"], env["ca"]
    relay = hop(env, "tls", "recv.example.test")
    inst = make_instance("tlschain", main_cf={
        "relayhost": relay, "smtp_tls_security_level": "verify",
        "smtp_tls_CAfile": ca.cert, "smtp_tls_loglevel": "1", "inet_protocols": "ipv4"})
    inst.start()
    env["dns"].point(inst)
    inst.mark_log()
    inst.command("sendmail", "-f", "sender@example.org", "box@recv.example.test",
                 input="Subject: chain\n\nwhole-chain-verify\n")
    inst.wait_log(rf"Verified TLS connection established to recv\.example\.test\[127\.0\.0\.1\]:"
                  rf"{env['ports']['tls']}: {TLS_DETAILS}", timeout=30)
    inst.wait_log(r"to=<box@recv\.example\.test>, relay=recv\.example\.test\[127\.0\.0\.1\]:"
                  r"\d+, .*status=sent \(250 2\.0\.0 Ok: queued as \w+\)", timeout=30)
    text = debian.wait_message("whole-chain-verify")
    assert "Subject: chain" in text
    wait_for(lambda: "removed" in inst.new_log(), what="queue file removed")
