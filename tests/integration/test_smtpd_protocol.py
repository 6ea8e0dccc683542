"""smtpd, the protocol: greeting, EHLO, each command and its replies (the
texts of docs/../reference Postfix), sequence and syntax errors, BDAT,
queueing through cleanup, the Received: header, log lines, and that the
session (or the next one) still works after every error."""
import re
import subprocess

import pytest

from conftest import SBIN, free_port
from smtpd_client import INSIDER, SmtpClient, message, queue_files, queue_id

EHLO_REPLY = "\n".join([
    "250-mx.example.test", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY", "250-ETRN",
    "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN", "250-SMTPUTF8", "250 CHUNKING",
])

USERS = "inline:{ alice=1, bob=1 }"


@pytest.fixture(scope="module")
def ports():
    return {"discard": free_port(), "small": free_port(), "strict": free_port(),
            "ipv6": free_port(), "nolookup": free_port()}


@pytest.fixture(scope="module")
def inst(module_instance_factory, ports):
    """One instance; extra listeners carry the settings some tests need."""
    def listeners(text):
        return text + "".join([
            f"127.0.0.1:{ports['discard']} inet n - y - - smtpd"
            " -o smtpd_discard_ehlo_keywords=$discard_keywords -o disable_vrfy_command=yes\n",
            f"127.0.0.1:{ports['small']} inet n - y - - smtpd -o message_size_limit=2000"
            " -o smtpd_recipient_limit=2 -o smtpd_recipient_overshoot_limit=1"
            " -o smtpd_hard_error_limit=5\n",
            f"127.0.0.1:{ports['strict']} inet n - y - - smtpd -o smtpd_helo_required=yes"
            " -o strict_rfc821_envelopes=yes\n",
            f"[::1]:{ports['ipv6']} inet n - y - - smtpd\n",
            f"127.0.0.1:{ports['nolookup']} inet n - y - - smtpd -o smtpd_peername_lookup=no"
            " -o smtpd_client_port_logging=yes\n",
        ])
    inst = module_instance_factory("smtpd-protocol", main_cf={
        "mydestination": "$myhostname, localhost, $mydomain",
        "local_recipient_maps": USERS,
        "smtpd_error_sleep_time": "0",
        "smtpd_data_restrictions": "check_client_access static:HOLD",
        "discard_keywords": "dsn,chunking,smtputf8,pipelining",
    }, master_cf_edit=listeners)
    return inst.start()


def client(inst, port=None, source="127.0.0.1"):
    c = SmtpClient(port or inst.smtp_port, source=source)
    assert c.banner == "220 mx.example.test ESMTP Postern"
    return c


def postcat(inst, qid):
    return subprocess.run([str(SBIN / "postcat"), "-c", str(inst.config_dir), "-q", qid],
                          capture_output=True, text=True, timeout=30).stdout


def test_greeting_ehlo_helo_quit(inst):
    inst.mark_log()
    c = client(inst)
    assert c.ehlo() == EHLO_REPLY
    assert c.cmd("HELO client.example.org") == "250 mx.example.test"
    assert c.cmd("HELO") == "501 Syntax: HELO hostname"
    assert c.cmd("EHLO") == "501 Syntax: EHLO hostname"
    assert c.cmd("HELO [127.0.0.1]") == "250 mx.example.test"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    assert c.at_eof()
    inst.wait_log(r"postfix/smtpd\[\d+\]: connect from localhost\[127\.0\.0\.1\]\n")
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] helo=2/3 ehlo=1/2 quit=1 "
                  r"commands=4/6\n")


def test_discarded_ehlo_keywords_turn_features_off(inst, ports):
    c = client(inst, ports["discard"])
    assert c.ehlo() == "\n".join(["250-mx.example.test", "250-SIZE 10240000", "250-ETRN",
                                  "250-ENHANCEDSTATUSCODES", "250 8BITMIME"])
    assert c.cmd("VRFY alice") == "502 5.5.1 VRFY command is disabled"
    assert c.cmd("MAIL FROM:<a@c.example.org> RET=FULL") == "501 5.7.1 DSN support is disabled"
    assert c.cmd("MAIL FROM:<a@c.example.org> SMTPUTF8") == \
        "555 5.5.4 Unsupported option: SMTPUTF8"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


def test_sequence_errors(inst):
    c = client(inst)
    c.ehlo()
    assert c.cmd("RCPT TO:<alice@example.test>") == "503 5.5.1 Error: need MAIL command"
    assert c.cmd("DATA") == "503 5.5.1 Error: need RCPT command"
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "503 5.5.1 Error: nested MAIL command"
    assert c.cmd("DATA") == "554 5.5.1 Error: no valid recipients"
    assert c.cmd("RSET") == "250 2.0.0 Ok"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    c.close()


def test_helo_required(inst, ports):
    c = client(inst, ports["strict"])
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "503 5.5.1 Error: send HELO/EHLO first"
    assert c.cmd("HELO c.example.org") == "250 mx.example.test"
    assert c.cmd("MAIL FROM:a@c.example.org") == "501 5.1.7 Bad sender address syntax"
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    c.close()


def test_syntax_errors(inst):
    c = client(inst)
    c.ehlo()
    assert c.cmd("FROBNICATE") == "500 5.5.2 Error: command not recognized"
    assert c.cmd("") == "500 5.5.2 Error: bad syntax"
    assert c.cmd(b"\xff\xfe") == "500 5.5.2 Error: bad UTF-8 syntax"
    assert c.cmd("MAIL FROM:") == "501 5.5.4 Syntax: MAIL FROM:<address>"
    assert c.cmd("MAIL TO:<a@b>") == "501 5.5.4 Syntax: MAIL FROM:<address>"
    assert c.cmd("MAIL FROM:<a@c.example.org> SIZE=abc") == "501 5.5.4 Bad message size syntax"
    assert c.cmd("MAIL FROM:<a@c.example.org> FOO=bar") == "555 5.5.4 Unsupported option: FOO=bar"
    assert c.cmd("MAIL FROM:<a@c.example.org> BODY=9BIT") == \
        "555 5.5.4 Unsupported option: BODY=9BIT"
    assert c.cmd("MAIL FROM:<a b@c>") == "501 5.1.7 Bad sender address syntax"
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:") == "501 5.5.4 Syntax: RCPT TO:<address>"
    assert c.cmd("RCPT TO:<alice@example.test> BOGUS=1") == "555 5.5.4 Unsupported option: BOGUS=1"
    assert c.cmd("RCPT TO:<alice@example.test> NOTIFY=NEVER,SUCCESS") == \
        "501 5.5.4 Error: Bad NOTIFY parameter syntax"
    assert c.cmd("RCPT TO:<alice@example.test> ORCPT=x") == \
        "501 5.5.4 Error: Bad ORCPT parameter syntax"
    assert c.cmd("RCPT TO:<a b@example.test>") == "501 5.1.3 Bad recipient address syntax"
    assert c.cmd("RSET x") == "501 5.5.4 Syntax: RSET"
    assert c.cmd("NOOP x") == "501 5.5.4 Syntax: NOOP"
    assert c.cmd("DATA x") == "554 5.5.1 Error: no valid recipients"
    assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.cmd("DATA x") == "501 5.5.4 Syntax: DATA"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


def test_vrfy_etrn_help(inst):
    c = client(inst)
    assert c.cmd("ETRN example.test") == "503 Error: send HELO/EHLO first"
    c.ehlo()
    assert c.cmd("VRFY") == "501 5.5.4 Syntax: VRFY address [SMTPUTF8]"
    assert c.cmd("VRFY alice") == "252 2.0.0 alice"
    assert c.cmd("VRFY <alice@example.test>") == "252 2.0.0 <alice@example.test>"
    assert c.cmd("VRFY nosuch") == ("550 5.1.1 <nosuch>: Recipient address rejected: "
                                    "User unknown in local recipient table")
    assert c.cmd("VRFY bob x") == "501 5.1.3 Bad recipient address syntax"
    assert c.cmd("ETRN") == "500 Syntax: ETRN domain"
    assert c.cmd("ETRN a b") == "500 Syntax: ETRN domain"
    assert c.cmd("ETRN .x") == "501 Error: invalid parameter syntax"
    assert c.cmd("HELP") == ("214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP VRFY"
                             " ETRN HELP QUIT")
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("ETRN example.test") == "503 Error: MAIL transaction in progress"
    c.close()


def test_size_limits(inst, ports):
    inst.mark_log()
    c = client(inst, ports["small"])
    assert "250-SIZE 2000" in c.ehlo()
    assert c.cmd("MAIL FROM:<a@c.example.org> SIZE=2001") == \
        "552 5.3.4 Message size exceeds fixed limit"
    inst.wait_log(r"NOQUEUE: reject: MAIL from localhost\[127\.0\.0\.1\]: 552 5\.3\.4 Message "
                  r"size exceeds fixed limit; from=<a@c\.example\.org> proto=ESMTP "
                  r"helo=<client\.example\.org>\n")
    assert c.cmd("MAIL FROM:<a@c.example.org> SIZE=99999999999999999999") == \
        "552 5.3.4 Message size exceeds file system imposed limit"
    before = queue_files(inst, "hold")
    reply = message(c, "a@c.example.org", ["alice@example.test"],
                    b"Subject: big\r\n\r\n" + b"x" * 3000 + b"\r\n.\r\n")
    assert reply == "552 5.3.4 Error: message file too big"
    assert queue_files(inst, "hold") == before
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    c.close()


def test_recipient_limit_and_overshoot(inst, ports):
    c = client(inst, ports["small"])
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.cmd("RCPT TO:<bob@example.test>") == "250 2.1.5 Ok"
    refused = 0
    while True:
        reply = c.cmd("RCPT TO:<alice@example.test>")
        if reply.startswith("421"):
            break
        assert reply == "452 4.5.3 Error: too many recipients"
        refused += 1
    # one overshoot is free, then each counts as an error: 5 errors end the session
    assert refused == 6
    assert reply == "421 4.7.0 mx.example.test Error: too many errors"
    assert c.at_eof()
    c = client(inst, ports["small"])
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


def test_message_is_queued_with_received_header(inst):
    inst.mark_log()
    c = client(inst)
    c.ehlo("c.example.org")
    reply = message(c, "a@c.example.org", ["alice@example.test"],
                    b"Subject: hello\r\n\r\nbody\r\n..dot\r\n.\r\n")
    qid = queue_id(reply)
    inst.wait_log(rf"postfix/smtpd\[\d+\]: {qid}: client=localhost\[127\.0\.0\.1\]\n")
    text = postcat(inst, qid)
    assert re.search(r"Received: from c\.example\.org \(localhost \[127\.0\.0\.1\]\)\n"
                     rf"\tby mx\.example\.test \(Postern\) with ESMTP id {qid}\n"
                     r"\tfor <alice@example\.test>; \w{3}, \d+ \w{3} \d{4} \d\d:\d\d:\d\d "
                     r"[+-]\d{4}", text), text
    assert "\nbody\n.dot\n" in text
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=1 "
                  r"quit=1 commands=5\n")
    inst.mark_log()
    c = client(inst)
    c.ehlo()
    queue_id(message(c, "a@c.example.org", ["alice@example.test"], b"Subject: x\r\n\r\n.\r\n"))
    c.close()                                       # leaves without QUIT: no news
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=1 "
                  r"commands=4\n")
    assert "lost connection" not in inst.new_log()


def test_received_header_many_recipients_and_envelope(inst):
    c = client(inst, source=INSIDER)
    c.cmd("HELO h.example")
    assert c.cmd("MAIL FROM:<> ENVID=abc+2Bd RET=HDRS") == "250 2.1.0 Ok"
    assert c.cmd('RCPT TO:<"alice"@example.test> NOTIFY=SUCCESS,FAILURE') == "250 2.1.5 Ok"
    assert c.cmd("RCPT TO:<bob@example.test> ORCPT=rfc822;bob+2B1@example.test") == \
        "250 2.1.5 Ok"
    assert c.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    c.send(b"Subject: two\r\n\r\nhi\r\n.\r\n")
    qid = queue_id(c.reply())
    text = postcat(inst, qid)
    assert re.search(r"Received: from h\.example \(unknown \[127\.0\.0\.2\]\)\n"
                     rf"\tby mx\.example\.test \(Postern\) with SMTP id {qid};\n"
                     r"\t\w{3}, \d+ \w{3} \d{4}", text), text
    assert "sender: \n" in text
    assert "dsn_orig_rcpt: rfc822;\"alice\"@example.test" in text
    assert "dsn_orig_rcpt: rfc822;bob+2B1@example.test" in text
    assert "recipient: alice@example.test" in text
    assert "named_attribute: dsn_envid=abc+d\n" in text
    assert "named_attribute: dsn_ret=2\n" in text
    assert "named_attribute: protocol=SMTP\n" in text
    assert "named_attribute: rewrite_context=remote\n" in text
    c.close()


def test_bdat(inst):
    inst.mark_log()
    c = client(inst)
    c.ehlo()
    c.send(b"BDAT 5\r\nhello")
    assert c.reply() == "503 5.5.1 Error: need RCPT command"
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "503 5.5.1 Error: MAIL after BDAT"
    c.send(b"BDAT 5\r\nhello")
    assert c.reply() == "551 5.0.0 Discarded 5 bytes after earlier error"
    assert c.cmd("BDAT 0") == "551 5.7.1 Null BDAT request"
    assert c.cmd("DATA") == "503 5.5.1 Error: DATA after BDAT"
    c.send(b"BDAT 3 LAST\r\nabc")
    assert c.reply() == "551 5.0.0 Discarded 3 bytes after earlier error"
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    c.send(b"BDAT 12\r\nSubject: x\r\n")
    assert c.reply() == "250 2.0.0 Ok: 12 bytes"
    assert c.cmd("RCPT TO:<bob@example.test>") == "503 5.5.1 Error: RCPT after BDAT"
    c.send(b"BDAT 8 LAST\r\n\r\nbody\r\n")
    qid = queue_id(c.reply())
    assert "\nbody\n" in postcat(inst, qid)
    assert c.cmd("BDAT 5 LAST foo") == "521 5.5.4 Syntax: BDAT count [LAST]"
    assert c.at_eof()
    inst.wait_log(r"warning: NOQUEUE: malformed BDAT command syntax from "
                  r"localhost\[127\.0\.0\.1\]: BDAT 5 LAST foo\n")


def test_bdat_chunk_over_size_limit(inst, ports):
    c = client(inst, ports["small"])
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    c.send(b"BDAT 3000 LAST\r\n" + b"x" * 3000)
    assert c.reply() == "552 5.3.4 Chunk exceeds message size limit"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


def test_timeout(make_instance):
    inst = make_instance("smtpd-timeout", main_cf={"smtpd_timeout": "1s"}).start()
    inst.mark_log()
    c = SmtpClient(inst.smtp_port)
    assert c.ehlo().startswith("250-mx.example.test")
    assert c.line() == "421 4.4.2 mx.example.test Error: timeout exceeded"
    assert c.at_eof()
    inst.wait_log(r"timeout after EHLO from localhost\[127\.0\.0\.1\]\n")
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 commands=1\n")


def test_lost_connection_is_logged(inst):
    inst.mark_log()
    c = client(inst)
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()
    inst.wait_log(r"lost connection after NOOP from localhost\[127\.0\.0\.1\]\n")
    c = client(inst)
    c.ehlo()
    message_start = [c.cmd("MAIL FROM:<a@c.example.org>"), c.cmd("RCPT TO:<alice@example.test>"),
                     c.cmd("DATA")]
    assert message_start[2].startswith("354 ")
    c.send(b"Subject: cut\r\n\r\npartial")
    c.close()
    inst.wait_log(r"lost connection after DATA \(23 bytes\) from localhost\[127\.0\.0\.1\]\n")


def test_banner_from_master_cf_override(make_instance):
    inst = make_instance("smtpd-banner", master_cf_edit=lambda text: re.sub(
        r"^(\d+\s+inet.*smtpd)$", r"\1 -o smtpd_banner=$myhostname_custom", text,
        count=1, flags=re.M), main_cf={"myhostname_custom": "custom.example"}).start()
    c = SmtpClient(inst.smtp_port)
    assert c.banner == "220 custom.example"
    c.close()


def test_default_local_recipient_maps(make_instance):
    """The default table list reaches passwd through proxymap from the chroot."""
    inst = make_instance("smtpd-passwd", main_cf={
        "mydestination": "$myhostname, localhost, $mydomain"})
    subprocess.run([str(SBIN / "postalias"), "-c", str(inst.config_dir),
                    str(inst.config_dir / "aliases")], check=True, timeout=30)
    inst.start()
    c = SmtpClient(inst.smtp_port)
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<root@example.test>") == "250 2.1.5 Ok"
    assert c.cmd("RCPT TO:<nosuchuser@example.test>") == (
        "550 5.1.1 <nosuchuser@example.test>: Recipient address rejected: "
        "User unknown in local recipient table")
    c.close()


def test_ipv6_client(inst, ports):
    inst.mark_log()
    c = SmtpClient(ports["ipv6"], source=None, host="::1")
    assert c.banner == "220 mx.example.test ESMTP Postern"
    c.ehlo("v6.example")
    qid = queue_id(message(c, "a@c.example.org", ["alice@example.test"], b"Subject: v6\r\n\r\n.\r\n"))
    assert re.search(r"Received: from v6\.example \((?:localhost|unknown) \[IPv6:::1\]\)",
                     postcat(inst, qid))
    inst.wait_log(r"connect from (?:localhost|unknown)\[::1\]\n")
    c.close()


def test_no_name_lookup_and_port_logging(inst, ports):
    inst.mark_log()
    c = client(inst, ports["nolookup"])
    port = c.sock.getsockname()[1]
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    inst.wait_log(rf"connect from unknown\[127\.0\.0\.1\]:{port}\n")
    inst.wait_log(rf"disconnect from unknown\[127\.0\.0\.1\]:{port} quit=1 commands=1\n")
