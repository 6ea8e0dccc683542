"""smtpd limits: per-client connection count and rates kept by anvil, the
error and junk command limits, and the response delay after errors."""
import time

import pytest

from conftest import free_port
from smtpd_client import INSIDER, SmtpClient, listeners

SPECS = {
    "count": {"smtpd_client_connection_count_limit": "2"},
    "rate": {"smtpd_client_connection_rate_limit": "3"},
    "messages": {"smtpd_client_message_rate_limit": "1"},
    "recipients": {"smtpd_client_recipient_rate_limit": "2"},
    "junk": {"smtpd_junk_command_limit": "2", "smtpd_hard_error_limit": "3"},
    "sleep": {"smtpd_soft_error_limit": "1", "smtpd_error_sleep_time": "1s"},
}


@pytest.fixture(scope="module")
def setup():
    return listeners(SPECS, free_port)


@pytest.fixture(scope="module")
def inst(module_instance_factory, setup):
    ports, main_cf, edit = setup
    main_cf.update({"mydestination": "$myhostname, localhost, $mydomain",
                    "local_recipient_maps": "inline:{ alice=1, bob=1 }",
                    "smtpd_error_sleep_time": "0"})
    return module_instance_factory("smtpd-limits", main_cf=main_cf,
                                   master_cf_edit=edit).start()


def connect(setup, name, source="127.0.0.1", greet=True):
    return SmtpClient(setup[0][name], source=source, greet=greet)


def test_connection_count_limit(inst, setup):
    inst.mark_log()
    first, second = connect(setup, "count"), connect(setup, "count")
    third = connect(setup, "count", greet=False)
    assert third.reply() == "421 4.7.0 mx.example.test Error: too many connections from 127.0.0.1"
    assert third.at_eof()
    inst.wait_log(r"warning: Connection concurrency limit exceeded: 3 from "
                  r"localhost\[127\.0\.0\.1\] for service 127\.0\.0\.1:\d+\n")
    inside = [connect(setup, "count", INSIDER) for _ in range(3)]      # mynetworks: no limit
    assert all(c.banner.startswith("220 ") for c in inside)
    first.cmd("QUIT")
    first.close()
    fourth = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:                   # anvil hears of the disconnect
        fourth = connect(setup, "count", greet=False)
        if fourth.reply().startswith("220 "):
            break
        fourth.close()
        fourth = None
    assert fourth is not None
    for c in [second, fourth] + inside:
        c.close()


def test_connection_rate_limit(inst, setup):
    inst.mark_log()
    for _ in range(3):
        c = connect(setup, "rate")
        assert c.banner.startswith("220 ")
        c.cmd("QUIT")
        c.close()
    c = connect(setup, "rate", greet=False)
    assert c.reply() == "421 4.7.0 mx.example.test Error: too many connections from 127.0.0.1"
    inst.wait_log(r"warning: Connection rate limit exceeded: 4 from localhost\[127\.0\.0\.1\] "
                  r"for service 127\.0\.0\.1:\d+\n")


def test_message_and_recipient_rates(inst, setup):
    inst.mark_log()
    c = connect(setup, "messages")
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RSET") == "250 2.0.0 Ok"
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "450 4.7.1 Error: too much mail from 127.0.0.1"
    inst.wait_log(r"warning: Message delivery request rate limit exceeded: 2 from "
                  r"localhost\[127\.0\.0\.1\] for service 127\.0\.0\.1:\d+\n")
    c = connect(setup, "recipients")
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@c.example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.cmd("RCPT TO:<bob@example.test>") == "250 2.1.5 Ok"
    assert c.cmd("RCPT TO:<bob@example.test>") == \
        "450 4.7.1 Error: too many recipients from 127.0.0.1"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"


def test_junk_commands(inst, setup):
    inst.mark_log()
    c = connect(setup, "junk")
    assert c.ehlo().startswith("250-")
    # EHLO and two NOOPs are free; each junk command after that counts as an error
    assert [c.cmd("NOOP") for _ in range(5)] == ["250 2.0.0 Ok"] * 5
    assert c.reply() == "421 4.7.0 mx.example.test Error: too many errors"
    assert c.at_eof()
    inst.wait_log(r"too many errors after NOOP from localhost\[127\.0\.0\.1\]\n")


def test_error_sleep(inst, setup):
    c = connect(setup, "sleep")
    start = time.monotonic()
    assert c.cmd("FROBNICATE") == "500 5.5.2 Error: command not recognized"
    assert time.monotonic() - start < 0.9
    start = time.monotonic()
    assert c.cmd("FROBNICATE") == "500 5.5.2 Error: command not recognized"
    assert time.monotonic() - start >= 0.9
    start = time.monotonic()
    assert c.cmd("NOOP") == "250 2.0.0 Ok"          # every command waits now
    assert time.monotonic() - start >= 0.9
    c.close()
