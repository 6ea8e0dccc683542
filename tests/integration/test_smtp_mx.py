"""smtp(8) finding its servers through DNS: a dnsmasq started by the test on
a loopback address serves MX and A records; the chrooted smtp process reads
the jail's resolv.conf, which the test points at it."""
import random
import subprocess

import pytest

from agent_request import Message, deliver
from conftest import free_port
from fake_smtp import FakeSMTP

ZONE = "mxtest.example"


def loopback():
    return "127.%d.%d.%d" % (random.randrange(1, 255), random.randrange(0, 255),
                             random.randrange(1, 255))


@pytest.fixture(scope="module")
def env(module_instance_factory):
    dns_ip, down_ip, up_ip = loopback(), loopback(), loopback()
    port = free_port()
    server = FakeSMTP(host=up_ip, port=port)
    proc = subprocess.Popen([
        "/usr/sbin/dnsmasq", "-k", "--conf-file=/dev/null", f"--listen-address={dns_ip}",
        "--bind-interfaces", "--port=53", "--no-resolv", "--no-hosts", "--pid-file",
        "--user=nobody", "--group=nogroup", f"--local=/{ZONE}/",
        f"--mx-host={ZONE},mx1.{ZONE},10", f"--mx-host={ZONE},mx2.{ZONE},20",
        f"--host-record=mx1.{ZONE},{down_ip}", f"--host-record=mx2.{ZONE},{up_ip}",
        f"--mx-host=self.{ZONE},mx.example.test,10",
        f"--mx-host=chain.{ZONE},mx1.{ZONE},10", f"--mx-host=chain.{ZONE},mx2.{ZONE},20",
        f"--host-record=plain.{ZONE},{up_ip}",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    inst = module_instance_factory("smtpmx", main_cf={"smtp_tcp_port": port,
                                                       "inet_protocols": "ipv4"})
    inst.start()
    (inst.queue_dir / "etc" / "resolv.conf").write_text(
        f"nameserver {dns_ip}\noptions timeout:2 attempts:2\n")
    yield {"inst": inst, "server": server, "up": up_ip, "port": port, "proc": proc}
    proc.kill()
    proc.wait()
    server.close()


def test_second_mx_used_when_the_first_is_down(env):
    inst, server = env["inst"], env["server"]
    assert env["proc"].poll() is None, env["proc"].stderr.read()
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"user@{ZONE}"], body=["via MX"])
    assert deliver(msg, transport="smtp", nexthop=ZONE)["status"] == "0"
    server.wait_messages(1)
    inst.wait_log(rf"postfix/smtp\[\d+\]: connect to mx1\.{ZONE}\[[\d.]+\]:{env['port']}: "
                  r"Connection refused\n")
    inst.wait_log(rf"to=<user@{ZONE}>, relay=mx2\.{ZONE}\[{env['up']}\]:{env['port']}, "
                  r".*status=sent")
    assert msg.record_types() == ["D"]


def test_host_without_mx_uses_its_address(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"user@plain.{ZONE}"])
    assert deliver(msg, transport="smtp", nexthop=f"plain.{ZONE}")["status"] == "0"
    inst.wait_log(rf"to=<user@plain\.{ZONE}>, relay=plain\.{ZONE}\[{env['up']}\]")


def test_unknown_domain_bounces(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"user@nosuch.{ZONE}"])
    reply = deliver(msg, transport="smtp", nexthop=f"nosuch.{ZONE}")
    assert reply["status"] == "0"
    inst.wait_log(rf"to=<user@nosuch\.{ZONE}>, relay=none, .*dsn=5\.4\.4, status=bounced "
                  rf"\(Host or domain name not found\. Name service error for "
                  rf"name=nosuch\.{ZONE} type=MX: Host not found\)")


def test_mx_pointing_at_myself_is_a_loop(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"user@self.{ZONE}"])
    assert deliver(msg, transport="smtp", nexthop=f"self.{ZONE}")["status"] == "0"
    inst.wait_log(rf"dsn=5\.4\.6, status=bounced \(mail for self\.{ZONE} loops back to myself\)")


def test_mx_delivery_through_the_whole_chain(env):
    """sendmail -> pickup -> cleanup -> qmgr -> smtp: MX lookup, the first MX
    down, delivered to the second. Its own domain (same two MX hosts), so no
    connection cached by an earlier test is reused."""
    inst, server = env["inst"], env["server"]
    inst.mark_log()
    before = sum(len(s.messages) for s in server.sessions)
    inst.command("sendmail", "-f", "sender@example.org", f"user@chain.{ZONE}",
                 input="Subject: mx chain\n\nmx-whole-chain\n")
    inst.wait_log(rf"postfix/smtp\[\d+\]: connect to mx1\.{ZONE}\[[\d.]+\]:{env['port']}: "
                  r"Connection refused\n", timeout=30)
    inst.wait_log(rf"postfix/smtp\[\d+\]: \w+: to=<user@chain\.{ZONE}>, relay=mx2\.{ZONE}"
                  rf"\[{env['up']}\]:{env['port']}, .*status=sent", timeout=30)
    server.wait_messages(before + 1)
    assert any(b"mx-whole-chain" in m for s in server.sessions for m in s.messages)
