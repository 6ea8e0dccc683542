"""smtpd restrictions: access tables and their actions, restriction classes,
the built-in checks, smtpd_delay_reject, lookup failures, DNS blocklists
against a DNS server the test starts (dnsmasq), and a policy server
written here speaking Postfix's policy delegation protocol."""
import shutil
import socket
import subprocess
import time

import pytest

from conftest import SBIN, free_port
from policy_server import PolicyServer
from smtpd_client import (INSIDER, SmtpClient, listeners, message, queue_files, queue_id,
                          wait_until)

USERS = "inline:{ alice=1, bob=1 }"
DNS_ADDRESS = "127.53.0.53"


@pytest.fixture(scope="module")
def policy():
    server = PolicyServer({"spammer@c.example.org": "REJECT policy says no",
                           "later@c.example.org": "DEFER_IF_PERMIT policy says later",
                           "held@c.example.org": "HOLD"})
    yield server
    server.sock.close()


@pytest.fixture(scope="module")
def dns_server(tmp_path_factory):
    """dnsmasq on a loopback address of its own, with a blocklist zone."""
    binary = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    lease_dir = tmp_path_factory.mktemp("dnsmasq")
    log = open(lease_dir / "queries.log", "wb")
    proc = subprocess.Popen([
        binary, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-daemon",
        f"--listen-address={DNS_ADDRESS}", "--bind-interfaces", "--port=53", "--user=root",
        f"--pid-file={lease_dir}/pid", "--local=/test/", "--local=/arpa/",
        "--address=/1.0.0.127.bl.example.test/127.0.0.2",
        "--txt-record=1.0.0.127.bl.example.test,listed for testing",
        "--address=/1.0.0.127.filtered.example.test/127.0.0.9",
        "--address=/spammer.example.rhs.example.test/127.0.0.2",
        "--address=/good.example.test/192.0.2.10",
        "--mx-host=mx-only.example.test,good.example.test,10",
        "--log-queries", "--log-facility=-",
    ], stdout=subprocess.DEVNULL, stderr=log)

    def answering():
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.settimeout(0.2)
        query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x04good\x07example\x04test\x00\x00\x01\x00\x01")
        try:
            probe.sendto(query, (DNS_ADDRESS, 53))
            return probe.recv(512)[:2] == b"\x12\x34"
        except OSError:
            return False
        finally:
            probe.close()
    assert wait_until(answering, timeout=10), (lease_dir / "queries.log").read_text()
    yield lease_dir / "queries.log"
    proc.terminate()
    proc.wait(10)
    log.close()


SPECS = {
    "client_reject": {"smtpd_client_restrictions":
                      "check_client_access inline:{ 127.0.0=REJECT, 127.0.0.2=OK }"},
    "helo": {"smtpd_helo_restrictions": "check_helo_access inline:{ { bad.example=REJECT "
             "bad helo } }, reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname"},
    "sender": {"smtpd_sender_restrictions": "check_sender_access inline:{ "
               "{ rejected@c.example.org = REJECT go away }, "
               "{ custom@c.example.org = 521 5.7.2 custom }, "
               "{ tempfail@c.example.org = 451 4.1.1 try later }, "
               "{ dip@c.example.org = DEFER_IF_PERMIT dip }, "
               "{ dir@c.example.org = DEFER_IF_REJECT dir }, "
               "{ warned@c.example.org = WARN suspicious }, "
               "{ held@c.example.org = HOLD }, { dropped@c.example.org = DISCARD }, "
               "{ tagged@c.example.org = PREPEND X-Tag: tagged }, "
               "{ copied@c.example.org = BCC bob@example.test }, "
               "{ moved@c.example.org = REDIRECT bob@example.test }, "
               "{ nested@c.example.org = reject_non_fqdn_recipient } }, "
               "reject_non_fqdn_sender",
               "smtpd_data_restrictions": "check_sender_access inline:{ "
               "{ tagged@c.example.org = HOLD }, { copied@c.example.org = HOLD }, "
               "{ moved@c.example.org = HOLD } }",
               "smtpd_end_of_data_restrictions": "check_sender_access inline:{ "
               "{ late-drop@c.example.org = DISCARD }, { late-hold@c.example.org = HOLD } }",
               "smtpd_recipient_restrictions": "check_recipient_access inline:{ "
               "{ bob@example.test = 550 5.1.7 mapped } }, warn_if_reject, "
               "check_recipient_access inline:{ { alice@example.test = REJECT only a warning } }"},
    "classes": {"smtpd_restriction_classes": "strict",
                "smtpd_recipient_restrictions": "check_recipient_access "
                "inline:{ alice@example.test=strict }"},
    "builtin": {"smtpd_client_restrictions": "reject_unknown_client_hostname",
                "smtpd_sender_restrictions": "reject_unlisted_sender"},
    "unknown_entry": {"smtpd_client_restrictions": "permit_everything_please"},
    "lookup_fails": {"smtpd_client_restrictions": "check_client_access fail:broken"},
    "rcpt_map_fails": {"local_recipient_maps": "fail:users"},
    "no_delay": {"smtpd_delay_reject": "no", "smtpd_client_restrictions": "reject"},
    "data": {"smtpd_data_restrictions": "reject"},
    "eod": {"smtpd_end_of_data_restrictions": "defer"},
    "etrn": {"smtpd_etrn_restrictions": "reject"},
    "policy": {"smtpd_sender_restrictions": "check_policy_service $policy_endpoint"},
    "policy_down": {"smtpd_sender_restrictions": "check_policy_service inet:127.0.0.1:9"},
    "dnsbl": {"smtpd_client_restrictions": "reject_rbl_client bl.example.test, "
              "reject_rbl_client nolist.example.test",
              "smtpd_sender_restrictions": "reject_rhsbl_sender rhs.example.test"},
    "dnsbl_filtered": {"smtpd_client_restrictions": "reject_rbl_client "
                       "filtered.example.test=127.0.0.[2..8]"},
    "relay_rcpt": {"relay_recipient_maps": "inline:{ known@relay.example.test=1 }"},
    "local_code": {"unknown_local_recipient_reject_code": "450"},
    "domains": {"smtpd_sender_restrictions": "reject_unknown_sender_domain",
                "smtpd_recipient_restrictions": "reject_unknown_recipient_domain, "
                "permit_mynetworks, reject"},
}


@pytest.fixture(scope="module")
def setup():
    return listeners(SPECS, free_port)


@pytest.fixture(scope="module")
def inst(module_instance_factory, setup, policy, dns_server):
    ports, main_cf, edit = setup
    main_cf.update({
        "mydestination": "$myhostname, localhost, $mydomain",
        "local_recipient_maps": USERS,
        "smtpd_error_sleep_time": "0",
        "strict": "reject_non_fqdn_sender, permit",
        "policy_endpoint": f"inet:127.0.0.1:{policy.port}",
        "smtpd_policy_service_try_limit": "1",
        "relay_domains": "relay.example.test",
    })

    def without_flush(text):
        return "\n".join(line for line in edit(text).splitlines()
                         if not line.startswith("flush ")) + "\n"
    inst = module_instance_factory("smtpd-restrictions", main_cf=main_cf,
                                   master_cf_edit=without_flush).start()
    (inst.queue_dir / "etc" / "resolv.conf").write_text(f"nameserver {DNS_ADDRESS}\n")
    return inst


def connect(inst, setup, name, source="127.0.0.1"):
    c = SmtpClient(setup[0][name], source=source)
    assert c.banner == "220 mx.example.test ESMTP Postern"
    return c


def rcpt(c, sender, recipient="alice@example.test"):
    """Replies to MAIL and RCPT, after RSET."""
    c.cmd("RSET")
    return c.cmd(f"MAIL FROM:<{sender}>"), c.cmd(f"RCPT TO:<{recipient}>")


def postcat(inst, qid):
    return subprocess.run([str(SBIN / "postcat"), "-c", str(inst.config_dir), "-q", qid],
                          capture_output=True, text=True, timeout=30).stdout


def test_check_client_access(inst, setup):
    inst.mark_log()
    c = connect(inst, setup, "client_reject")
    c.ehlo()
    assert rcpt(c, "a@c.example.org")[1] == \
        "554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Access denied"
    inst.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 "
                  r"<localhost\[127\.0\.0\.1\]>: Client host rejected: Access denied; "
                  r"from=<a@c\.example\.org> to=<alice@example\.test> proto=ESMTP "
                  r"helo=<client\.example\.org>\n")
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c = connect(inst, setup, "client_reject", INSIDER)
    c.ehlo()
    assert rcpt(c, "a@c.example.org")[1] == "250 2.1.5 Ok"


def test_helo_checks(inst, setup):
    c = connect(inst, setup, "helo")
    c.cmd("HELO x.bad.example")
    assert rcpt(c, "a@c.example.org")[1] == "554 5.7.1 <x.bad.example>: Helo command rejected: bad helo"
    c.cmd("HELO x_y!")
    assert rcpt(c, "a@c.example.org")[1] == \
        "501 5.5.2 <x_y!>: Helo command rejected: Invalid name"
    c.cmd("HELO xy")
    assert rcpt(c, "a@c.example.org")[1] == \
        "504 5.5.2 <xy>: Helo command rejected: need fully-qualified hostname"
    c.cmd("HELO [127.0.0.1]")
    assert rcpt(c, "a@c.example.org")[1] == "250 2.1.5 Ok"


def test_access_actions(inst, setup):
    inst.mark_log()
    c = connect(inst, setup, "sender")
    c.ehlo()
    assert rcpt(c, "rejected@c.example.org")[1] == \
        "554 5.7.1 <rejected@c.example.org>: Sender address rejected: go away"
    assert rcpt(c, "tempfail@c.example.org")[1] == \
        "451 4.1.7 <tempfail@c.example.org>: Sender address rejected: try later"
    inst.wait_log(r"mapping DSN status 4\.1\.1 into Sender address status 4\.1\.7\n")
    assert rcpt(c, "dip@c.example.org")[1] == \
        "450 4.7.1 <dip@c.example.org>: Sender address rejected: dip"
    assert rcpt(c, "dip@c.example.org", "bob@example.test")[1] == \
        "550 5.1.3 <bob@example.test>: Recipient address rejected: mapped"
    assert rcpt(c, "dir@c.example.org")[1] == "250 2.1.5 Ok"
    assert rcpt(c, "nobody")[1] == "504 5.5.2 <nobody>: Sender address rejected: " \
        "need fully-qualified address"
    assert rcpt(c, "nested@c.example.org", "postmaster")[1] == \
        "504 5.5.2 <postmaster>: Recipient address rejected: need fully-qualified address"
    assert rcpt(c, "warned@c.example.org")[1] == "250 2.1.5 Ok"
    inst.wait_log(r"NOQUEUE: warn: RCPT from localhost\[127\.0\.0\.1\]: suspicious; "
                  r"from=<warned@c\.example\.org>")
    inst.wait_log(r"NOQUEUE: reject_warning: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 "
                  r"<alice@example\.test>: Recipient address rejected: only a warning;")
    assert rcpt(c, "custom@c.example.org")[1] == \
        "521 5.7.2 <custom@c.example.org>: Sender address rejected: custom"
    assert c.at_eof()


def test_message_actions(inst, setup):
    inst.mark_log()
    c = connect(inst, setup, "sender")
    c.ehlo()
    body = b"Subject: actions\r\n\r\nhi\r\n.\r\n"
    before = queue_files(inst, "hold")
    held = queue_id(message(c, "held@c.example.org", ["alice@example.test"], body))
    assert held in queue_files(inst, "hold") and held not in before
    inst.wait_log(r"NOQUEUE: hold: RCPT from localhost\[127\.0\.0\.1\]: <held@c\.example\.org>: "
                  r"Sender address triggers HOLD action;")
    normal = queue_id(message(c, "warned@c.example.org", ["alice@example.test"], body))
    assert normal not in queue_files(inst, "hold")
    dropped = queue_id(message(c, "dropped@c.example.org", ["alice@example.test"], body))
    assert wait_until(lambda: all(dropped not in queue_files(inst, q) for q in
                                  ("incoming", "active", "hold", "deferred")))
    inst.wait_log(r"NOQUEUE: discard: RCPT from localhost\[127\.0\.0\.1\]: "
                  r"<dropped@c\.example\.org>: Sender address triggers DISCARD action;")
    tagged = queue_id(message(c, "tagged@c.example.org", ["alice@example.test"], body))
    assert "\nX-Tag: tagged\nReceived: from client.example.org" in postcat(inst, tagged)
    copied = queue_id(message(c, "copied@c.example.org", ["alice@example.test"], body))
    text = postcat(inst, copied)
    assert "recipient: alice@example.test" in text and "recipient: bob@example.test" in text
    moved = queue_id(message(c, "moved@c.example.org", ["alice@example.test"], body))
    text = postcat(inst, moved)
    assert "recipient: bob@example.test" in text and "recipient: alice@" not in text
    late = queue_id(message(c, "late-drop@c.example.org", ["alice@example.test"], body))
    assert wait_until(lambda: all(late not in queue_files(inst, q) for q in
                                  ("incoming", "active", "hold", "deferred")))
    queue_id(message(c, "late-hold@c.example.org", ["alice@example.test"], body))
    inst.wait_log(r"warning: access table inline:\{ \{ late-drop@c\.example\.org = DISCARD "
                  r"\}, \{ late-hold@c\.example\.org = HOLD \} \}: action HOLD is skipped in "
                  r"END-OF-MESSAGE\n")
    c.close()


def test_restriction_class(inst, setup):
    c = connect(inst, setup, "classes")
    c.ehlo()
    assert rcpt(c, "unqualified")[1] == \
        "504 5.5.2 <unqualified>: Sender address rejected: need fully-qualified address"
    assert rcpt(c, "unqualified", "bob@example.test")[1] == "250 2.1.5 Ok"
    assert rcpt(c, "a@c.example.org")[1] == "250 2.1.5 Ok"


def test_builtin_checks(inst, setup):
    c = connect(inst, setup, "builtin", INSIDER)
    c.ehlo()
    assert rcpt(c, "a@c.example.org")[1] == \
        "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.2]"
    c = connect(inst, setup, "builtin")
    c.ehlo()
    assert rcpt(c, "nosuch@example.test")[1] == \
        "550 5.1.0 <nosuch@example.test>: Sender address rejected: " \
        "User unknown in local recipient table"
    assert rcpt(c, "bob@example.test")[1] == "250 2.1.5 Ok"


def test_configuration_and_lookup_errors(inst, setup):
    inst.mark_log()
    c = connect(inst, setup, "unknown_entry")
    c.ehlo()
    assert rcpt(c, "a@c.example.org")[1] == "451 4.3.5 Server configuration error"
    inst.wait_log(r'warning: unknown smtpd restriction: "permit_everything_please"\n')
    c = connect(inst, setup, "lookup_fails")
    c.ehlo()
    assert rcpt(c, "a@c.example.org")[1] == \
        "451 4.3.0 <localhost[127.0.0.1]>: Temporary lookup failure"
    c = connect(inst, setup, "rcpt_map_fails")
    c.ehlo()
    assert rcpt(c, "a@c.example.org")[1] == \
        "451 4.3.0 <alice@example.test>: Temporary lookup failure"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"


def test_no_delay_reject(inst, setup):
    inst.mark_log()
    c = SmtpClient(setup[0]["no_delay"])
    assert c.banner == "554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Access denied"
    assert c.ehlo() == "503 5.7.0 Error: access denied for localhost[127.0.0.1]"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    inst.wait_log(r"NOQUEUE: reject: CONNECT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 "
                  r"<localhost\[127\.0\.0\.1\]>: Client host rejected: Access denied; "
                  r"proto=SMTP\n")


def test_data_and_end_of_data_restrictions(inst, setup):
    c = connect(inst, setup, "data")
    c.ehlo()
    rcpt(c, "a@c.example.org")
    assert c.cmd("DATA") == "554 5.7.1 <DATA>: Data command rejected: Access denied"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c = connect(inst, setup, "eod")
    c.ehlo()
    before = queue_files(inst, "hold") + queue_files(inst, "incoming")
    assert message(c, "a@c.example.org", ["alice@example.test"],
                   b"Subject: x\r\n\r\nhi\r\n.\r\n") == \
        "450 4.3.2 <END-OF-MESSAGE>: End-of-data rejected: Try again later"
    assert wait_until(lambda: queue_files(inst, "hold") + queue_files(inst, "incoming")
                      == before), "the refused message stayed in the queue"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"


def test_etrn(inst, setup):
    inst.mark_log()
    c = connect(inst, setup, "etrn")
    c.ehlo()
    assert c.cmd("ETRN example.test") == \
        "554 5.7.1 <example.test>: Etrn command rejected: Access denied"
    c = connect(inst, setup, "data")
    c.ehlo()
    assert c.cmd("ETRN example.test") == "458 Unable to queue messages"
    inst.wait_log(r"warning: unable to talk to fast flush service\n")
    assert c.cmd("NOOP") == "250 2.0.0 Ok"


def test_policy_server_rejects_a_sender(inst, setup, policy):
    inst.mark_log()
    c = connect(inst, setup, "policy")
    c.ehlo("c.example.org")
    assert rcpt(c, "spammer@c.example.org")[1] == \
        "554 5.7.1 <spammer@c.example.org>: Sender address rejected: policy says no"
    inst.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 "
                  r"<spammer@c\.example\.org>: Sender address rejected: policy says no; "
                  r"from=<spammer@c\.example\.org> to=<alice@example\.test>")
    assert rcpt(c, "later@c.example.org")[1] == \
        "450 4.7.1 <later@c.example.org>: Sender address rejected: policy says later"
    assert rcpt(c, "friend@c.example.org")[1] == "250 2.1.5 Ok"
    request = policy.requests[0]
    assert request["request"] == "smtpd_access_policy"
    assert request["protocol_state"] == "RCPT"
    assert request["protocol_name"] == "ESMTP"
    assert request["helo_name"] == "c.example.org"
    assert request["sender"] == "spammer@c.example.org"
    assert request["recipient"] == "alice@example.test"
    assert request["client_address"] == "127.0.0.1"
    assert request["client_name"] == "localhost"
    assert request["server_port"] == str(setup[0]["policy"])
    assert policy.connections == 1                  # one connection for every request


def test_policy_server_unreachable(inst, setup):
    inst.mark_log()
    c = connect(inst, setup, "policy_down")
    c.ehlo()
    assert rcpt(c, "a@c.example.org")[1] == \
        "451 4.3.5 <a@c.example.org>: Sender address rejected: Server configuration problem"
    inst.wait_log(r"warning: problem talking to server 127\.0\.0\.1:9: Connection refused\n")
    assert c.cmd("NOOP") == "250 2.0.0 Ok"


def test_dnsbl_rejects_a_listed_client(inst, setup, dns_server):
    inst.mark_log()
    c = connect(inst, setup, "dnsbl")
    c.ehlo()
    assert rcpt(c, "a@c.example.org")[1] == (
        "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using "
        "bl.example.test; listed for testing")
    inst.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 Service "
                  r"unavailable; Client host \[127\.0\.0\.1\] blocked using bl\.example\.test; "
                  r"listed for testing; from=<a@c\.example\.org>")
    c = connect(inst, setup, "dnsbl", INSIDER)
    c.ehlo()
    for _ in range(3):
        assert rcpt(c, "a@c.example.org")[1] == "250 2.1.5 Ok"
    # one query per list and session, whatever the number of recipients
    assert dns_server.read_text().count("query[A] 2.0.0.127.bl.example.test") == 1
    assert rcpt(c, "x@spammer.example")[1] == (
        "554 5.7.1 Service unavailable; Sender address [spammer.example] blocked using "
        "rhs.example.test")


def test_dnsbl_answer_filter(inst, setup):
    c = connect(inst, setup, "dnsbl_filtered")
    c.ehlo()
    assert rcpt(c, "a@c.example.org")[1] == "250 2.1.5 Ok"   # 127.0.0.9 is outside the filter


def test_unknown_domains(inst, setup):
    c = connect(inst, setup, "domains")
    c.ehlo()
    assert rcpt(c, "a@nx.example.test", "alice@example.test")[1] == \
        "450 4.1.8 <a@nx.example.test>: Sender address rejected: Domain not found"
    assert rcpt(c, "a@good.example.test", "alice@example.test")[1] == \
        "554 5.7.1 <alice@example.test>: Recipient address rejected: Access denied"
    assert rcpt(c, "a@mx-only.example.test", "alice@example.test")[1].startswith("554 5.7.1")
    c = connect(inst, setup, "domains", INSIDER)
    c.ehlo()
    assert rcpt(c, "a@good.example.test", "b@nx.example.test")[1] == \
        "450 4.1.2 <b@nx.example.test>: Recipient address rejected: Domain not found"
    assert rcpt(c, "a@good.example.test", "b@good.example.test")[1] == "250 2.1.5 Ok"


def test_relay_domains_and_relay_recipient_maps(inst, setup):
    c = SmtpClient(inst.smtp_port)
    c.ehlo()
    assert rcpt(c, "a@c.example.org", "anyone@relay.example.test")[1] == "250 2.1.5 Ok"
    for routed in ("user%remote.example@relay.example.test",
                   "remote.example!user@relay.example.test",
                   '"user@remote.example"@relay.example.test'):
        assert rcpt(c, "a@c.example.org", routed)[1] == \
            f"454 4.7.1 <{routed.replace(chr(34), '')}>: Relay access denied", routed
    c = connect(inst, setup, "relay_rcpt")
    c.ehlo()
    assert rcpt(c, "a@c.example.org", "known@relay.example.test")[1] == "250 2.1.5 Ok"
    assert rcpt(c, "a@c.example.org", "unknown@relay.example.test")[1] == (
        "550 5.1.1 <unknown@relay.example.test>: Recipient address rejected: "
        "User unknown in relay recipient table")


def test_unknown_local_recipient_reject_code(inst, setup):
    c = connect(inst, setup, "local_code")
    c.ehlo()
    assert rcpt(c, "a@c.example.org", "nosuch@example.test")[1] == (
        "450 4.1.1 <nosuch@example.test>: Recipient address rejected: "
        "User unknown in local recipient table")
