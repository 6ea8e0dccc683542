"""postsuper: delete, hold, release, structure repair and purge, with
Postfix's output; IDs from standard input; hostile IDs never become paths."""
import os
import time

import pytest

from conftest import SBIN, run
from queue_helpers import (FUTURE, defer_log, drop, dsn_message, in_queue, message, queue_path,
                           recipient_offsets, transport_map)


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    inst = module_instance_factory("postsuper")
    inst.edit_main_cf(transport_maps=transport_map(inst, {"discard.test": "discard:requeued"}))
    return inst.start()


def postsuper(inst, *args, stdin=None, check=True):
    return run([SBIN / "postsuper", "-c", inst.config_dir, *args], input=stdin, check=check)


def deferred(inst):
    qid = drop(inst, "deferred", message(), mtime=FUTURE)
    defer_log(inst, qid, [("rcpt@example.test", "4.4.1", "refused")])
    return qid


def test_delete_one_message_and_its_logs(inst):
    qid = deferred(inst)
    other = deferred(inst)
    inst.mark_log()
    result = postsuper(inst, "-d", qid)
    assert result.stderr == f"postsuper: {qid}: removed\npostsuper: Deleted: 1 message\n"
    assert not in_queue(inst, "deferred", qid)
    assert not queue_path(inst, "defer", qid).exists()
    assert in_queue(inst, "deferred", other)
    inst.wait_log(rf"postfix/postsuper\[\d+\]: {qid}: removed")
    inst.wait_log(r"postfix/postsuper\[\d+\]: Deleted: 1 message")
    postsuper(inst, "-d", other)


def test_delete_all_in_one_queue(inst):
    d1, d2 = deferred(inst), deferred(inst)
    held = drop(inst, "hold", message())
    result = postsuper(inst, "-d", "ALL", "deferred")
    assert "postsuper: Deleted: 2 messages\n" in result.stderr
    assert not in_queue(inst, "deferred", d1) and not in_queue(inst, "deferred", d2)
    assert in_queue(inst, "hold", held)
    postsuper(inst, "-d", held, "hold")
    assert not in_queue(inst, "hold", held)


def test_ids_from_standard_input(inst):
    ids = [deferred(inst) for _ in range(3)]
    result = postsuper(inst, "-d", "-", stdin="\n".join(ids[:2]) + "\n")
    assert "Deleted: 2 messages" in result.stderr
    assert in_queue(inst, "deferred", ids[2])
    postsuper(inst, "-d", ids[2])


def test_hold_and_release(inst):
    qid = deferred(inst)
    result = postsuper(inst, "-h", qid)
    assert result.stderr == (f"postsuper: {qid}: placed on hold\n"
                             "postsuper: Placed on hold: 1 message\n")
    assert in_queue(inst, "hold", qid) and not in_queue(inst, "deferred", qid)
    out = run([SBIN / "postqueue", "-c", inst.config_dir, "-p"]).stdout
    assert f"{qid}!" in out
    before = time.time()
    result = postsuper(inst, "-H", qid)
    assert result.stderr == (f"postsuper: {qid}: released from hold\n"
                             "postsuper: Released from hold: 1 message\n")
    assert not in_queue(inst, "hold", qid)
    path = queue_path(inst, "deferred", qid)
    if path.exists():                   # qmgr may already have taken it
        assert os.stat(path).st_mtime >= before - 1
    postsuper(inst, "-d", qid)


def test_hostile_and_unknown_ids(inst):
    victim = inst.root / "victim"
    victim.write_text("keep me")
    result = postsuper(inst, "-d", "../../victim", "-d", "ABCDEF99999")
    assert "postsuper: warning: invalid mail queue id: ../../victim" in result.stderr
    assert "Deleted: 0 messages" in result.stderr
    assert victim.read_text() == "keep me"
    result = postsuper(inst, "-d", "ALL", "../etc", check=False)
    assert result.returncode == 64
    assert "invalid directory name: ../etc" in result.stderr


def test_structure_repair(inst):
    data = message()
    qid = drop(inst, "deferred", data, mtime=FUTURE)
    real_inode = os.stat(queue_path(inst, "deferred", qid)).st_ino
    # a file left in deferred/ by hash_queue_depth = 0, named for its inode
    flat_id = "%05X%X" % (12345, 0)
    flat = inst.queue_dir / "deferred" / "PLACEHOLDER"
    flat.write_bytes(data)
    flat_id = "%05X%X" % (12345, os.stat(flat).st_ino)
    os.rename(flat, inst.queue_dir / "deferred" / flat_id)
    result = postsuper(inst, "-s")
    # the dropped file has a random name: renamed to match its inode
    new_id = "%s%X" % (qid[:5], real_inode)
    assert f"postsuper: warning: name/inode mismatch: deferred/{qid[0]}/{qid}" in result.stderr
    assert f"renamed file deferred/{qid[0]}/{qid} as deferred/{new_id[0]}/{new_id}" \
        in result.stderr
    assert "Renamed to match inode number: 1 message" in result.stderr
    assert in_queue(inst, "deferred", new_id)
    assert f"renamed file deferred/{flat_id} as deferred/{flat_id[0]}/{flat_id}" in result.stderr
    assert in_queue(inst, "deferred", flat_id)
    assert "warning: bogus file name: deferred/PLACEHOLDER" not in result.stderr
    postsuper(inst, "-d", new_id, "-d", flat_id)


def test_purge_temporary_and_incomplete_files(inst):
    old = time.time() - 2 * 86400
    temp = inst.queue_dir / "incoming" / "tmp.123.456.0"
    temp.write_bytes(b"partial")
    os.utime(temp, (old, old))
    stale = drop(inst, "incoming", message(), mode=0o600, mtime=old)
    fresh = drop(inst, "incoming", message(), mode=0o600)
    result = postsuper(inst, "-p")
    assert "postsuper: removed file incoming/tmp.123.456.0" in result.stderr
    assert f"postsuper: removed file incoming/{stale}" in result.stderr
    assert not temp.exists() and not in_queue(inst, "incoming", stale)
    # master runs: a file younger than daemon_timeout may be in the making
    assert in_queue(inst, "incoming", fresh)
    os.unlink(queue_path(inst, "incoming", fresh))


def test_requeue_through_cleanup(inst):
    data = dsn_message("s@example.test", ["done@discard.test", ("r@discard.test", 8, "rfc822;R")],
                       attributes=[("dsn_envid", "ENV"), ("log_ident", "OLD")])
    raw = bytearray(data)
    raw[recipient_offsets(data)[0]] = ord("D")      # already delivered
    qid = drop(inst, "hold", bytes(raw))
    defer_log(inst, qid, [("r@discard.test", "4.4.1", "refused")])
    inst.mark_log()
    result = postsuper(inst, "-r", qid)
    assert result.stderr == f"postsuper: {qid}: requeued\npostsuper: Requeued: 1 message\n"
    assert not in_queue(inst, "hold", qid)
    assert not queue_path(inst, "defer", qid).exists()
    match = inst.wait_log(r"postfix/qmgr\[\d+\]: (\w+): from=<s@example.test>, size=\d+, "
                          r"nrcpt=1 \(queue active\)")
    new_id = match.group(1)
    assert new_id != qid
    inst.wait_log(rf"{new_id}: to=<r@discard.test>, .*status=sent \(requeued\)")
    inst.wait_log(rf"{new_id}: removed")
    assert "done@discard.test" not in inst.new_log()
