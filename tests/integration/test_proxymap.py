"""proxymap over its real socket, and the proxy: table type in a chrooted
daemon: trivial-rewrite services whose tables are proxy: tables read
through proxymap (docs/proxymap.md). One instance serves the module."""
import os
import pwd
import re
import signal

import pytest

from attrproto import Channel
from conftest import SBIN, run, wait_for

FAIL = 8
LOCAL = 256 | 1
DEFAULT = 4096


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    inst = module_instance_factory("proxymap")
    cfg = inst.config_dir
    for name, text in (("lookup", "secret  outside the jail\n"),
                       ("ptransport", "special.example  slow:[gw.example]\n"),
                       ("unapproved", "special.example  never:\n")):
        (cfg / name).write_text(text)
        run([SBIN / "postmap", "-c", cfg, cfg / name])
    inst.edit_main_cf(proxy_read_maps=f"$mydestination proxy:unix:passwd.byname "
                                      f"proxy:hash:{cfg}/lookup, proxy:hash:{cfg}/ptransport")
    inst.edit_master_cf(lambda text: text + (
        "rewriteproxy unix - - y - - trivial-rewrite\n"
        "  -o mydestination=proxy:unix:passwd.byname\n"
        f"  -o transport_maps=proxy:hash:{cfg}/ptransport\n"
        "rewritedenied unix - - y - - trivial-rewrite\n"
        f"  -o transport_maps=proxy:hash:{cfg}/unapproved\n"))
    return inst.start()


def lookup(channel, table, key, flags=1):
    channel.send([("request", "lookup"), ("table", table), ("flags", flags), ("key", key)])
    return channel.receive()


def proxymap_channel(inst):
    return Channel(inst.queue_dir / "private" / "proxymap")


def resolve(inst, service, address):
    c = Channel(inst.queue_dir / "private" / service)
    c.send([("request", "resolve"), ("address", address)])
    reply = c.receive()
    c.close()
    return reply


def test_passwd_lookup(inst):
    c = proxymap_channel(inst)
    reply = lookup(c, "unix:passwd.byname", "root")
    assert reply["status"] == "0"
    assert reply["value"].startswith("root:x:0:0:")
    assert lookup(c, "unix:passwd.byname", "no-such-user-here") == {"status": "1", "value": ""}
    c.close()


def test_table_outside_the_jail(inst):
    c = proxymap_channel(inst)
    assert lookup(c, f"hash:{inst.config_dir}/lookup", "SECRET") == {
        "status": "0", "value": "outside the jail"}
    c.close()


def test_unapproved_table_is_refused(inst):
    inst.mark_log()
    c = proxymap_channel(inst)
    reply = lookup(c, "unix:group.byname", "root")
    assert reply["status"] == "2"
    assert reply["reason"] == "table unix:group.byname is not approved for proxy read access"
    inst.wait_log(r'postfix/proxymap\[\d+\]: warning: request for unapproved table: '
                  r'"unix:group.byname"')
    # the connection stays usable
    assert lookup(c, "unix:passwd.byname", "root")["status"] == "0"
    c.close()


def root_and_uid(pid):
    """(root directory, Uid line) of a process, None once it has gone."""
    try:
        status = open(f"/proc/{pid}/status").read()
        return os.readlink(f"/proc/{pid}/root"), re.search(r"^Uid:.*$", status, re.M)[0]
    except (OSError, TypeError):
        return None


def test_not_chrooted_and_unprivileged(inst):
    c = proxymap_channel(inst)
    lookup(c, "unix:passwd.byname", "root")
    owner = pwd.getpwnam("postfix").pw_uid
    pids = inst.daemon_pids("proxymap")
    assert pids
    wanted = ("/", f"Uid:\t{owner}\t{owner}\t{owner}\t{owner}")
    for pid in pids:        # one master just spawned may still be starting
        wait_for(lambda: root_and_uid(pid) in (wanted, None), what=f"pid {pid} as {owner}")
    c.close()


def test_malformed_request_drops_only_that_client(inst):
    inst.mark_log()
    good = proxymap_channel(inst)
    assert lookup(good, "unix:passwd.byname", "root")["status"] == "0"
    bad = proxymap_channel(inst)
    bad.send_raw(b"request=6:lookup\ntable=18:unix:passwd.byname\nflags=3:999\nkey=4:root\n\n")
    with pytest.raises(EOFError):
        bad.receive()
    bad.close()
    inst.wait_log(r"postfix/proxymap\[\d+\]: warning: bad flags 0x3e7")
    assert lookup(good, "unix:passwd.byname", "root")["status"] == "0"
    good.close()


def test_chrooted_daemon_reads_passwd_through_proxymap(inst):
    assert int(resolve(inst, "rewriteproxy", "someone@root")["flags"]) == LOCAL
    assert int(resolve(inst, "rewriteproxy", "someone@no-such-user-here")["flags"]) == DEFAULT


def test_chrooted_daemon_reads_a_table_outside_the_jail(inst):
    reply = resolve(inst, "rewriteproxy", "a@special.example")
    assert (reply["transport"], reply["nexthop"]) == ("slow", "[gw.example]")


def test_client_reconnects_after_proxymap_restarts(inst):
    channel = Channel(inst.queue_dir / "private" / "rewriteproxy")

    def ask():
        channel.send([("request", "resolve"), ("address", "a@special.example")])
        return channel.receive()
    assert ask()["transport"] == "slow"
    for pid in inst.daemon_pids("proxymap"):
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not inst.daemon_pids("proxymap"), what="proxymap gone")
    assert ask()["transport"] == "slow"            # a new proxymap, same answer
    channel.close()


def test_unapproved_proxy_table_fails_never_guesses(inst):
    inst.mark_log()
    assert resolve(inst, "rewritedenied", "a@special.example") == {
        "flags": str(FAIL), "transport": "", "nexthop": "", "recipient": "a@special.example"}
    inst.wait_log(r"postfix/trivial-rewrite\[\d+\]: warning: transport_maps: .*not approved "
                  r"for proxy read access")
