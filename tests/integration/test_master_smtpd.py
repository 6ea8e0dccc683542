"""The first smtpd: the commands it knows, bounded input, timeouts, log lines.
It exists to prove the daemon skeleton; the full SMTP server grows from it."""
import re
import socket


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")

    def line(self):
        return self.file.readline().decode()

    def send(self, data):
        self.sock.sendall(data)

    def ask(self, command):
        self.send(command + b"\r\n")
        return self.line()

    def close(self):
        self.file.close()
        self.sock.close()


def test_commands(make_instance):
    inst = make_instance("smtpd").start()
    inst.mark_log()
    c = Client(inst.smtp_port)
    assert c.line() == "220 mx.example.test ESMTP Postern\r\n"
    assert c.ask(b"EHLO client.example") == "250 mx.example.test\r\n"
    assert c.ask(b"helo client.example") == "250 mx.example.test\r\n"
    assert c.ask(b"HELO") == "501 Syntax: HELO hostname\r\n"
    assert c.ask(b"EHLO") == "501 Syntax: EHLO hostname\r\n"
    assert c.ask(b"NOOP") == "250 2.0.0 Ok\r\n"
    assert c.ask(b"NOOP extra") == "501 5.5.4 Syntax: NOOP\r\n"
    assert c.ask(b"RSET") == "250 2.0.0 Ok\r\n"
    assert c.ask(b"MAIL FROM:<a@b>") == "500 5.5.2 Error: command not recognized\r\n"
    assert c.ask(b"") == "500 5.5.2 Error: bad syntax\r\n"
    c.send(b"noop\n")                                   # bare LF ends a command too
    assert c.line() == "250 2.0.0 Ok\r\n"
    assert c.ask(b"QUIT") == "221 2.0.0 Bye\r\n"
    assert c.line() == ""
    c.close()
    inst.wait_log(r"postfix/smtpd\[\d+\]: connect from unknown\[127\.0\.0\.1\]")
    inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] helo=1/2 ehlo=1/2 noop=2/3 "
                  r"rset=1 quit=1 unknown=0/2 commands=6/11\n")


def test_pipelined_commands(make_instance):
    inst = make_instance("pipelining").start()
    c = Client(inst.smtp_port)
    c.line()
    c.send(b"NOOP\r\nRSET\r\nQUIT\r\n")
    assert [c.line(), c.line(), c.line()] == ["250 2.0.0 Ok\r\n", "250 2.0.0 Ok\r\n",
                                              "221 2.0.0 Bye\r\n"]
    c.close()


def test_overlong_line_and_nul_are_answered(make_instance):
    inst = make_instance("overlong").start()
    c = Client(inst.smtp_port)
    c.line()
    c.send(b"NOOP" + b"x" * 100_000 + b"\r\n")
    assert c.line() == "500 5.5.2 Error: command not recognized\r\n"
    c.send(b"NOOP \x00 hidden\r\n")
    assert c.line() == "250 2.0.0 Ok\r\n"       # the command ends at the NUL
    assert c.ask(b"NOOP") == "250 2.0.0 Ok\r\n"  # still serving, in step
    assert c.ask(b"QUIT") == "221 2.0.0 Bye\r\n"
    c.close()


def test_timeout(make_instance):
    inst = make_instance("timeout", main_cf={"smtpd_timeout": "1s"}).start()
    inst.mark_log()
    c = Client(inst.smtp_port)
    c.line()
    assert c.ask(b"EHLO x") == "250 mx.example.test\r\n"
    assert c.line() == "421 4.4.2 mx.example.test Error: timeout exceeded\r\n"
    assert c.line() == ""
    c.close()
    inst.wait_log(r"timeout after EHLO from unknown\[127\.0\.0\.1\]")
    inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 commands=1\n")


def test_lost_connection_is_logged(make_instance):
    inst = make_instance("lost").start()
    inst.mark_log()
    c = Client(inst.smtp_port)
    c.line()
    c.send(b"NOOP\r\n")
    c.line()
    c.close()
    inst.wait_log(r"lost connection after NOOP from unknown\[127\.0\.0\.1\]")


def test_banner_from_master_cf_override(make_instance):
    inst = make_instance("override", master_cf_edit=lambda text: re.sub(
        r"^(\d+\s+inet.*smtpd)$", r"\1 -o smtpd_banner=$myhostname_custom", text,
        count=1, flags=re.M), main_cf={"myhostname_custom": "custom.example"}).start()
    c = Client(inst.smtp_port)
    assert c.line() == "220 custom.example\r\n"
    c.close()
