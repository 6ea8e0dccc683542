"""smtpd STARTTLS and wrapper mode against real TLS peers (openssl s_client,
swaks, Python's ssl), with a test CA made by openssl for this module.

Messages are held (smtpd_data_restrictions = check_client_access
static:HOLD) so postcat can show the Received: header smtpd wrote."""
import base64
import re
import shutil
import ssl
import subprocess
import time

import pytest

from conftest import SBIN, free_port, wait_for
from smtpd_client import SmtpClient, listeners, queue_id
from tls_helpers import (SClient, client_context, fingerprint, make_pki, read_within,
                         s_client_once, starttls)

USERS = "inline:{ alice=1, bob=1 }"
LOG_SUMMARY = (r"Anonymous TLS connection established from localhost\[127\.0\.0\.1\]: "
               r"TLSv1\.3 with cipher TLS_AES_256_GCM_SHA384 \(256/256 bits\) key-exchange "
               r"X25519 server-signature ECDSA \(prime256v1\) server-digest SHA256\n")


@pytest.fixture(scope="module")
def pki():
    root = make_pki("smtpd-tls")
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def setup(module_instance_factory, pki):
    sni = pki / "sni.texthash"
    encoded = base64.b64encode((pki / "sni.pem").read_bytes()).decode()
    sni.write_text(f"alt.example.net {encoded}\n.wild.example.net {encoded}\n")
    ports, main_cf, edit = listeners({
        "encrypt": {"smtpd_tls_security_level": "encrypt"},
        "legacy_enforce": {"smtpd_tls_security_level": "", "smtpd_enforce_tls": "yes"},
        "legacy_use": {"smtpd_tls_security_level": "", "smtpd_use_tls": "yes"},
        "wrapper": {"smtpd_tls_wrappermode": "yes"},
        "lenient": {"smtpd_forbid_unauth_pipelining": "no"},
        "none": {"smtpd_tls_security_level": "none"},
        "nocert": {"smtpd_tls_chain_files": ""},
        "ccert": {"smtpd_tls_ask_ccert": "yes", "smtpd_tls_CAfile": f"{pki}/ca.pem",
                  "relay_clientcerts": f"inline:{{ {fingerprint(pki, 'client')}=client }}",
                  "smtpd_relay_restrictions": "permit_tls_clientcerts, "
                                              "reject_unauth_destination"},
        "allcerts": {"smtpd_tls_ask_ccert": "yes", "smtpd_tls_CAfile": f"{pki}/ca.pem",
                     "smtpd_relay_restrictions": "permit_tls_all_clientcerts, "
                                                 "reject_unauth_destination"},
        "pkeycert": {"smtpd_tls_ask_ccert": "yes",
                     "relay_clientcerts": "inline:{ "
                                          f"{fingerprint(pki, 'client', True)}=client }}",
                     "smtpd_relay_restrictions": "permit_tls_clientcerts, "
                                                 "reject_unauth_destination"},
        "tls13": {"smtpd_tls_protocols": ">=TLSv1.3"},
        "tls12": {"smtpd_tls_security_level": "encrypt",
                  "smtpd_tls_mandatory_protocols": "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.3"},
        "exclude": {"smtpd_tls_exclude_ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384"},
        "dh": {"smtpd_tls_chain_files": f"{pki}/rsa.pem",
               "smtpd_tls_dh1024_param_file": f"{pki}/dh.pem"},
        "noticket": {"tls_ssl_options": "NO_TICKET"},
        "sni": {"tls_server_sni_maps": f"texthash:{sni}"},
        "rsa_only": {"smtpd_tls_chain_files": "", "smtpd_tls_cert_file": f"{pki}/rsa.crt",
                     "smtpd_tls_key_file": f"{pki}/rsa.key"},
        "noheader": {"smtpd_tls_received_header": "no"},
        "slow": {"smtpd_starttls_timeout": "2s"},
        "slow_wrapper": {"smtpd_starttls_timeout": "2s", "smtpd_tls_wrappermode": "yes"},
    }, free_port)
    main_cf.update({
        "mydestination": "$myhostname, localhost, $mydomain",
        "local_recipient_maps": USERS,
        "smtpd_error_sleep_time": "0",
        "smtpd_tls_security_level": "may",
        "smtpd_tls_chain_files": f"{pki}/rsa.pem, {pki}/ec.pem",
        "smtpd_tls_loglevel": "1",
        "smtpd_tls_received_header": "yes",
        "smtpd_data_restrictions": "check_client_access static:HOLD",
    })
    inst = module_instance_factory("smtpd-tls", main_cf=main_cf, master_cf_edit=edit)
    inst.start()
    return inst, ports


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


def ehlo_keywords(reply):
    return [line[4:] for line in reply.split("\n")[1:]]


def send_message(c, rcpt="alice@example.test"):
    assert c.cmd("MAIL FROM:<sender@client.example.org>") == "250 2.1.0 Ok"
    assert c.cmd(f"RCPT TO:<{rcpt}>") == "250 2.1.5 Ok"
    assert c.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    c.send("Subject: tls test")
    c.send("")
    c.send("hello over TLS")
    return queue_id(c.cmd("."))


# openssl s_client and swaks complete a session and send mail --------------------

def test_openssl_s_client_starttls_sends_mail(inst, pki):
    inst.mark_log()
    c = SClient(inst.smtp_port, pki)
    keywords = ehlo_keywords(c.cmd("EHLO client.example.org"))
    assert "STARTTLS" not in keywords and "PIPELINING" in keywords
    qid = send_message(c)
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    stderr = c.close()
    assert "verify return:1" in stderr and "CN = mx.example.com" in stderr
    inst.wait_log(LOG_SUMMARY)
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=2 starttls=1 mail=1 rcpt=1 "
                  r"data=1 quit=1 commands=7\n")
    text = postcat(inst, qid)
    assert re.search(r"Received: from client\.example\.org \(localhost \[127\.0\.0\.1\]\)\n"
                     r"\t\(using TLSv1\.3 with cipher TLS_AES_256_GCM_SHA384 \(256/256 bits\)\n"
                     r"\t key-exchange X25519 server-signature ECDSA \(prime256v1\) "
                     r"server-digest SHA256\)\n"
                     r"\t\(No client certificate requested\)\n"
                     r"\tby mx\.example\.test \(Postern\) with ESMTPS id " + qid + r"\n"
                     r"\tfor <alice@example\.test>; ", text), text


def test_swaks_tls_sends_mail(inst, pki):
    inst.mark_log()
    result = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{inst.smtp_port}", "--tls", "--tls-verify",
         "--tls-ca-path", str(pki / "ca.pem"), "--tls-sni", "mx.example.com",
         "--from", "sender@client.example.org", "--to", "bob@example.test",
         "-h", "swaks.example.org"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<-  220 2.0.0 Ready to start TLS" in result.stdout
    assert "=== TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256" in result.stdout
    qid = re.search(r"<~  250 2\.0\.0 Ok: queued as ([0-9A-F]+)", result.stdout).group(1)
    assert "with ESMTPS id " + qid in postcat(inst, qid)
    inst.wait_log(qid + r": client=localhost\[127\.0\.0\.1\]\n")


def test_rsa_certificate_from_legacy_parameters(inst, ports, pki):
    rc, out = s_client_once(ports["rsa_only"], pki, ["-tls1_2", "-verify_return_error"])
    assert rc == 0, out
    assert re.search(r"Cipher is ECDHE-RSA-", out), out
    rc, out = s_client_once(inst.smtp_port, pki, ["-tls1_2", "-sigalgs", "RSA-PSS+SHA256",
                                                  "-verify_return_error"])
    assert rc == 0 and "Peer signature type: RSA-PSS" in out, out
    rc, out = s_client_once(inst.smtp_port, pki, ["-tls1_2", "-sigalgs", "ECDSA+SHA256",
                                                  "-verify_return_error"])
    assert rc == 0 and "Peer signature type: ECDSA" in out, out


# EHLO, the STARTTLS command and its replies -----------------------------------------

def test_starttls_replies(inst, ports, pki):
    c = SmtpClient(inst.smtp_port)
    keywords = ehlo_keywords(c.ehlo())
    assert keywords.index("STARTTLS") == keywords.index("ETRN") + 1
    assert c.cmd("STARTTLS now") == "501 5.5.4 Syntax: STARTTLS"
    assert c.cmd("MAIL FROM:<a@client.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    starttls(c, client_context(pki))
    assert c.cmd("RCPT TO:<alice@example.test>") == "503 5.5.1 Error: need MAIL command"
    assert "STARTTLS" not in ehlo_keywords(c.ehlo())
    assert c.cmd("STARTTLS") == "554 5.5.1 Error: TLS already active"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    c = SmtpClient(ports["none"])
    assert "STARTTLS" not in ehlo_keywords(c.ehlo())
    assert c.cmd("STARTTLS") == "502 5.5.1 Error: command not implemented"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"


def test_no_certificate_means_no_tls(inst, ports):
    inst.mark_log()
    c = SmtpClient(ports["nocert"])
    assert "STARTTLS" not in ehlo_keywords(c.ehlo())
    assert c.cmd("STARTTLS") == "454 4.7.0 TLS not available due to local problem"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    inst.wait_log(r"warning: No server certs available\. TLS won't be enabled\n")


def test_encrypt_requires_starttls(inst, ports, pki):
    inst.mark_log()
    c = SmtpClient(ports["encrypt"])
    for command in ("MAIL FROM:<a@client.example.org>", "RCPT TO:<alice@example.test>",
                    "DATA", "RSET", "VRFY alice", "ETRN example.test", "BDAT 1 LAST"):
        assert c.cmd(command) == "530 5.7.0 Must issue a STARTTLS command first", command
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    assert c.cmd("HELO client.example.org") == "250 mx.example.test"
    assert "STARTTLS" in ehlo_keywords(c.ehlo())
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    starttls(c, client_context(pki))
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@client.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] helo=1 ehlo=2 starttls=1 "
                  r"mail=1/2 rcpt=0/1 data=0/1 bdat=0/1 rset=0/1 noop=1 vrfy=0/1 etrn=0/1 "
                  r"quit=1 commands=7/14\n")


def test_encrypt_errors_count_toward_the_limit(inst, ports):
    c = SmtpClient(ports["encrypt"])
    replies = [c.cmd("RSET") for _ in range(20)]
    assert replies == ["530 5.7.0 Must issue a STARTTLS command first"] * 20
    assert c.reply() == "421 4.7.0 mx.example.test Error: too many errors"
    assert c.at_eof()


@pytest.mark.parametrize("name", ["legacy_enforce", "legacy_use"])
def test_legacy_parameters(inst, ports, pki, name):
    c = SmtpClient(ports[name])
    assert "STARTTLS" in ehlo_keywords(c.ehlo())
    expected = ("530 5.7.0 Must issue a STARTTLS command first" if name == "legacy_enforce"
                else "250 2.1.0 Ok")
    assert c.cmd("MAIL FROM:<a@client.example.org>") == expected


def test_failed_handshake_ends_the_session(inst, pki):
    inst.mark_log()
    c = SmtpClient(inst.smtp_port)
    c.ehlo()
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    c.send(b"this is not a ClientHello\r\n\r\n")
    assert c.at_eof()
    inst.wait_log(r"SSL_accept error from localhost\[127\.0\.0\.1\]: -1\n.*"
                  r"warning: TLS library problem: error:[0-9A-F]+:SSL routines::.*\n.*"
                  r"lost connection after STARTTLS from localhost\[127\.0\.0\.1\]\n.*"
                  r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 starttls=0/1 "
                  r"commands=1/2\n")
    c = SClient(inst.smtp_port, pki)
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


@pytest.mark.parametrize("trickle", [False, True])
def test_slow_handshake_times_out(inst, ports, pki, trickle):
    """A client that stalls (or trickles) its handshake is cut off at smtpd_starttls_timeout."""
    inst.mark_log()
    c = SmtpClient(ports["slow"])
    c.ehlo()
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    start = time.monotonic()
    if trickle:
        hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40
        for byte in hello:
            if c.at_eof(timeout=0.2):
                break
            c.send(bytes([byte]))
    assert c.at_eof(timeout=10)
    assert time.monotonic() - start < 6
    inst.wait_log(r"SSL_accept error from localhost\[127\.0\.0\.1\]: Connection timed out\n.*"
                  r"lost connection after STARTTLS from localhost\[127\.0\.0\.1\]\n")
    still = SClient(ports["slow"], pki)
    assert still.cmd("NOOP") == "250 2.0.0 Ok"
    still.close()


def test_slow_wrapper_client_times_out(inst, ports):
    inst.mark_log()
    c = SmtpClient(ports["slow_wrapper"], greet=False)
    start = time.monotonic()
    assert c.at_eof(timeout=10)
    assert 1.5 < time.monotonic() - start < 6
    inst.wait_log(r"SSL_accept error from localhost\[127\.0\.0\.1\]: Connection timed out\n.*"
                  r"lost connection after CONNECT from localhost\[127\.0\.0\.1\]\n")


# CVE-2011-0411: plaintext pipelined after STARTTLS --------------------------------

def test_starttls_injection_is_discarded(inst, ports, pki):
    inst.mark_log()
    c = SmtpClient(ports["lenient"])
    c.ehlo()
    c.send(b"STARTTLS\r\nRSET\r\n")
    assert c.reply() == "220 2.0.0 Ready to start TLS"
    tls = starttls(c, client_context(pki))
    assert read_within(tls, 2.0) is None          # nothing answered inside TLS
    assert c.cmd("EHLO client.example.org").startswith("250-mx.example.test\n")
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    inst.wait_log(r"improper command pipelining after STARTTLS from localhost\[127\.0\.0\.1\]: "
                  r"RSET\\r\\n\n")
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=2 starttls=1 noop=1 quit=1 "
                  r"commands=5\n")


def test_starttls_injection_refused_by_default(inst, pki):
    c = SmtpClient(inst.smtp_port)
    c.ehlo()
    c.send(b"STARTTLS\r\nRSET\r\n")
    assert c.reply() == "554 5.5.0 Error: SMTP protocol synchronization"
    assert c.at_eof()


# Implicit TLS (wrapper mode) ---------------------------------------------------

def test_swaks_tls_on_connect(inst, ports, pki):
    inst.mark_log()
    result = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{ports['wrapper']}", "--tlsc", "--tls-verify",
         "--tls-ca-path", str(pki / "ca.pem"), "--tls-sni", "mx.example.com",
         "--from", "sender@client.example.org", "--to", "alice@example.test",
         "-h", "swaks.example.org"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<~  220 mx.example.test ESMTP Postern" in result.stdout
    qid = re.search(r"<~  250 2\.0\.0 Ok: queued as ([0-9A-F]+)", result.stdout).group(1)
    assert "with ESMTPS id " + qid in postcat(inst, qid)
    assert "STARTTLS" not in re.findall(r"<~  250.(\S+)", result.stdout)
    inst.wait_log(LOG_SUMMARY)


def test_wrapper_mode_plaintext_client(inst, ports):
    inst.mark_log()
    c = SmtpClient(ports["wrapper"], greet=False)
    c.send(b"EHLO plain.example\r\n")
    assert c.at_eof()
    inst.wait_log(r"lost connection after CONNECT from localhost\[127\.0\.0\.1\]\n")


# Protocols, ciphers, options, DH, client certificates, SNI -----------------------

def test_protocols(inst, ports, pki):
    rc, out = s_client_once(ports["tls13"], pki, ["-tls1_2"])
    assert rc != 0 and "Cipher is (NONE)" in out, out
    rc, out = s_client_once(ports["tls13"], pki, ["-tls1_3"])
    assert rc == 0 and "New, TLSv1.3" in out, out
    rc, out = s_client_once(ports["tls12"], pki)
    assert rc == 0 and "New, TLSv1.2, Cipher is" in out, out


def test_exclude_ciphers(inst, ports, pki):
    cipher = "ECDHE-ECDSA-AES256-GCM-SHA384"
    rc, out = s_client_once(inst.smtp_port, pki, ["-tls1_2", "-cipher", cipher])
    assert rc == 0 and f"Cipher is {cipher}" in out, out
    rc, out = s_client_once(ports["exclude"], pki, ["-tls1_2", "-cipher", cipher])
    assert rc != 0 and "Cipher is (NONE)" in out, out


def test_dh_parameter_file(inst, ports, pki):
    rc, out = s_client_once(ports["dh"], pki, ["-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384"])
    assert rc == 0 and "Server Temp Key: DH, 2048 bits" in out, out


def test_tls_ssl_options_no_ticket(inst, ports, pki):
    rc, out = s_client_once(inst.smtp_port, pki, ["-tls1_2"])
    assert rc == 0 and "TLS session ticket lifetime hint" in out, out
    rc, out = s_client_once(ports["noticket"], pki, ["-tls1_2"])
    assert rc == 0 and "TLS session ticket lifetime hint" not in out, out


def relay_attempt(port, pki, cert):
    c = SmtpClient(port)
    c.ehlo()
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    starttls(c, client_context(pki, cert=cert))
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@client.example.org>") == "250 2.1.0 Ok"
    reply = c.cmd("RCPT TO:<someone@remote.example>")
    qid = None
    if reply == "250 2.1.5 Ok":
        assert c.cmd("DATA").startswith("354")
        c.send(b"Subject: relayed\r\n\r\nhi\r\n.\r\n")
        qid = queue_id(c.reply())
    c.cmd("QUIT")
    return reply, qid


def test_relay_clientcerts(inst, ports, pki):
    inst.mark_log()
    reply, qid = relay_attempt(ports["ccert"], pki, pki / "client.pem")
    assert reply == "250 2.1.5 Ok"
    inst.wait_log(r"Trusted TLS connection established from localhost\[127\.0\.0\.1\]: TLSv1\.3 "
                  r"with cipher \S+ \(\d+/\d+ bits\) key-exchange \S+ server-signature .* "
                  r"client-signature ECDSA \(prime256v1\) client-digest SHA256\n")
    assert re.search(r'\t\(Client CN "client\.example\.com", Issuer "Postern Test CA" '
                     r'\(verified OK\)\)\n', postcat(inst, qid))
    reply, _ = relay_attempt(ports["ccert"], pki, pki / "wrong.pem")
    assert reply == "554 5.7.1 <someone@remote.example>: Relay access denied"
    reply, qid = relay_attempt(ports["ccert"], pki, None)
    assert reply == "554 5.7.1 <someone@remote.example>: Relay access denied"
    reply, _ = relay_attempt(ports["pkeycert"], pki, pki / "client.pem")
    assert reply == "250 2.1.5 Ok"


def test_permit_tls_all_clientcerts(inst, ports, pki):
    reply, qid = relay_attempt(ports["allcerts"], pki, pki / "wrong.pem")
    assert reply == "250 2.1.5 Ok"
    reply, _ = relay_attempt(ports["allcerts"], pki, pki / "untrusted.pem")
    assert reply == "554 5.7.1 <someone@remote.example>: Relay access denied"


def test_client_certificate_not_presented(inst, ports, pki):
    c = SmtpClient(ports["ccert"])
    c.ehlo()
    c.cmd("STARTTLS")
    starttls(c, client_context(pki))
    c.ehlo()
    qid = None
    assert c.cmd("MAIL FROM:<a@client.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.cmd("DATA").startswith("354")
    c.send(b"Subject: x\r\n\r\nhi\r\n.\r\n")
    qid = queue_id(c.reply())
    assert "\t(Client did not present a certificate)\n" in postcat(inst, qid)


def test_sni(inst, ports, pki):
    rc, out = s_client_once(ports["sni"], pki, ["-servername", "alt.example.net",
                                                "-verify_hostname", "alt.example.net",
                                                "-verify_return_error"])
    assert rc == 0 and "subject=CN = alt.example.net" in out, out
    rc, out = s_client_once(ports["sni"], pki, ["-servername", "x.wild.example.net"])
    assert rc == 0 and "subject=CN = alt.example.net" in out, out
    rc, out = s_client_once(ports["sni"], pki, ["-servername", "mx.example.com",
                                                "-verify_return_error"])
    assert rc == 0 and "subject=CN = mx.example.com" in out, out


def test_received_header_option(inst, ports, pki):
    c = SClient(ports["noheader"], pki)
    c.cmd("EHLO client.example.org")
    qid = send_message(c)
    c.cmd("QUIT")
    c.close()
    text = postcat(inst, qid)
    assert "(using TLS" not in text and "with ESMTPS id " + qid in text


def test_helo_session_keeps_protocol_smtp(inst, pki):
    c = SClient(inst.smtp_port, pki)
    assert c.cmd("HELO client.example.org") == "250 mx.example.test"
    qid = send_message(c)
    c.close()
    assert "with SMTP id " + qid in postcat(inst, qid)


def test_plaintext_after_tls_stays_served(inst, pki):
    """A TLS client that vanishes mid-session leaves the daemon serving."""
    c = SmtpClient(inst.smtp_port)
    c.ehlo()
    c.cmd("STARTTLS")
    tls = starttls(c, client_context(pki))
    tls.sendall(b"MAIL FROM:<a@client.example.org>\r\n")
    c.close()
    c = SmtpClient(inst.smtp_port)
    assert c.cmd("NOOP") == "250 2.0.0 Ok"


def test_tls_version_of_python_client(inst, pki):
    c = SmtpClient(inst.smtp_port)
    c.ehlo()
    c.cmd("STARTTLS")
    tls = starttls(c, client_context(pki, version=ssl.TLSVersion.TLSv1_2))
    assert tls.version() == "TLSv1.2"
    assert c.cmd("EHLO client.example.org").startswith("250-")
