"""tlsmgr: TLS session resumption across smtpd processes (the Berkeley DB
session cache and the shared ticket keys), and its protocol spoken directly
(docs/protocols.md, "tlsmgr"), bad input included."""
import os
import pwd
import re
import shutil
import struct
import time

import pytest

from attrproto import Channel
from conftest import free_port, wait_for
from smtpd_client import listeners
from tls_helpers import make_pki, s_client_once

CACHE_TIMEOUT = 60


@pytest.fixture(scope="module")
def pki():
    root = make_pki("tlsmgr")
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def setup(module_instance_factory, pki):
    ports, main_cf, edit = listeners({"first": {}, "second": {}}, free_port)
    main_cf.update({
        "smtpd_tls_security_level": "may",
        "smtpd_tls_chain_files": f"{pki}/rsa.pem, {pki}/ec.pem",
        "smtpd_tls_loglevel": "2",
        "smtpd_tls_session_cache_database": "btree:${data_directory}/smtpd_scache",
        "smtp_tls_session_cache_database": "btree:${data_directory}/smtp_scache",
        "smtpd_tls_session_cache_timeout": f"{CACHE_TIMEOUT}s",
    })
    inst = module_instance_factory("tlsmgr", main_cf=main_cf, master_cf_edit=edit)
    inst.start()
    return inst, ports


@pytest.fixture
def inst(setup):
    return setup[0]


@pytest.fixture
def ports(setup):
    return setup[1]


def resume(port_out, port_in, pki, tmp_path, options):
    """A session made on port_out, offered again on port_in; s_client's output."""
    sess = tmp_path / "session.pem"
    rc, out = s_client_once(port_out, pki, [*options, "-sess_out", str(sess)])
    assert rc == 0 and "New, TLSv1." in out, out
    rc, out = s_client_once(port_in, pki, [*options, "-sess_in", str(sess)])
    assert rc == 0, out
    return out


def reuse_pids(inst, suffix):
    """PIDs of the smtpd processes that logged a reused session, and those that logged new ones."""
    log = inst.new_log()
    reused = re.findall(r"postfix/smtpd\[(\d+)\]: localhost\[127\.0\.0\.1\]: Reusing old session"
                        + re.escape(suffix) + r"\n", log)
    established = re.findall(r"postfix/smtpd\[(\d+)\]: Anonymous TLS connection established",
                             log)
    return reused, established


@pytest.mark.parametrize("name, options, suffix", [
    ("session cache, TLS 1.2 session IDs", ["-tls1_2", "-no_ticket"], ""),
    ("ticket, TLS 1.2", ["-tls1_2"], " (RFC 5077 session ticket)"),
    ("ticket, TLS 1.3", ["-tls1_3"], " (RFC 5077 session ticket)"),
])
def test_resumed_across_two_smtpd_processes(inst, ports, pki, tmp_path, name, options, suffix):
    inst.mark_log()
    out = resume(ports["first"], ports["second"], pki, tmp_path, options)
    assert "Reused, TLSv1." in out, out
    wait_for(lambda: len(reuse_pids(inst, suffix)[1]) == 2, what="two TLS sessions logged")
    reused, established = reuse_pids(inst, suffix)
    assert reused == [established[1]], inst.new_log()
    assert established[0] != established[1]        # two different smtpd processes


def test_cache_file_belongs_to_mail_owner(inst, ports, pki, tmp_path):
    resume(ports["first"], ports["second"], pki, tmp_path, ["-tls1_2", "-no_ticket"])
    path = inst.data_dir / "smtpd_scache.db"
    st = os.stat(path)
    assert st.st_mode & 0o777 == 0o600
    assert pwd.getpwuid(st.st_uid).pw_name == "postfix"


# The protocol --------------------------------------------------------------------

def channel(inst):
    wait_for(lambda: (inst.queue_dir / "private" / "tlsmgr").exists(), what="tlsmgr socket")
    return Channel(inst.queue_dir / "private" / "tlsmgr")


def entry(age=0):
    """A cache entry as tls_scache stores it: version 1, store time, the session bytes."""
    return b"\x01" + struct.pack(">Q", int(time.time()) - age) + b"0\x82DER session bytes"


def as_bytes(value):
    return value if isinstance(value, bytes) else value.encode()


@pytest.mark.parametrize("cache_type", ["smtpd", "smtp"])
def test_lookup_update_delete(inst, cache_type):
    c = channel(inst)
    key = f"test-{cache_type}-{time.monotonic_ns()}"
    c.send([("request", "lookup"), ("cache_type", cache_type), ("cache_id", key)])
    assert c.receive() == {"status": "1", "session": ""}
    stored = entry()
    c.send([("request", "update"), ("cache_type", cache_type), ("cache_id", key),
            ("session", stored)])
    assert c.receive() == {"status": "0"}
    c.send([("request", "lookup"), ("cache_type", cache_type), ("cache_id", key)])
    reply = c.receive()
    assert reply["status"] == "0" and as_bytes(reply["session"]) == stored
    c.send([("request", "delete"), ("cache_type", cache_type), ("cache_id", key)])
    assert c.receive() == {"status": "0"}
    c.send([("request", "lookup"), ("cache_type", cache_type), ("cache_id", key)])
    assert c.receive()["status"] == "1"
    c.close()


def test_stale_and_malformed_entries_are_refused(inst):
    c = channel(inst)
    for value in (entry(age=CACHE_TIMEOUT + 1), b"\x02" + entry()[1:], b"\x01short", b""):
        c.send([("request", "update"), ("cache_type", "smtpd"), ("cache_id", "bad"),
                ("session", value)])
        assert c.receive() == {"status": "2"}, value
    c.send([("request", "lookup"), ("cache_type", "smtpd"), ("cache_id", "bad")])
    assert c.receive()["status"] == "1"
    c.close()


def test_ticket_keys(inst):
    c = channel(inst)
    c.send([("request", "tktkey"), ("keyname", b"")])
    current = c.receive()
    assert current["status"] == "0"
    name = as_bytes(current["keyname"])
    assert len(name) == 16 and len(as_bytes(current["keycipher"])) == 64
    assert len(as_bytes(current["keyhmac"])) == 32
    assert abs(int(current["keytime"]) - time.time()) < CACHE_TIMEOUT + 5
    c.send([("request", "tktkey"), ("keyname", name)])
    assert c.receive() == current
    c.send([("request", "tktkey"), ("keyname", b"\0" * 16)])
    assert c.receive() == {"status": "1"}
    c.close()


@pytest.mark.parametrize("frame, warning", [
    ([("request", "lookup"), ("cache_type", "imap"), ("cache_id", "x")],
     r'lookup request: unknown cache type "imap" -- disconnecting the client'),
    ([("request", "lookup"), ("cache_type", "smtpd"), ("cache_id", "x" * 1025)],
     r"lookup request: bad cache_id length 1025 -- disconnecting the client"),
    ([("request", "update"), ("cache_type", "smtpd"), ("cache_id", "")],
     r"update request: bad cache_id length 0 -- disconnecting the client"),
    ([("request", "tktkey"), ("keyname", b"short")],
     r"tktkey request: bad key name length 5 -- disconnecting the client"),
    ([("request", "seed")], r'unknown request "seed" -- disconnecting the client'),
    ([("request", "lookup"), ("evil", "1")],
     r"malformed request -- disconnecting the client"),
])
def test_bad_requests(inst, frame, warning):
    inst.mark_log()
    c = channel(inst)
    c.send(frame)
    with pytest.raises(EOFError):
        c.receive()
    c.close()
    inst.wait_log(r"postfix/tlsmgr\[\d+\]: warning: " + warning)
    c = channel(inst)
    c.send([("request", "lookup"), ("cache_type", "smtpd"), ("cache_id", "after")])
    assert c.receive()["status"] == "1"                # still serving
    c.close()


def test_garbage_and_wakeup(inst):
    inst.mark_log()
    c = channel(inst)
    c.send_raw(b"request=99999999999:x\n\n")
    with pytest.raises(EOFError):
        c.receive()
    c.close()
    inst.wait_log(r"postfix/tlsmgr\[\d+\]: warning: malformed request")
    c = channel(inst)
    c.send_raw(b"W")                                   # master's wake-up: sweep, no reply
    with pytest.raises(EOFError):
        c.receive()
    c.close()
    c = channel(inst)
    c.send([("request", "tktkey"), ("keyname", b"")])
    assert c.receive()["status"] == "0"
    c.close()


def test_without_tlsmgr_tls_still_works(make_instance, pki):
    """tlsmgr removed from master.cf: no resumption across processes, TLS unharmed."""
    ports, main_cf, edit = listeners({"first": {}, "second": {}}, free_port)
    main_cf.update({
        "smtpd_tls_security_level": "may",
        "smtpd_tls_chain_files": f"{pki}/rsa.pem",
        "smtpd_tls_loglevel": "1",
        "smtpd_tls_session_cache_database": "btree:${data_directory}/smtpd_scache",
    })

    def no_tlsmgr(text):
        return re.sub(r"^tlsmgr .*\n", "", edit(text), flags=re.M)
    inst = make_instance("no-tlsmgr", main_cf=main_cf, master_cf_edit=no_tlsmgr).start()
    inst.mark_log()
    sess = inst.root / "session.pem"
    rc, out = s_client_once(ports["first"], pki, ["-tls1_3", "-sess_out", str(sess)])
    assert rc == 0 and "New, TLSv1.3" in out, out
    rc, out = s_client_once(ports["second"], pki, ["-tls1_3", "-sess_in", str(sess)])
    assert rc == 0 and "New, TLSv1.3" in out, out       # the ticket key was local
    inst.wait_log(r"warning: problem talking to service tlsmgr: ")
