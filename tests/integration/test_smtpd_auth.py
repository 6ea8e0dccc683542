"""smtpd AUTH against a real Dovecot authentication server (Debian's
dovecot-core, started by this module with a passwd-file of test users; its
socket is private/auth inside the queue directory, where the chrooted smtpd
reaches it), driven by swaks and a raw client."""
import base64
import re
import shutil
import subprocess

import pytest

from conftest import SBIN, free_port, wait_for
from policy_server import PolicyServer
from smtpd_client import SmtpClient, listeners, queue_id
from tls_helpers import Dovecot, client_context, make_pki, starttls

USERS = {"alice": "secret1", "bob": "hunter2"}
LOCAL_USERS = "inline:{ alice=1, bob=1 }"
LOGIN_MAPS = "inline:{alice@example.test=alice, {shared@example.test=alice,bob}}"


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def b64(text):
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def pki():
    root = make_pki("smtpd-auth")
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def policy():
    server = PolicyServer({})
    yield server
    server.sock.close()


@pytest.fixture(scope="module")
def setup(module_instance_factory, pki, policy):
    ports, main_cf, edit = listeners({
        "auth_only": {"smtpd_tls_auth_only": "yes"},
        "broken": {"broken_sasl_auth_clients": "yes"},
        "errors": {"smtpd_hard_error_limit": "3"},
        "rate": {"smtpd_client_auth_rate_limit": "2"},
        "login_maps": {"smtpd_sender_restrictions": "reject_sender_login_mismatch"},
        "auth_login_maps": {"smtpd_sender_restrictions":
                            "reject_authenticated_sender_login_mismatch"},
        "known_login_maps": {"smtpd_sender_restrictions": "reject_known_sender_login_mismatch"},
        "unauth_login_maps": {"smtpd_sender_restrictions":
                              "reject_unauthenticated_sender_login_mismatch"},
        "exceptions": {"smtpd_sasl_exceptions_networks": "127.0.0.1"},
        "noplaintext": {"smtpd_sasl_security_options": "noanonymous, noplaintext",
                        "smtpd_sasl_tls_security_options": "noanonymous"},
        "nodovecot": {"smtpd_sasl_path": "private/no-such-socket"},
        "helo_required": {"smtpd_helo_required": "yes"},
        "header": {"smtpd_sasl_authenticated_header": "yes"},
        "policy": {"smtpd_sender_restrictions": f"check_policy_service inet:127.0.0.1:"
                                                f"{policy.port}"},
        "noauth": {"smtpd_sasl_auth_enable": "no"},
    }, free_port)
    main_cf.update({
        "mydestination": "$myhostname, localhost, $mydomain",
        "local_recipient_maps": LOCAL_USERS,
        "smtpd_error_sleep_time": "0",
        "smtpd_tls_security_level": "may",
        "smtpd_tls_chain_files": f"{pki}/rsa.pem, {pki}/ec.pem",
        "smtpd_sasl_auth_enable": "yes",
        "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": "private/auth",
        "smtpd_sender_login_maps": LOGIN_MAPS,
        "smtpd_relay_restrictions": "permit_mynetworks, permit_sasl_authenticated, "
                                    "reject_unauth_destination",
        "smtpd_data_restrictions": "check_client_access static:HOLD",
    })
    inst = module_instance_factory("smtpd-auth", main_cf=main_cf, master_cf_edit=edit)
    inst.start()
    dovecot = Dovecot("smtpd-auth", inst.queue_dir / "private" / "auth", USERS,
                      socket_owner="postfix").start()
    yield inst, ports
    dovecot.stop()


@pytest.fixture
def inst(setup):
    return setup[0]


@pytest.fixture
def ports(setup):
    return setup[1]


def postcat(inst, qid):
    """The queue file as postcat shows it, once postcat finds it."""
    def show():
        result = subprocess.run([str(SBIN / "postcat"), "-c", str(inst.config_dir), "-q", qid],
                                capture_output=True, timeout=30, text=True)
        return result.stdout if result.returncode == 0 else None
    return wait_for(show, timeout=10, what=f"postcat {qid}")


def swaks(port, pki, *args):
    return subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "--tls-verify",
                           "--tls-ca-path", str(pki / "ca.pem"), "--tls-sni", "mx.example.com",
                           "--from", "alice@example.test", "-h", "client.example.org", *args],
                          capture_output=True, text=True, timeout=60)


def tls_client(port, pki):
    c = SmtpClient(port)
    c.ehlo()
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    starttls(c, client_context(pki))
    return c


def ehlo_auth_lines(reply):
    return [line[4:] for line in reply.split("\n") if line[4:].startswith("AUTH")]


# The acceptance runs with swaks ----------------------------------------------------

def test_swaks_auth_plain_relays(inst, pki):
    inst.mark_log()
    result = swaks(inst.smtp_port, pki, "--tls", "--auth", "PLAIN", "--auth-user", "alice",
                   "--auth-password", "secret1", "--to", "someone@remote.example")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<~  235 2.7.0 Authentication successful" in result.stdout
    qid = re.search(r"<~  250 2\.0\.0 Ok: queued as ([0-9A-F]+)", result.stdout).group(1)
    inst.wait_log(qid + r": client=localhost\[127\.0\.0\.1\], sasl_method=PLAIN, "
                        r"sasl_username=alice\n")
    text = postcat(inst, qid)
    assert "with ESMTPSA id " + qid in text
    assert "Authenticated sender" not in text          # smtpd_sasl_authenticated_header = no
    assert "named_attribute: sasl_method=PLAIN\n" in text, text
    assert "named_attribute: sasl_username=alice\n" in text, text


def test_swaks_wrong_password_gets_535(inst, pki):
    inst.mark_log()
    result = swaks(inst.smtp_port, pki, "--tls", "--auth", "PLAIN", "--auth-user", "alice",
                   "--auth-password", "wrong", "--to", "someone@remote.example")
    assert result.returncode != 0
    assert re.search(r"<~\* 535 5\.7\.8 Error: authentication failed: ", result.stdout), \
        result.stdout
    inst.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL PLAIN authentication failed: "
                  r".*, sasl_username=alice\n")


def test_swaks_auth_before_starttls_refused_with_tls_auth_only(inst, ports, pki):
    result = swaks(ports["auth_only"], pki, "--auth", "PLAIN", "--auth-user", "alice",
                   "--auth-password", "secret1", "--to", "someone@remote.example")
    assert result.returncode != 0
    assert "Host did not advertise authentication" in result.stdout + result.stderr
    c = SmtpClient(ports["auth_only"])
    assert ehlo_auth_lines(c.ehlo()) == []
    assert c.cmd("AUTH PLAIN " + plain("alice", "secret1")) == \
        "503 5.5.1 Error: authentication not enabled"
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    starttls(c, client_context(pki))
    assert ehlo_auth_lines(c.ehlo()) == ["AUTH PLAIN LOGIN"]
    assert c.cmd("AUTH PLAIN " + plain("alice", "secret1")) == \
        "235 2.7.0 Authentication successful"
    result = swaks(ports["auth_only"], pki, "--tls", "--auth", "LOGIN", "--auth-user", "bob",
                   "--auth-password", "hunter2", "--to", "someone@remote.example")
    assert result.returncode == 0, result.stdout


# The AUTH command --------------------------------------------------------------------

def test_auth_replies(inst, pki):
    inst.mark_log()
    c = tls_client(inst.smtp_port, pki)
    assert ehlo_auth_lines(c.ehlo()) == ["AUTH PLAIN LOGIN"]
    assert c.cmd("AUTH") == "501 5.5.4 Syntax: AUTH mechanism"
    assert c.cmd("AUTH PLAIN a b") == "501 5.5.4 Syntax: AUTH mechanism"
    assert c.cmd("AUTH CRAM-MD5") == \
        "535 5.7.8 Error: authentication failed: Invalid authentication mechanism"
    assert c.cmd("AUTH PLAIN !!!") == \
        "535 5.7.8 Error: authentication failed: Invalid base64 data in initial response"
    assert c.cmd("AUTH PLAIN") == "334 "
    assert c.cmd("not base64") == \
        "535 5.7.8 Error: authentication failed: Invalid base64 data in continued response"
    assert c.cmd("MAIL FROM:<alice@example.test>") == "250 2.1.0 Ok"
    assert c.cmd("AUTH PLAIN " + plain("alice", "secret1")) == \
        "503 5.5.1 Error: MAIL transaction in progress"
    assert c.cmd("RSET") == "250 2.0.0 Ok"
    assert c.cmd("auth plain " + plain("alice", "secret1")) == \
        "235 2.7.0 Authentication successful"
    assert c.cmd("AUTH PLAIN " + plain("alice", "secret1")) == \
        "503 5.5.1 Error: already authenticated"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    inst.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL CRAM-MD5 authentication failed: "
                  r"Invalid authentication mechanism, sasl_username=\(unavailable\)\n")
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=2 starttls=1 auth=1/8 mail=1 "
                  r"rset=1 quit=1 commands=7/14\n")


def test_auth_login_and_cancel(inst, pki):
    inst.mark_log()
    c = tls_client(inst.smtp_port, pki)
    c.ehlo()
    assert c.cmd("AUTH LOGIN") == "334 " + b64("Username:")
    assert c.cmd(b64("alice")) == "334 " + b64("Password:")
    assert c.cmd("*") == "501 5.7.0 Authentication aborted"
    inst.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL LOGIN authentication aborted\n")
    assert c.cmd("AUTH PLAIN") == "334 "
    assert c.cmd("*") == "501 5.7.0 Authentication aborted"
    assert c.cmd("AUTH LOGIN " + b64("bob")) == "334 " + b64("Password:")
    assert c.cmd(b64("hunter2")) == "235 2.7.0 Authentication successful"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"


def test_empty_initial_response_and_overlong_line(inst, pki):
    c = tls_client(inst.smtp_port, pki)
    c.ehlo()
    assert c.cmd("AUTH PLAIN =") == "334 "               # Dovecot asks again
    assert c.cmd("*") == "501 5.7.0 Authentication aborted"
    assert c.cmd("AUTH PLAIN") == "334 "
    assert c.cmd("A" * 20000) == "500 5.5.6 Authentication exchange line is too long"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    assert c.cmd("AUTH PLAIN " + plain("alice", "secret1")) == \
        "235 2.7.0 Authentication successful"


def test_plaintext_auth_is_esmtpa_and_header(inst, ports, pki):
    c = SmtpClient(ports["header"])
    assert ehlo_auth_lines(c.ehlo()) == ["AUTH PLAIN LOGIN"]
    assert c.cmd("AUTH PLAIN " + plain("bob", "hunter2")) == "235 2.7.0 Authentication successful"
    assert c.cmd("MAIL FROM:<bob@example.test> AUTH=<>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<someone@remote.example>") == "250 2.1.5 Ok"
    assert c.cmd("DATA").startswith("354")
    c.send(b"Subject: auth\r\n\r\nhi\r\n.\r\n")
    qid = queue_id(c.reply())
    assert re.search(r"Received: from client\.example\.org \(localhost \[127\.0\.0\.1\]\)\n"
                     r"\t\(Authenticated sender: bob\)\n"
                     r"\tby mx\.example\.test \(Postern\) with ESMTPA id " + qid,
                     postcat(inst, qid)), postcat(inst, qid)


def test_auth_parameter_on_mail(inst, pki):
    inst.mark_log()
    c = tls_client(inst.smtp_port, pki)
    c.ehlo()
    c.cmd("AUTH PLAIN " + plain("alice", "secret1"))
    assert c.cmd("MAIL FROM:<alice@example.test> AUTH=alice+40example.test") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<bob@example.test>") == "250 2.1.5 Ok"
    assert c.cmd("DATA").startswith("354")
    c.send(b"Subject: auth=\r\n\r\nhi\r\n.\r\n")
    qid = queue_id(c.reply())
    inst.wait_log(qid + r": client=localhost\[127\.0\.0\.1\], sasl_method=PLAIN, "
                        r"sasl_username=alice, sasl_sender=alice@example\.test\n")
    assert c.cmd("MAIL FROM:<a@b.example> AUTH=<> AUTH=<>") == \
        "503 5.5.4 Error: multiple AUTH= options"
    assert c.cmd("MAIL FROM:<a@b.example> AUTH=x+0Ay") == "501 5.5.4 Bad AUTH parameter syntax"
    assert c.cmd(b"MAIL FROM:<a@b.example> AUTH=x\ry") == "501 5.5.4 Bad AUTH parameter syntax"
    assert c.cmd(b"MAIL FROM:<a@b.example> AUTH=x\x00y") == "250 2.1.0 Ok"   # NUL ends the line
    assert c.cmd("RSET") == "250 2.0.0 Ok"
    assert c.cmd("MAIL FROM:<a@b.example> AUTH=<>") == "250 2.1.0 Ok"


def test_auth_disabled(inst, ports):
    c = SmtpClient(ports["noauth"])
    assert ehlo_auth_lines(c.ehlo()) == []
    assert c.cmd("AUTH PLAIN " + plain("alice", "secret1")) == \
        "503 5.5.1 Error: authentication not enabled"
    assert c.cmd("MAIL FROM:<a@b.example> AUTH=<>") == "555 5.5.4 Unsupported option: AUTH=<>"


def test_helo_required_before_auth(inst, ports):
    c = SmtpClient(ports["helo_required"])
    assert c.cmd("AUTH PLAIN " + plain("alice", "secret1")) == \
        "503 5.5.1 Error: send HELO/EHLO first"


def test_broken_sasl_auth_clients(inst, ports):
    c = SmtpClient(ports["broken"])
    reply = c.ehlo()
    assert ehlo_auth_lines(reply) == ["AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN"]
    keywords = [line[4:] for line in reply.split("\n")[1:]]
    assert keywords.index("AUTH PLAIN LOGIN") == keywords.index("STARTTLS") + 1


def test_exceptions_networks(inst, ports):
    c = SmtpClient(ports["exceptions"])
    assert ehlo_auth_lines(c.ehlo()) == []
    assert c.cmd("AUTH PLAIN " + plain("alice", "secret1")) == \
        "235 2.7.0 Authentication successful"


def test_security_options(inst, ports, pki):
    c = SmtpClient(ports["noplaintext"])
    assert ehlo_auth_lines(c.ehlo()) == []
    assert c.cmd("AUTH PLAIN " + plain("alice", "secret1")) == \
        "535 5.7.8 Error: authentication failed: Invalid authentication mechanism"
    c = tls_client(ports["noplaintext"], pki)
    assert ehlo_auth_lines(c.ehlo()) == ["AUTH PLAIN LOGIN"]
    assert c.cmd("AUTH PLAIN " + plain("alice", "secret1")) == \
        "235 2.7.0 Authentication successful"


def test_authentication_server_down(inst, ports):
    inst.mark_log()
    c = SmtpClient(ports["nodovecot"])
    assert ehlo_auth_lines(c.ehlo()) == []
    reply = c.cmd("AUTH PLAIN " + plain("alice", "secret1"))
    assert reply.startswith("454 4.7.0 Temporary authentication failure: Connect to "
                            "private/no-such-socket failed: "), reply
    inst.wait_log(r"warning: SASL: Connect to private/no-such-socket failed: ")
    assert c.cmd("NOOP") == "250 2.0.0 Ok"


# Failures count as errors; the rate limit -------------------------------------------

def test_failed_auth_counts_against_the_error_limit(inst, ports):
    inst.mark_log()
    c = SmtpClient(ports["errors"])
    c.ehlo()
    for _ in range(3):
        assert c.cmd("AUTH PLAIN " + plain("alice", "guess")).startswith("535 5.7.8 ")
    assert c.cmd("AUTH PLAIN " + plain("alice", "secret1")) == \
        "421 4.7.0 mx.example.test Error: too many errors"
    assert c.at_eof()
    inst.wait_log(r"too many errors after AUTH from localhost\[127\.0\.0\.1\]\n")


def test_auth_rate_limit(inst, ports):
    inst.mark_log()
    c = SmtpClient(ports["rate"])
    c.ehlo()
    assert c.cmd("AUTH PLAIN " + plain("alice", "guess")).startswith("535 5.7.8 ")
    assert c.cmd("AUTH PLAIN " + plain("alice", "guess")).startswith("535 5.7.8 ")
    assert c.cmd("AUTH PLAIN " + plain("alice", "secret1")) == \
        "450 4.7.1 Error: too many AUTH commands from 127.0.0.1"
    inst.wait_log(r"warning: AUTH command rate limit exceeded: 3 from localhost\[127\.0\.0\.1\] "
                  r"for service 127\.0\.0\.1:\d+\n")


# Restrictions ----------------------------------------------------------------------

def test_permit_sasl_authenticated(inst, pki):
    c = tls_client(inst.smtp_port, pki)
    c.ehlo()
    assert c.cmd("MAIL FROM:<alice@example.test>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<someone@remote.example>") == \
        "554 5.7.1 <someone@remote.example>: Relay access denied"
    assert c.cmd("RSET") == "250 2.0.0 Ok"
    c.cmd("AUTH PLAIN " + plain("alice", "secret1"))
    assert c.cmd("MAIL FROM:<alice@example.test>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<someone@remote.example>") == "250 2.1.5 Ok"


def login_map_replies(port, user, senders):
    c = SmtpClient(port)
    c.ehlo()
    if user:
        assert c.cmd("AUTH PLAIN " + plain(user, USERS[user])).startswith("235")
    replies = []
    for sender in senders:
        assert c.cmd(f"MAIL FROM:<{sender}>") == "250 2.1.0 Ok"
        replies.append(c.cmd("RCPT TO:<bob@example.test>"))
        c.cmd("RSET")
    return replies


def test_reject_sender_login_mismatch(inst, ports):
    inst.mark_log()
    senders = ["alice@example.test", "other@example.test", "shared@example.test", ""]
    assert login_map_replies(ports["login_maps"], None, senders) == [
        "553 5.7.1 <alice@example.test>: Sender address rejected: not logged in",
        "250 2.1.5 Ok", "553 5.7.1 <shared@example.test>: Sender address rejected: not logged in",
        "250 2.1.5 Ok"]
    assert login_map_replies(ports["login_maps"], "bob", senders) == [
        "553 5.7.1 <alice@example.test>: Sender address rejected: not owned by user bob",
        "553 5.7.1 <other@example.test>: Sender address rejected: not owned by user bob",
        "250 2.1.5 Ok", "250 2.1.5 Ok"]
    inst.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 553 5\.7\.1 "
                  r"<alice@example\.test>: Sender address rejected: not owned by user bob; "
                  r"from=<alice@example\.test> to=<bob@example\.test> proto=ESMTP "
                  r"helo=<client\.example\.org>\n")


def test_login_mismatch_variants(inst, ports):
    senders = ["alice@example.test", "other@example.test"]
    assert login_map_replies(ports["auth_login_maps"], None, senders) == ["250 2.1.5 Ok"] * 2
    assert login_map_replies(ports["auth_login_maps"], "bob", senders) == [
        "553 5.7.1 <alice@example.test>: Sender address rejected: not owned by user bob",
        "553 5.7.1 <other@example.test>: Sender address rejected: not owned by user bob"]
    assert login_map_replies(ports["unauth_login_maps"], "bob", senders) == ["250 2.1.5 Ok"] * 2
    assert login_map_replies(ports["unauth_login_maps"], None, senders) == [
        "553 5.7.1 <alice@example.test>: Sender address rejected: not logged in",
        "250 2.1.5 Ok"]
    assert login_map_replies(ports["known_login_maps"], "bob", senders) == [
        "553 5.7.1 <alice@example.test>: Sender address rejected: not owned by user bob",
        "250 2.1.5 Ok"]


def test_policy_server_sees_sasl_and_tls(inst, ports, pki, policy):
    c = tls_client(ports["policy"], pki)
    c.ehlo()
    c.cmd("AUTH PLAIN " + plain("alice", "secret1"))
    assert c.cmd("MAIL FROM:<alice@example.test> AUTH=<>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<bob@example.test>") == "250 2.1.5 Ok"
    request = policy.requests[-1]
    assert (request["sasl_method"], request["sasl_username"], request["sasl_sender"]) == \
        ("PLAIN", "alice", "")
    assert (request["encryption_protocol"], request["encryption_cipher"],
            request["encryption_keysize"]) == ("TLSv1.3", "TLS_AES_256_GCM_SHA384", "256")
    assert request["ccert_fingerprint"] == "" and request["ccert_subject"] == ""


# The submission services of the shipped master.cf ----------------------------------

def test_shipped_submission_services(make_instance, pki):
    ports = {"submission": free_port(), "submissions": free_port()}

    def uncomment(text):
        lines, active = [], None
        for line in text.split("\n"):
            head = re.match(r"#(submissions?) inet ", line)
            if head:
                active = head.group(1)
                line = f"127.0.0.1:{ports[active]}" + line[len(head.group(0)) - 6:]
            elif active and line.startswith("#  -o "):
                line = line[1:]
            else:
                active = None
            lines.append(line)
        return "\n".join(lines)

    inst = make_instance("submission", main_cf={
        "smtpd_tls_chain_files": f"{pki}/rsa.pem", "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": "private/auth", "smtpd_error_sleep_time": "0"},
        master_cf_edit=uncomment)
    assert f"127.0.0.1:{ports['submissions']} inet" in (inst.config_dir / "master.cf").read_text()
    inst.start()
    dovecot = Dovecot("submission", inst.queue_dir / "private" / "auth", USERS,
                      socket_owner="postfix").start()
    try:
        c = SmtpClient(ports["submission"])
        reply = c.ehlo()
        assert "STARTTLS" in reply and ehlo_auth_lines(reply) == []
        assert c.cmd("MAIL FROM:<alice@example.test>") == \
            "530 5.7.0 Must issue a STARTTLS command first"
        result = swaks(ports["submission"], pki, "--tls", "--auth", "PLAIN", "--auth-user",
                       "alice", "--auth-password", "secret1", "--to", "x@remote.example")
        assert result.returncode == 0, result.stdout
        result = swaks(ports["submissions"], pki, "--tlsc", "--to", "x@remote.example")
        assert "<~* 554 5.7.1 <x@remote.example>: Recipient address rejected: Access denied" \
            in result.stdout, result.stdout
        result = swaks(ports["submissions"], pki, "--tlsc", "--auth", "LOGIN", "--auth-user",
                       "bob", "--auth-password", "hunter2", "--to", "x@remote.example")
        assert result.returncode == 0, result.stdout
        inst.wait_log(r"postfix/submissions/smtpd\[\d+\]: [0-9A-F]+: client=localhost"
                      r"\[127\.0\.0\.1\], sasl_method=LOGIN, sasl_username=bob\n")
    finally:
        dovecot.stop()
