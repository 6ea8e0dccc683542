"""trivial-rewrite over its real socket: a master runs it chrooted as the
mail_owner, and the tests talk to private/rewrite as smtpd or qmgr would
(docs/protocols.md, "trivial-rewrite"). One instance serves the module."""
import os
import pwd
import re

import pytest

from attrproto import Channel
from conftest import SBIN, run, wait_for

FAIL_SERVICE = "rewritefail"
ROUTED, ERROR, FAIL = 2, 4, 8
LOCAL = 256 | 1
ALIAS = 512 | 1
RELAY = 2048
DEFAULT = 4096


def add_failing_service(text):
    return text + (f"{FAIL_SERVICE} unix - - y - - trivial-rewrite\n"
                   "  -o transport_maps=fail:broken\n")


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    inst = module_instance_factory("rewrite", main_cf={
        "relay_domains": "relay.example",
        "virtual_alias_domains": "valias.example",
        "virtual_mailbox_domains": "vmbox.example",
        "recipient_delimiter": "+",
        "remote_header_rewrite_domain": "domain.invalid",
    }, master_cf_edit=add_failing_service)
    write_transport(inst, "special.example  smtp:[gateway.example]:2525\n")
    inst.edit_main_cf(transport_maps=f"hash:{inst.config_dir}/transport")
    return inst.start()


def write_transport(inst, text):
    source = inst.config_dir / "transport"
    source.write_text(text)
    run([SBIN / "postmap", "-c", inst.config_dir, source])


def rewrite_channel(inst, service="rewrite"):
    return Channel(inst.queue_dir / "private" / service)


def resolve(channel, address):
    channel.send([("request", "resolve"), ("address", address)])
    return channel.receive()


def rewrite(channel, rule, address):
    channel.send([("request", "rewrite"), ("rule", rule), ("address", address)])
    return channel.receive()


def test_resolve_classes(inst):
    c = rewrite_channel(inst)
    assert resolve(c, "User+ext@MX.example.test") == {
        "flags": str(LOCAL), "transport": "local", "nexthop": "mx.example.test",
        "recipient": "User+ext@MX.example.test"}
    assert resolve(c, "postmaster") == {
        "flags": str(LOCAL), "transport": "local", "nexthop": "mx.example.test",
        "recipient": "postmaster@mx.example.test"}
    assert resolve(c, "user@[127.0.0.1]")["flags"] == str(LOCAL)
    assert resolve(c, "friend@remote.example") == {
        "flags": str(DEFAULT), "transport": "smtp", "nexthop": "remote.example",
        "recipient": "friend@remote.example"}
    assert resolve(c, "a@relay.example")["flags"] == str(RELAY)
    assert resolve(c, "a@relay.example")["transport"] == "relay"
    assert resolve(c, "a@valias.example") == {
        "flags": str(ALIAS), "transport": "error",
        "nexthop": "5.1.1 User unknown in virtual alias table",
        "recipient": "a@valias.example"}
    assert resolve(c, "a@vmbox.example")["transport"] == "virtual"
    assert resolve(c, "a@bad..example")["flags"] == str(DEFAULT | ERROR)
    c.close()


def test_transport_maps(inst):
    c = rewrite_channel(inst)
    reply = resolve(c, "user@special.example")
    assert (reply["transport"], reply["nexthop"]) == ("smtp", "[gateway.example]:2525")
    c.close()


@pytest.mark.parametrize("address,recipient", [
    ("user%remote.example@mx.example.test", "user@remote.example"),
    ("user@remote.example@mx.example.test", "user@remote.example"),     # "user@remote"@us
    ("@mx.example.test:user@remote.example", "user@remote.example"),
    ("remote.example!user@mx.example.test", "user@remote.example"),
])
def test_relay_tricks_are_flagged(inst, address, recipient):
    c = rewrite_channel(inst)
    reply = resolve(c, address)
    assert reply["recipient"] == recipient
    assert int(reply["flags"]) == DEFAULT | ROUTED
    c.close()


def test_foreign_literal_is_not_ours(inst):
    c = rewrite_channel(inst)
    reply = resolve(c, "user@[192.0.2.1]")
    assert int(reply["flags"]) == DEFAULT
    assert reply["nexthop"] == "[192.0.2.1]"
    c.close()


def test_rewrite_contexts(inst):
    c = rewrite_channel(inst)
    assert rewrite(c, "local", "user") == {"flags": "0", "address": "user@mx.example.test"}
    assert rewrite(c, "remote", "user") == {"flags": "0", "address": "user@domain.invalid"}
    assert rewrite(c, "local", "host!user")["address"] == "user@host"
    assert rewrite(c, "local", "@a,@b:user@c.example")["address"] == "user@c.example"
    assert rewrite(c, "local", "")["address"] == ""
    c.close()


def test_pipelined_requests_on_one_connection(inst):
    c = rewrite_channel(inst)
    c.send_raw(b"".join(
        [b"request=7:resolve\naddress=%d:%s\n\n" % (len(a), a)
         for a in (b"a@remote.example", b"b@mx.example.test", b"c@relay.example")]))
    flags = [int(c.receive()["flags"]) for _ in range(3)]
    assert flags == [DEFAULT, LOCAL, RELAY]
    c.close()


def jail_and_uid(pid):
    """(root directory, Uid line) of a process, None once it has gone."""
    try:
        status = open(f"/proc/{pid}/status").read()
        return os.readlink(f"/proc/{pid}/root"), re.search(r"^Uid:.*$", status, re.M)[0]
    except (OSError, TypeError):
        return None


def test_runs_chrooted_as_mail_owner(inst):
    c = rewrite_channel(inst)
    resolve(c, "a@b.example")
    pids = inst.daemon_pids("trivial-rewrite")
    assert pids
    owner = pwd.getpwnam("postfix").pw_uid
    wanted = (str(inst.queue_dir), f"Uid:\t{owner}\t{owner}\t{owner}\t{owner}")
    for pid in pids:        # one master just spawned may still be starting
        wait_for(lambda: jail_and_uid(pid) in (wanted, None), what=f"pid {pid} in its jail")
    c.close()


@pytest.mark.parametrize("garbage,warning", [
    (b"request=7:resolve\nNot An Attribute\n\n", r"malformed attribute name"),
    (b"request=7:resolve\naddress=99999999999:x\n\n", r"bad (or oversize )?length"),
    (b"request=7:resolve\nbogus=1:x\naddress=1:a\n\n", r'unexpected attribute "bogus"'),
    (b"request=7:resolve\n\n", r'missing attribute "address"'),
    (b"request=4:frob\naddress=1:a\n\n", r'unknown request "frob"'),
    (b"request=7:rewrite\naddress=1:a\n\n", r"rewrite request without a rule"),
    (b"request=7:rewrite\nrule=5:other\naddress=1:a\n\n", r'unknown rule "other"'),
])
def test_bad_request_drops_only_that_client(inst, garbage, warning):
    inst.mark_log()
    good = rewrite_channel(inst)
    assert resolve(good, "a@remote.example")["transport"] == "smtp"
    bad = rewrite_channel(inst)
    bad.send_raw(garbage)
    with pytest.raises(EOFError):
        bad.receive()
    bad.close()
    inst.wait_log(r"postfix/trivial-rewrite\[\d+\]: warning: .*" + warning)
    assert resolve(good, "b@remote.example")["recipient"] == "b@remote.example"
    good.close()
    fresh = rewrite_channel(inst)
    assert resolve(fresh, "c@remote.example")["recipient"] == "c@remote.example"
    fresh.close()


def test_table_failure_is_a_fail_flag_never_a_guess(inst):
    inst.mark_log()
    c = rewrite_channel(inst, FAIL_SERVICE)
    assert resolve(c, "user@remote.example") == {
        "flags": str(FAIL), "transport": "", "nexthop": "",
        "recipient": "user@remote.example"}
    c.close()
    inst.wait_log(r"postfix/trivial-rewrite\[\d+\]: warning: transport_maps lookup failure")


def test_changed_table_restarts_the_daemon(inst):
    kept = rewrite_channel(inst)        # a client that never lets go, like qmgr
    assert resolve(kept, "a@changed.example")["transport"] == "smtp"
    inst.mark_log()
    write_transport(inst, "special.example  smtp:[gateway.example]:2525\n"
                          "changed.example  slow:\n")
    with pytest.raises((EOFError, ConnectionResetError)):     # no stale answer
        resolve(kept, "a@changed.example")
    kept.close()
    inst.wait_log(r"postfix/trivial-rewrite\[\d+\]: table hash:\S+/transport has changed "
                  r"-- restarting")

    def new_answer():
        c = rewrite_channel(inst)
        reply = resolve(c, "a@changed.example")
        c.close()
        return reply["transport"] == "slow"
    wait_for(new_answer, timeout=15, what="the new transport table")
