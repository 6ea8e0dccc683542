"""local(8) through the documented delivery-agent protocol, playing qmgr.

One instance for the module; the tests use different recipients so they do
not disturb each other. Users pdalice and pdbob are created for the module
(homes and the mail spool live in a scratch directory) and removed after.
Extra master.cf services run local with other settings: "maildir"
(home_mailbox = Maildir/) and "mbcmd" (a mailbox_command).
"""
import os
import pwd
import re
import shutil
import socket
import stat
import threading

import pytest

import agent_request
from agent_request import Message, deliver
from conftest import SBIN, SCRATCH, run, wait_for

ALICE, BOB = "pdalice", "pdbob"
DOMAIN = "mx.example.test"

CAPTURE = """#!/bin/sh
# Records how it was run: argv, identity, environment, then the message.
out="$1"
shift
{ echo "args=$*"; echo "uid=$(id -u)"; env | sort; } > "$out.info"
cat > "$out"
exit ${CAPTURE_EXIT:-0}
"""


@pytest.fixture(scope="module")
def env(module_instance_factory):
    scratch = SCRATCH / f"local-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    os.chmod(scratch, 0o755)
    homes = scratch / "home"
    homes.mkdir()
    os.chmod(homes, 0o755)
    spool = scratch / "mail"
    spool.mkdir()
    os.chmod(spool, 0o1777)
    drop = scratch / "drop"          # where files and commands write: anyone may
    drop.mkdir()
    os.chmod(drop, 0o1777)
    capture = scratch / "capture.sh"
    capture.write_text(CAPTURE)
    os.chmod(capture, 0o755)
    users = {name: agent_request.make_user(name, homes) for name in (ALICE, BOB)}
    include = scratch / "list.inc"
    include.write_text(f"{BOB}\n")
    evil_include = scratch / "evil.inc"
    evil_include.write_text(f"\"|{capture} {drop}/from-include\"\n{drop}/from-include.mbox\n")

    def master_edit(text):
        # No cleanup and no qmgr: the test plays qmgr, and a real one starting
        # late would move the test's files out of active/.
        text = re.sub(r"^(cleanup|qmgr)\s.*\n", "", text, flags=re.M)
        return text + (
            "maildir   unix  -       n       n       -       -       local\n"
            "  -o home_mailbox=Maildir/\n"
            "mbcmd     unix  -       n       n       -       -       local\n"
            f"  -o {{mailbox_command={capture} {drop}/mbcmd-$user $sender}}\n"
            "mbtrans   unix  -       n       n       -       -       local\n"
            "  -o mailbox_transport=lpipe -o mailbox_command=/bin/false\n"
            "sizecap   unix  -       n       n       -       -       local\n"
            "  -o mailbox_size_limit=50\n"
            "fbluser   unix  -       n       n       -       -       local\n"
            "  -o fallback_transport=lpipe -o {luser_relay=lost-$user@remote.example}\n"
            "lpipe     unix  -       n       n       -       -       pipe\n"
            f"  flags=R user=nobody argv={capture} {drop}/lpipe ${{recipient}}\n"
            "luser     unix  -       n       n       -       -       local\n"
            "  -o {luser_relay=lost-$user@remote.example}\n")
    inst = module_instance_factory("local", main_cf={
        "mail_spool_directory": spool,
        "mydestination": f"{DOMAIN}, localhost",
        "recipient_delimiter": "+",
        "deliver_lock_delay": "1s",
        "deliver_lock_attempts": "2",
    }, master_cf_edit=master_edit)
    aliases = inst.config_dir / "aliases"
    aliases.write_text(
        f"root: {ALICE}\n"
        f"staff: {ALICE}, {BOB}\n"
        f"incl: :include:{include}\n"
        f"evilinc: :include:{evil_include}\n"
        f"tofile: {drop}/file.mbox\n"
        f"tocmd: \"|{capture} {drop}/alias-cmd\"\n"
        "loopa: loopb\n"
        "loopb: loopa\n"
        f"selfish: \\{ALICE}, {BOB}\n"
        f"remote: friend@remote.example, {ALICE}\n"
        f"biglist: friend2@remote.example\n"
        "owner-biglist: listmaster\n"
        "blackhole: /dev/null\n")
    run([SBIN / "postalias", "-c", inst.config_dir, f"hash:{aliases}"])
    inst.start()
    yield {"inst": inst, "spool": spool, "drop": drop, "capture": capture, "users": users,
           "homes": homes, "scratch": scratch}
    for name in (ALICE, BOB):
        agent_request.remove_user(name)
    shutil.rmtree(scratch, ignore_errors=True)


def mbox(env, user):
    path = env["spool"] / user
    return path.read_text() if path.exists() else ""


def test_mbox_delivery_owner_mode_and_headers(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}", f"{BOB}@{DOMAIN}"],
                  body=["From the start", "line two"])
    reply = deliver(msg)
    assert reply["status"] == "0"
    for user in (ALICE, BOB):
        path = env["spool"] / user
        st = path.stat()
        assert st.st_uid == env["users"][user].pw_uid
        assert st.st_gid == env["users"][user].pw_gid
        assert stat.S_IMODE(st.st_mode) == 0o600
        text = path.read_text()
        assert text.startswith("From sender@example.org  ")
        assert "\nReturn-Path: <sender@example.org>\n" in text
        assert f"\nDelivered-To: {user}@{DOMAIN}\n" in text
        assert "\n>From the start\n" in text
        assert text.endswith("line two\n\n")
        inst.wait_log(rf"{msg.queue_id}: to=<{user}@{DOMAIN}>, relay=local, delay=[\d.]+, "
                      r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, "
                      r"status=sent \(delivered to mailbox\)")
    assert msg.record_types() == ["D", "D"]


def test_maildir_delivery(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}", f"{BOB}@{DOMAIN}"])
    assert deliver(msg, transport="maildir")["status"] == "0"
    for user in (ALICE, BOB):
        new = env["homes"] / user / "Maildir" / "new"
        files = list(new.iterdir())
        assert len(files) == 1
        st = files[0].stat()
        assert st.st_uid == env["users"][user].pw_uid
        assert stat.S_IMODE(st.st_mode) == 0o600
        text = files[0].read_text()
        assert text.startswith("Return-Path: <sender@example.org>\n")
        assert f"Delivered-To: {user}@{DOMAIN}\n" in text
        assert not list((env["homes"] / user / "Maildir" / "tmp").iterdir())
        inst.wait_log(rf"{msg.queue_id}: to=<{user}@{DOMAIN}>, relay=local, .*"
                      r"status=sent \(delivered to maildir\)")


def test_alias_root_to_user(env):
    inst = env["inst"]
    inst.mark_log()
    before = mbox(env, ALICE)
    msg = Message(inst, "sender@example.org", [f"root@{DOMAIN}"], body=["for root"])
    assert deliver(msg)["status"] == "0"
    assert mbox(env, ALICE)[len(before):].count("for root") == 1
    inst.wait_log(rf"{msg.queue_id}: to=<{ALICE}@{DOMAIN}>, orig_to=<root@{DOMAIN}>, "
                  r"relay=local, .*status=sent \(delivered to mailbox\)")
    assert msg.record_types() == ["D"]


def test_alias_list_include_and_duplicates(env):
    inst = env["inst"]
    before = {u: mbox(env, u) for u in (ALICE, BOB)}
    msg = Message(inst, "sender@example.org", [f"staff@{DOMAIN}"], body=["to staff"])
    assert deliver(msg)["status"] == "0"
    msg2 = Message(inst, "sender@example.org", [f"incl@{DOMAIN}"], body=["via include"])
    assert deliver(msg2)["status"] == "0"
    assert mbox(env, ALICE)[len(before[ALICE]):].count("to staff") == 1
    bob_new = mbox(env, BOB)[len(before[BOB]):]
    assert bob_new.count("to staff") == 1
    assert bob_new.count("via include") == 1


def test_alias_self_reference_goes_to_mailbox(env):
    inst = env["inst"]
    before = {u: mbox(env, u) for u in (ALICE, BOB)}
    msg = Message(inst, "sender@example.org", [f"selfish@{DOMAIN}"], body=["self ref"])
    assert deliver(msg)["status"] == "0"
    assert "self ref" in mbox(env, ALICE)[len(before[ALICE]):]
    assert "self ref" in mbox(env, BOB)[len(before[BOB]):]


def test_alias_to_file_in_mbox_format(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"tofile@{DOMAIN}"], body=["into a file"])
    assert deliver(msg)["status"] == "0"
    path = env["drop"] / "file.mbox"
    text = path.read_text()
    assert text.startswith("From sender@example.org  ")
    assert "into a file\n\n" in text
    assert path.stat().st_uid == pwd.getpwnam("nobody").pw_uid
    inst.wait_log(rf"status=sent \(delivered to file: {re.escape(str(path))}\)")


def test_alias_to_command_runs_as_default_privs(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"tocmd@{DOMAIN}"], body=["piped"])
    assert deliver(msg)["status"] == "0"
    out = env["drop"] / "alias-cmd"
    assert "piped" in out.read_text()
    info = (env["drop"] / "alias-cmd.info").read_text()
    assert f"uid={pwd.getpwnam('nobody').pw_uid}\n" in info
    assert f"RECIPIENT=tocmd@{DOMAIN}\n" in info
    assert "SENDER=sender@example.org\n" in info
    inst.wait_log(r"status=sent \(delivered to command: ")


def test_alias_loop_is_bounced(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"loopa@{DOMAIN}"])
    assert deliver(msg)["status"] == "0"
    inst.wait_log(r"warning: alias database loop for loopb")
    inst.wait_log(rf"{msg.queue_id}: to=<loopb@{DOMAIN}>, orig_to=<loopa@{DOMAIN}>, "
                  r"relay=local, .*dsn=5\.4\.6, status=bounced \(alias database loop for loopb\)")
    assert msg.record_types() == ["D"]
    bounce = msg.status_log("bounce")
    assert bounce and bounce[0]["status"] == "5.4.6"


def test_delivered_to_loop_is_bounced(env):
    inst = env["inst"]
    inst.mark_log()
    before = mbox(env, ALICE)
    msg = Message(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}"],
                  headers=[f"Delivered-To: {ALICE}@{DOMAIN}", "Subject: loop"],
                  body=["looped"])
    assert deliver(msg)["status"] == "0"
    inst.wait_log(rf"status=bounced \(mail forwarding loop for {ALICE}@{DOMAIN}\)")
    assert mbox(env, ALICE) == before


def test_unknown_user_bounced(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"nosuchuser@{DOMAIN}"])
    assert deliver(msg)["status"] == "0"
    inst.wait_log(r'dsn=5\.1\.1, status=bounced \(unknown user: "nosuchuser"\)')


def write_forward(env, user, text, mode=0o644):
    pw = env["users"][user]
    path = env["homes"] / user / ".forward"
    path.write_text(text)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, mode)
    return path


def test_forward_to_user_and_command(env):
    inst = env["inst"]
    inst.mark_log()
    before = mbox(env, BOB)
    fwd = write_forward(env, ALICE, f"{BOB}, \"|{env['capture']} {env['drop']}/fwd-cmd\"\n")
    try:
        msg = Message(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}"], body=["forwarded"])
        assert deliver(msg)["status"] == "0"
    finally:
        fwd.unlink()
    assert "forwarded" in mbox(env, BOB)[len(before):]
    info = (env["drop"] / "fwd-cmd.info").read_text()
    assert f"uid={env['users'][ALICE].pw_uid}\n" in info
    assert f"HOME={env['homes'] / ALICE}\n" in info
    assert f"USER={ALICE}\n" in info
    inst.wait_log(rf"to=<{BOB}@{DOMAIN}>, orig_to=<{ALICE}@{DOMAIN}>, .*status=sent")


def test_include_file_cannot_run_commands_or_write_files(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"evilinc@{DOMAIN}"])
    assert deliver(msg)["status"] == "0"
    inst.wait_log(r"status=bounced \(mail to command is restricted\)")
    inst.wait_log(r"status=bounced \(mail to file is restricted\)")
    assert not (env["drop"] / "from-include").exists()
    assert not (env["drop"] / "from-include.mbox").exists()


def test_forward_loop_is_bounced(env):
    inst = env["inst"]
    inst.mark_log()
    before = {u: mbox(env, u) for u in (ALICE, BOB)}
    fwd_a = write_forward(env, ALICE, f"{BOB}\n")
    fwd_b = write_forward(env, BOB, f"{ALICE}\n")
    try:
        msg = Message(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}"], body=["round"])
        assert deliver(msg)["status"] == "0"
    finally:
        fwd_a.unlink()
        fwd_b.unlink()
    inst.wait_log(rf"status=bounced \(mail forwarding loop for {ALICE}@{DOMAIN}\)")
    assert {u: mbox(env, u) for u in (ALICE, BOB)} == before


def test_empty_forward_is_ignored(env):
    inst = env["inst"]
    before = mbox(env, BOB)
    fwd = write_forward(env, BOB, "\n# nothing here\n")
    try:
        msg = Message(inst, "sender@example.org", [f"{BOB}@{DOMAIN}"], body=["still mine"])
        assert deliver(msg)["status"] == "0"
    finally:
        fwd.unlink()
    assert "still mine" in mbox(env, BOB)[len(before):]


def test_group_writable_forward_cannot_run_commands(env):
    inst = env["inst"]
    inst.mark_log()
    fwd = write_forward(env, BOB, f"\"|{env['capture']} {env['drop']}/evil\"\n", mode=0o664)
    try:
        msg = Message(inst, "sender@example.org", [f"{BOB}@{DOMAIN}"])
        assert deliver(msg)["status"] == "0"
    finally:
        fwd.unlink()
    inst.wait_log(r"status=bounced \(mail to command is restricted\)")
    assert not (env["drop"] / "evil").exists()


def make_victim(env, name):
    victim = env["scratch"] / name
    victim.write_text("precious\n")
    os.chmod(victim, 0o644)
    return victim


def assert_refused(env, user, reason):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"{user}@{DOMAIN}"], body=["attack"])
    assert deliver(msg)["status"] == "1"
    inst.wait_log(rf"warning: {msg.queue_id}: cannot update mailbox .*{reason}")
    inst.wait_log(rf"{msg.queue_id}: to=<{user}@{DOMAIN}>, .*status=deferred "
                  rf"\(cannot update mailbox .*{reason}\)")
    assert msg.record_types() == ["R"]
    assert msg.status_log("defer")[0]["recipient"] == f"{user}@{DOMAIN}"


def test_symlinked_mailbox_is_not_written_through(env):
    victim = make_victim(env, "shadow-symlink")
    link = env["spool"] / BOB
    saved = env["scratch"] / "bob-saved"
    if link.exists():
        shutil.move(link, saved)
    os.symlink(victim, link)
    try:
        assert_refused(env, BOB, "symbolic link")
    finally:
        link.unlink()
        if saved.exists():
            shutil.move(saved, link)
    assert victim.read_text() == "precious\n"


def test_hard_linked_mailbox_is_refused(env):
    victim = make_victim(env, "shadow-hardlink")
    pw = env["users"][BOB]
    os.chown(victim, pw.pw_uid, pw.pw_gid)
    link = env["spool"] / BOB
    saved = env["scratch"] / "bob-saved"
    if link.exists():
        shutil.move(link, saved)
    os.link(victim, link)
    try:
        assert_refused(env, BOB, "hard links")
    finally:
        link.unlink()
        if saved.exists():
            shutil.move(saved, link)
    assert victim.read_text() == "precious\n"


def test_foreign_owned_mailbox_is_refused(env):
    path = env["spool"] / ALICE
    pw = env["users"][BOB]
    path.touch()
    owner = path.stat()
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o666)       # writable, so only the ownership check stops it
    try:
        assert_refused(env, ALICE, "wrong owner")
    finally:
        os.chown(path, owner.st_uid, owner.st_gid)
        os.chmod(path, 0o600)


def test_mailbox_swapped_during_delivery_is_never_written_through(env):
    """ATTACKS.md: the mailbox is swapped between a symbolic link to a victim
    and a fresh file of the user, as fast as possible, while mail arrives.
    Each delivery goes to a real mailbox or is deferred; the victim is never
    written."""
    inst = env["inst"]
    victim = make_victim(env, "shadow-swap")
    pw = env["users"][BOB]
    path = env["spool"] / BOB
    saved = env["scratch"] / "bob-saved"
    if path.exists():
        shutil.move(path, saved)
    stop = threading.Event()

    def swap():
        turn = 0
        while not stop.is_set():
            tmp = env["spool"] / f".swap-{turn % 2}"
            if turn % 2:
                tmp.write_text("")
                os.chown(tmp, pw.pw_uid, pw.pw_gid)
                os.chmod(tmp, 0o600)
            else:
                os.symlink(victim, tmp)
            os.replace(tmp, path)
            turn += 1
    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    statuses = []
    try:
        for i in range(20):
            msg = Message(inst, "sender@example.org", [f"{BOB}@{DOMAIN}"], body=[f"swap {i}"])
            statuses.append(deliver(msg)["status"])
    finally:
        stop.set()
        swapper.join()
        if path.is_symlink() or path.exists():
            path.unlink()
        if saved.exists():
            shutil.move(saved, path)
    assert victim.read_text() == "precious\n"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert set(statuses) <= {"0", "1"}, statuses
    # the agent still serves
    msg = Message(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}"], body=["after the swaps"])
    assert deliver(msg)["status"] == "0"


def test_mailbox_command_expansion_is_filtered(env):
    inst = env["inst"]
    inst.mark_log()
    hostile = "x;touch${IFS}/tmp/pwned;`id`@example.org"
    msg = Message(inst, hostile, [f"{BOB}@{DOMAIN}"], body=["via mailbox_command"])
    # mailbox_command = capture.sh DROP/mbcmd-$user $sender
    assert deliver(msg, transport="mbcmd")["status"] == "0"
    assert "via mailbox_command" in (env["drop"] / f"mbcmd-{BOB}").read_text()
    info = (env["drop"] / f"mbcmd-{BOB}.info").read_text()
    assert "args=x_touch__IFS_/tmp/pwned__id_@example.org\n" in info
    assert f"uid={env['users'][BOB].pw_uid}\n" in info
    inst.wait_log(rf"{msg.queue_id}: to=<{BOB}@{DOMAIN}>, .*status=sent "
                  r"\(delivered to command: ")
    assert not os.path.exists("/tmp/pwned")


def test_mailbox_command_for_root_runs_as_default_privs(env):
    inst = env["inst"]
    agent_request.subprocess_run(["useradd", "-M", "-o", "-u", "0", "-g", "0",
                                  "-d", str(env["homes"]), "pdtoor"])
    try:
        msg = Message(inst, "sender@example.org", [f"pdtoor@{DOMAIN}"], body=["for root"])
        assert deliver(msg, transport="mbcmd")["status"] == "0"
    finally:
        agent_request.remove_user("pdtoor")
    info = (env["drop"] / "mbcmd-pdtoor.info").read_text()
    assert f"uid={pwd.getpwnam('nobody').pw_uid}\n" in info
    assert "for root" in (env["drop"] / "mbcmd-pdtoor").read_text()


def test_mailbox_size_limit(env):
    inst = env["inst"]
    inst.mark_log()
    before = mbox(env, ALICE)
    msg = Message(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}"], body=["x" * 100])
    assert deliver(msg, transport="sizecap")["status"] == "0"
    inst.wait_log(rf"dsn=5\.2\.2, status=bounced \(cannot update mailbox "
                  rf".*{ALICE} for user {ALICE}\. error writing message: File too large\)")
    assert mbox(env, ALICE) == before


def test_address_extension(env):
    inst = env["inst"]
    before = mbox(env, ALICE)
    fwd = write_forward(env, BOB, f"{ALICE}\n")
    fwd.rename(fwd.with_name(".forward+news"))
    try:
        msg = Message(inst, "sender@example.org", [f"{BOB}+news@{DOMAIN}"], body=["news item"])
        assert deliver(msg)["status"] == "0"
        msg = Message(inst, "sender@example.org", [f"{BOB}+other@{DOMAIN}"], body=["other"])
        assert deliver(msg, transport="mbcmd")["status"] == "0"
    finally:
        fwd.with_name(".forward+news").unlink()
    assert "news item" in mbox(env, ALICE)[len(before):]
    info = (env["drop"] / f"mbcmd-{BOB}.info").read_text()
    assert "EXTENSION=other\n" in info
    assert f"RECIPIENT={BOB}+other@{DOMAIN}\n" in info


def test_alias_to_dev_null(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"blackhole@{DOMAIN}"])
    assert deliver(msg)["status"] == "0"
    inst.wait_log(r"status=sent \(delivered to file: /dev/null\)")
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_command_exit_status_mapping(env):
    inst = env["inst"]
    inst.mark_log()
    fwd = write_forward(env, ALICE, "\"|/bin/sh -c 'echo no such mailbox; exit 67'\"\n")
    try:
        msg = Message(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}"])
        assert deliver(msg)["status"] == "0"
        inst.wait_log(r"dsn=5\.1\.1, status=bounced \(user unknown\. Command output: "
                      r"no such mailbox \)")
        write_forward(env, ALICE, "\"|/bin/sh -c 'exit 75'\"\n")
        msg = Message(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}"])
        assert deliver(msg)["status"] == "1"
        inst.wait_log(r"dsn=4\.3\.0, status=deferred \(temporary failure\)")
        assert msg.record_types() == ["R"]
    finally:
        fwd.unlink()


class FakeCleanup(threading.Thread):
    """public/cleanup as docs/protocols.md describes it: records until E."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        os.chmod(path, 0o666)
        self.sock.listen(5)
        self.messages = []

    def run(self):
        import attrproto
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            chan = attrproto.Channel.__new__(attrproto.Channel)
            chan.sock, chan.buffer = conn, b""
            chan.receive()
            chan.send([("status", 0), ("queue_id", "ABCDEF123")])
            records = []
            while True:
                rtype = chan._read(1).decode()
                length, shift = 0, 0
                while True:
                    byte = chan._read(1)[0]
                    length |= (byte & 0x7F) << shift
                    shift += 7
                    if not byte & 0x80:
                        break
                records.append((rtype, chan._read(length).decode()))
                if rtype == "E":
                    break
            self.messages.append(records)
            chan.send([("status", 0)])
            conn.close()


@pytest.fixture
def fake_cleanup(env):
    inst = env["inst"]
    fake = FakeCleanup(inst.queue_dir / "public" / "cleanup")
    fake.start()
    yield fake
    fake.sock.close()
    os.unlink(inst.queue_dir / "public" / "cleanup")


def test_remote_alias_members_are_resubmitted_through_cleanup(env, fake_cleanup):
    inst = env["inst"]
    fake = fake_cleanup
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"remote@{DOMAIN}"], body=["for friend"])
    assert deliver(msg)["status"] == "0"
    inst.wait_log(rf"to=<friend@remote.example>, orig_to=<remote@{DOMAIN}>, .*"
                  r"status=sent \(forwarded as ABCDEF123\)")
    records = fake.messages[0]
    assert ("S", "sender@example.org") in records
    assert ("R", "friend@remote.example") in records
    assert ("L", f"Delivered-To: remote@{DOMAIN}") in records
    assert records[-1][0] == "E"
    msg = Message(inst, "sender@example.org", [f"biglist@{DOMAIN}"])
    assert deliver(msg)["status"] == "0"
    wait_for(lambda: len(fake.messages) == 2, what="second message")
    assert ("S", f"owner-biglist@{DOMAIN}") in fake.messages[1]


def test_luser_relay_forwards_unknown_users(env, fake_cleanup):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"ghost@{DOMAIN}"])
    assert deliver(msg, transport="luser")["status"] == "0"
    inst.wait_log(rf"{msg.queue_id}: to=<ghost@{DOMAIN}>, relay=local, .*"
                  r"status=sent \(forwarded as ABCDEF123\)")
    assert ("R", "lost-ghost@remote.example") in fake_cleanup.messages[0]


def test_cleanup_unavailable_defers_forwarding(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"remote@{DOMAIN}"])
    assert deliver(msg)["status"] == "1"
    inst.wait_log(r"to=<friend@remote\.example>, orig_to=<remote@mx\.example\.test>, .*"
                  r"status=deferred \(cannot forward: ")
    assert msg.record_types() == ["R"]


def test_mailbox_transport_passes_the_recipient_on(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}"], body=["passed on"])
    assert deliver(msg, transport="mbtrans")["status"] == "0"
    inst.wait_log(rf"postfix/pipe\[\d+\]: {msg.queue_id}: to=<{ALICE}@{DOMAIN}>, relay=lpipe, "
                  r".*status=sent \(delivered via lpipe service\)")
    assert "passed on" in (env["drop"] / "lpipe").read_text()
    assert msg.record_types() == ["D"]


def test_mailbox_transport_takes_unknown_users_too(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"stranger@{DOMAIN}"], body=["for a stranger"])
    assert deliver(msg, transport="mbtrans")["status"] == "0"
    inst.wait_log(rf"postfix/pipe\[\d+\]: {msg.queue_id}: to=<stranger@{DOMAIN}>, relay=lpipe, "
                  r".*status=sent")
    assert "for a stranger" in (env["drop"] / "lpipe").read_text()


def test_fallback_transport_comes_before_luser_relay(env, fake_cleanup):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", [f"ghost2@{DOMAIN}"], body=["fallback"])
    assert deliver(msg, transport="fbluser")["status"] == "0"
    inst.wait_log(rf"postfix/pipe\[\d+\]: {msg.queue_id}: to=<ghost2@{DOMAIN}>, relay=lpipe, "
                  r".*status=sent")
    assert fake_cleanup.messages == []


def test_agent_survives_bad_requests(env):
    import attrproto
    inst = env["inst"]
    chan = attrproto.Channel(inst.queue_dir / "private" / "local")
    chan.receive()
    chan.send_raw(b"garbage\n\n")
    chan.close()
    msg = Message(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}"])
    assert deliver(msg)["status"] == "0"
