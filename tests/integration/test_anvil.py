"""anvil over its real socket, as smtpd uses it (docs/protocols.md, "anvil"):
concurrent counts, rates per window, connections released when a client
goes away, idents forgotten when idle, the statistics log lines, and bad
requests. One instance serves the module, with a short rate window."""
import time

import pytest

from attrproto import Channel
from conftest import wait_for

UNIT = 2            # anvil_rate_time_unit, seconds


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    return module_instance_factory("anvil", main_cf={
        "anvil_rate_time_unit": f"{UNIT}s",
        "anvil_status_update_time": "1s",
    }).start()


def channel(inst):
    return Channel(inst.queue_dir / "private" / "anvil")


def ask(c, request, ident):
    c.send([("request", request), ("ident", ident)])
    reply = c.receive()
    return int(reply.pop("status")), int(reply.pop("count")), int(reply.pop("rate")), reply


def counts(c, request, ident):
    status, count, rate, rest = ask(c, request, ident)
    assert status == 0 and rest == {}
    return count, rate


def test_concurrent_connections_and_rates(inst):
    a, b = channel(inst), channel(inst)
    ident = "smtp:192.0.2.1"
    assert counts(a, "connect", ident) == (1, 1)
    assert counts(b, "connect", ident) == (2, 2)
    assert counts(a, "message", ident) == (2, 1)
    assert counts(a, "recipient", ident) == (2, 1)
    assert counts(a, "recipient", ident) == (2, 2)
    assert counts(a, "auth", ident) == (2, 1)
    assert counts(b, "disconnect", ident) == (1, 2)
    assert counts(b, "lookup", ident) == (1, 2)
    assert counts(b, "lookup", "smtp:192.0.2.99") == (0, 0)
    assert counts(a, "disconnect", ident) == (0, 2)
    a.close()
    b.close()


def test_connections_of_a_vanished_client_are_released(inst):
    ident = "smtp:192.0.2.2"
    crashing = channel(inst)
    assert counts(crashing, "connect", ident) == (1, 1)
    assert counts(crashing, "connect", ident) == (2, 2)
    crashing.close()                    # an smtpd killed without disconnect
    watcher = channel(inst)
    wait_for(lambda: counts(watcher, "lookup", ident)[0] == 0, what="released connections")
    watcher.close()


def test_rates_start_over_after_the_time_unit(inst):
    c = channel(inst)
    ident = "smtp:192.0.2.3"
    assert counts(c, "connect", ident) == (1, 1)
    assert counts(c, "connect", ident) == (2, 2)
    time.sleep(UNIT + 0.2)
    assert counts(c, "lookup", ident) == (2, 0)
    assert counts(c, "connect", ident) == (3, 1)
    c.close()


def test_statistics_are_logged(inst):
    inst.mark_log()
    c = channel(inst)
    for _ in range(5):                  # more than any test before: the maximum
        counts(c, "connect", "smtp:192.0.2.4")
    c.close()
    inst.wait_log(r"postfix/anvil\[\d+\]: statistics: max connection rate 5/2s for "
                  r"\(smtp:192\.0\.2\.4\) at [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d\n")
    inst.wait_log(r"postfix/anvil\[\d+\]: statistics: max connection count 5 for "
                  r"\(smtp:192\.0\.2\.4\) at ")


def test_idle_idents_are_forgotten(inst):
    c = channel(inst)
    inst.mark_log()
    for i in range(5):
        counts(c, "connect", f"smtp:198.51.100.{i}")
        counts(c, "disconnect", f"smtp:198.51.100.{i}")
    inst.wait_log(r"statistics: max cache size \d+ at")
    time.sleep(2 * UNIT + 0.5)          # every window over, and an expiry pass
    inst.mark_log()
    counts(c, "connect", "smtp:198.51.100.200")
    inst.wait_log(r"statistics: max cache size 1 at")   # the others were forgotten
    counts(c, "disconnect", "smtp:198.51.100.200")
    c.close()


@pytest.mark.parametrize("garbage,warning", [
    (b"request=7:connect\n\n", r'missing attribute "ident"'),
    (b"request=6:newtls\nident=6:smtp:x\n\n", r'unknown request "newtls"'),
    (b"request=7:connect\nident=0:\n\n", r"bad ident length 0"),
    (b"request=7:connect\nident=600:" + b"x" * 600 + b"\n\n", r"bad ident length 600"),
    (b"request=7:connect\nident=6:smtp:x\nident=6:smtp:y\n\n", r'duplicate attribute "ident"'),
])
def test_bad_request_drops_only_that_client(inst, garbage, warning):
    inst.mark_log()
    good = channel(inst)
    assert counts(good, "connect", "smtp:192.0.2.5")[0] == 1
    bad = channel(inst)
    bad.send_raw(garbage)
    with pytest.raises(EOFError):
        bad.receive()
    bad.close()
    inst.wait_log(r"postfix/anvil\[\d+\]: warning: .*" + warning)
    assert counts(good, "disconnect", "smtp:192.0.2.5")[0] == 0
    good.close()
