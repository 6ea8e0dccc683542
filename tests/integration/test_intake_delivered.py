"""The intake acceptance points end to end, as a user sees them: mail goes
in through the installed sendmail or over SMTP (smtpd), and comes out of
local(8) into the Maildirs of real system users. Every daemon is the real
one (default master.cf): smtpd, postdrop, pickup, cleanup, trivial-rewrite,
qmgr, local, bounce.

Users e2eann, e2ebob, e2ecat and e2edan are created for the module (homes
in a scratch directory, home_mailbox = Maildir/) and removed after. Each
test uses its own subject, so the tests share the mailboxes without
disturbing each other.
"""
import email
import email.policy
import mailbox
import os
import re
import shutil
import signal
import stat

import pytest

import agent_request
from conftest import SBIN, SCRATCH, run, wait_for
from queuefile import record
from smtpd_client import SmtpClient, queue_id as accepted_id

USERS = ("e2eann", "e2ebob", "e2ecat", "e2edan")
ANN, BOB, CAT, DAN = USERS
DOMAIN = "mx.example.test"


def addr(user):
    return f"{user}@{DOMAIN}"


@pytest.fixture(scope="module")
def inst(module_instance_factory):
    homes = SCRATCH / f"intake-delivered-{os.getpid()}"
    shutil.rmtree(homes, ignore_errors=True)
    homes.mkdir(parents=True)
    os.chmod(homes, 0o755)
    for user in USERS:
        agent_request.make_user(user, homes)
    inst = module_instance_factory("intake-delivered", main_cf={
        "home_mailbox": "Maildir/",
        "header_checks": "regexp:$config_directory/header_checks",
        "canonical_maps": f"inline:{{ canon@{DOMAIN}=canonical@example.test }}",
        "masquerade_domains": "example.test",
        "masquerade_exceptions": ", ".join(("root",) + USERS),
        "virtual_alias_maps": f"inline:{{ {{team@{DOMAIN} = {BOB}, {CAT}}} }}",
        "sender_canonical_maps": "hash:$config_directory/sender_canonical",
    })
    (inst.config_dir / "sender_canonical").write_text(f"moving@{DOMAIN} first@example.test\n")
    run([SBIN / "postmap", "-c", inst.config_dir, f"hash:{inst.config_dir}/sender_canonical"])
    (inst.config_dir / "header_checks").write_text(
        "/^Subject: reject me/ REJECT go away now\n")
    (inst.config_dir / "aliases").write_text(f"postmaster: {ANN}\nroot: {ANN}\n")
    run([SBIN / "postalias", "-c", inst.config_dir, f"hash:{inst.config_dir}/aliases"])
    inst.homes = homes
    inst.start()
    yield inst
    for user in USERS:
        agent_request.remove_user(user)
    shutil.rmtree(homes, ignore_errors=True)


# -- what the users received ----------------------------------------------------
def delivered(inst, user, subject):
    """The messages in user's Maildir whose Subject is `subject`, parsed."""
    path = inst.homes / user / "Maildir"
    if not path.exists():
        return []
    box = mailbox.Maildir(path, factory=None, create=False)
    found = []
    for key in box.keys():
        msg = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        if msg["Subject"] == subject:
            found.append(msg)
    return found


def wait_removed(inst, queue_id, timeout=20):
    inst.wait_log(rf"postfix/qmgr\[\d+\]: {queue_id}: removed", timeout=timeout)


def sendmail(inst, *args, message, check=True):
    return inst.command("sendmail", *args, input=message, check=check)


def picked_up(inst, sender):
    """The queue ID pickup logged for `sender` since the log mark."""
    match = inst.wait_log(rf"postfix/pickup\[\d+\]: ([0-9A-F]+): uid=\d+ "
                          rf"from=<{re.escape(sender)}>")
    return match.group(1)


def smtp_send(inst, sender, recipients, text, client=None):
    """One message over SMTP from a stranger (127.0.0.1); returns the DATA reply."""
    own = client is None
    client = client or SmtpClient(inst.smtp_port)
    try:
        if own:
            assert client.cmd("EHLO client.example").startswith("250")
        assert client.cmd(f"MAIL FROM:<{sender}>").startswith("250")
        for rcpt in recipients:
            assert client.cmd(f"RCPT TO:<{rcpt}>").startswith("250")
        assert client.cmd("DATA").startswith("354")
        client.send(text.replace("\n", "\r\n").encode() + b".\r\n")
        return client.reply()
    finally:
        if own:
            client.close()


def queue_is_empty(inst):
    return not any(files for q in ("incoming", "active", "deferred", "hold")
                   for _, _, files in os.walk(inst.queue_dir / q))


# -- sendmail -------------------------------------------------------------------
def test_sendmail_t_one_copy_each_and_bcc_gone(inst):
    inst.mark_log()
    subject = "minus t"
    sendmail(inst, "-t", "-f", addr(ANN), message=(
        f"To: {addr(BOB)}, Cat <{addr(CAT)}>\nCc: {addr(BOB)}\nBcc: {addr(DAN)}\n"
        f"Subject: {subject}\n\nhello all\n"))
    queue_id = picked_up(inst, addr(ANN))
    wait_removed(inst, queue_id)
    for user in (BOB, CAT, DAN):
        copies = delivered(inst, user, subject)
        assert len(copies) == 1, f"{user} got {len(copies)} copies"
        msg = copies[0]
        assert msg["Bcc"] is None
        assert msg["Delivered-To"] == addr(user)
        assert msg["Return-Path"] == f"<{addr(ANN)}>"
        assert msg["To"] == f"{addr(BOB)}, Cat <{addr(CAT)}>"
        assert msg["Cc"] == addr(BOB)
        assert msg.get_content() == "hello all\n"
    for user in (BOB, CAT):
        assert DAN not in delivered(inst, user, subject)[0].as_string()
    assert delivered(inst, ANN, subject) == []
    sent = re.findall(rf"postfix/local\[\d+\]: {queue_id}: to=<([^>]+)>, .*status=sent",
                      inst.new_log())
    assert sorted(sent) == sorted(addr(u) for u in (BOB, CAT, DAN))


def test_sendmail_f_is_the_envelope_sender(inst):
    inst.mark_log()
    subject = "envelope sender"
    sendmail(inst, "-f", "a@b.example", BOB, message=f"Subject: {subject}\n\nx\n")
    queue_id = picked_up(inst, "a@b.example")
    inst.wait_log(rf"postfix/qmgr\[\d+\]: {queue_id}: from=<a@b\.example>, size=\d+, "
                  r"nrcpt=1 \(queue active\)")
    wait_removed(inst, queue_id)
    (msg,) = delivered(inst, BOB, subject)
    assert msg["Return-Path"] == "<a@b.example>"
    assert msg["From"].addresses[0].addr_spec == "a@b.example"


def test_lone_dot_kept_with_i(inst):
    inst.mark_log()
    sendmail(inst, "-i", "-f", addr(ANN), BOB,
             message="Subject: dot with i\n\nbefore\n.\nafter\n")
    sendmail(inst, "-f", addr(CAT), BOB, message="Subject: dot without i\n\nbefore\n.\nafter\n")
    wait_removed(inst, picked_up(inst, addr(ANN)))
    wait_removed(inst, picked_up(inst, addr(CAT)))
    (kept,) = delivered(inst, BOB, "dot with i")
    assert kept.get_content() == "before\n.\nafter\n"
    (cut,) = delivered(inst, BOB, "dot without i")
    assert cut.get_content() == "before\n"


def test_rewriting_shown_on_delivered_headers(inst):
    inst.mark_log()
    subject = "rewritten"
    sendmail(inst, "-f", "canon", f"team@{DOMAIN}", message=(
        f"From: canon\nTo: team@{DOMAIN}, someone@host.example.test\n"
        f"Cc: root@host.example.test\nSubject: {subject}\n\nx\n"))
    queue_id = picked_up(inst, "canon")     # pickup logs the sender before cleanup
    wait_removed(inst, queue_id)
    for user in (BOB, CAT):
        (msg,) = delivered(inst, user, subject)
        # canonical_maps on the envelope sender and From:
        assert msg["Return-Path"] == "<canonical@example.test>"
        assert msg["From"] == "canonical@example.test"
        # masquerade_domains strips the host part; root is an exception
        assert msg["To"] == "team@example.test, someone@example.test"
        assert msg["Cc"] == "root@host.example.test"
        # virtual_alias_maps expanded the envelope recipient team@ to the users
        assert msg["X-Original-To"] == f"team@{DOMAIN}"
        assert msg["Delivered-To"] == addr(user)


# -- header_checks REJECT -------------------------------------------------------
def test_header_checks_reject_over_smtp(inst):
    inst.mark_log()
    client = SmtpClient(inst.smtp_port)
    try:
        assert client.cmd("EHLO client.example").startswith("250")
        reply = smtp_send(inst, "stranger@remote.example", [addr(BOB)],
                          "Subject: reject me please\n\nbody\n", client=client)
        assert reply == "550 5.7.1 go away now"
        match = inst.wait_log(r"postfix/cleanup\[\d+\]: ([0-9A-F]+): reject: header Subject: "
                              r"reject me please from localhost\[127\.0\.0\.1\]; "
                              rf"from=<stranger@remote\.example> to=<{addr(BOB)}> "
                              r"proto=ESMTP helo=<client\.example>: 5\.7\.1 go away now")
        rejected = match.group(1)
        # the session goes on: the next message in it is accepted and delivered
        reply = smtp_send(inst, "stranger@remote.example", [addr(BOB)],
                          "Subject: after the reject\n\nbody\n", client=client)
        accepted = accepted_id(reply)
        assert client.cmd("QUIT").startswith("221")
    finally:
        client.close()
    wait_removed(inst, accepted)
    assert len(delivered(inst, BOB, "after the reject")) == 1
    assert delivered(inst, BOB, "reject me please") == []
    log = inst.new_log()
    assert f"{rejected}: removed" not in log and f"{rejected}: from=<" not in log
    assert not (inst.queue_dir / "incoming" / rejected).exists()


def test_header_checks_reject_from_sendmail_bounces_to_the_sender(inst):
    inst.mark_log()
    sendmail(inst, "-f", addr(ANN), BOB, message="Subject: reject me locally\n\nbody\n")
    queue_id = inst.wait_log(r"postfix/cleanup\[\d+\]: ([0-9A-F]+): reject: header Subject: "
                             r"reject me locally from local; ").group(1)
    inst.wait_log(rf"postfix/bounce\[\d+\]: {queue_id}: sender non-delivery notification: "
                  r"[0-9A-F]+")
    notice = wait_for(lambda: next(iter(delivered(
        inst, ANN, "Undelivered Mail Returned to Sender")), None), timeout=20, what="bounce")
    assert notice["Return-Path"] == "<>"
    assert notice.get_content_type() == "multipart/report"
    assert notice.get_param("report-type") == "delivery-status"
    human, status, original = notice.iter_parts()
    assert "go away now" in human.get_content()
    per_rcpt = status.get_payload()[1]
    assert per_rcpt["Final-Recipient"] == f"rfc822; {addr(BOB)}"
    assert per_rcpt["Action"] == "failed" and per_rcpt["Status"] == "5.7.1"
    assert "go away now" in per_rcpt["Diagnostic-Code"]
    assert original.get_payload()[0]["Subject"] == "reject me locally"
    assert delivered(inst, BOB, "reject me locally") == []


# -- loops ------------------------------------------------------------------------
def hops(count):
    return "".join(f"Received: from hop{i}.example by relay{i}.example; "
                   f"Mon, 23 Nov 2026 10:00:{i % 60:02d} +0000\n" for i in range(count))


def test_too_many_hops_over_smtp_is_refused(inst):
    """smtpd adds its own Received: header, so 50 from the client make 51,
    one more than hopcount_limit (50) allows."""
    inst.mark_log()
    for count in (50, 51):
        reply = smtp_send(inst, "loop@remote.example", [addr(BOB)],
                          hops(count) + "Subject: looping over smtp\n\nbody\n")
        assert reply == "554 5.4.0 Error: too many hops"
    reply = smtp_send(inst, "loop@remote.example", [addr(BOB)],
                      hops(49) + "Subject: fifty hops over smtp\n\nbody\n")
    wait_removed(inst, accepted_id(reply))
    assert len(delivered(inst, BOB, "fifty hops over smtp")) == 1
    assert delivered(inst, BOB, "looping over smtp") == []


def test_too_many_hops_from_sendmail_bounces(inst):
    inst.mark_log()
    sendmail(inst, "-f", addr(CAT), BOB, message=hops(51) + "Subject: looping locally\n\nx\n")
    queue_id = picked_up(inst, addr(CAT))
    inst.wait_log(rf"{queue_id}: to=<{addr(BOB)}>, .*dsn=5\.4\.0, status=bounced "
                  r"\(too many hops\)")
    notice = wait_for(lambda: next(iter(delivered(
        inst, CAT, "Undelivered Mail Returned to Sender")), None), timeout=20, what="bounce")
    status = list(notice.iter_parts())[1].get_payload()[1]
    assert status["Status"] == "5.4.0"
    assert "too many hops" in status["Diagnostic-Code"]
    assert delivered(inst, BOB, "looping locally") == []


# -- kill -9 of cleanup in the middle of a message ---------------------------------
def cleanup_writing(inst, queue_id):
    """PIDs of cleanup processes that have incoming/QUEUE_ID open."""
    found = []
    for pid in inst.daemon_pids("cleanup"):
        fd_dir = f"/proc/{pid}/fd"
        try:
            targets = [os.readlink(f"{fd_dir}/{fd}") for fd in os.listdir(fd_dir)]
        except OSError:
            continue
        if any(t.endswith(f"incoming/{queue_id}") for t in targets):
            found.append(pid)
    return found


def test_kill_9_of_cleanup_mid_message(inst):
    inst.mark_log()
    client = SmtpClient(inst.smtp_port)
    try:
        assert client.cmd("EHLO client.example").startswith("250")
        assert client.cmd("MAIL FROM:<half@remote.example>").startswith("250")
        assert client.cmd(f"RCPT TO:<{addr(BOB)}>").startswith("250")
        assert client.cmd("DATA").startswith("354")
        client.send(b"Subject: half a message\r\n\r\n" + b"first part\r\n" * 100)
        queue_id = inst.wait_log(r"postfix/smtpd\[\d+\]: ([0-9A-F]+): client=").group(1)
        pids = wait_for(lambda: cleanup_writing(inst, queue_id), what="cleanup writing")
        assert len(pids) == 1
        os.kill(pids[0], signal.SIGKILL)
        client.send(b"second part\r\n" * 100 + b".\r\n")
        reply = client.reply()
        assert re.fullmatch(r"451 4\.3\.0 .+", reply), reply
        inst.wait_log(rf"process .*/cleanup pid {pids[0]} killed by signal 9")
        # the partial file was never marked complete
        partial = inst.queue_dir / "incoming" / queue_id
        assert not partial.exists() or not stat.S_IMODE(partial.stat().st_mode) & 0o100
        # later mail flows, even in the same session
        reply = smtp_send(inst, "half@remote.example", [addr(BOB)],
                          "Subject: after the kill\n\nwhole\n", client=client)
        accepted = accepted_id(reply)
    finally:
        client.close()
    wait_removed(inst, accepted)
    inst.postfix("flush")
    (after,) = delivered(inst, BOB, "after the kill")
    assert after.get_content() == "whole\n"
    assert delivered(inst, BOB, "half a message") == []
    assert f"{queue_id}: from=<" not in inst.new_log()


# -- maildrop tampering -------------------------------------------------------------
def maildrop_file(sender, recipient, subject):
    """A well-formed maildrop file (docs/queue-file.md, "Maildrop files")."""
    lines = [f"Subject: {subject}", "", "from a crafted file"]
    return (record("T", "1700000000.000001") + record("S", sender) + record("R", recipient)
            + record("M") + b"".join(record("L", line) for line in lines)
            + record("X") + record("E"))


def test_garbage_and_links_in_maildrop(inst, tmp_path):
    maildrop = inst.queue_dir / "maildrop"
    outside = tmp_path / "linked"
    outside.write_bytes(maildrop_file(addr(ANN), addr(BOB), "hard linked"))
    files = {
        "EEEE00001": b"garbage\x00\xff",
        "EEEE00002": maildrop_file(addr(ANN), addr(BOB), "cut short")[:-4],    # no X, E
        "EEEE00006": maildrop_file(addr(ANN), addr(BOB), "cut short")[:-7],    # mid-record
        "EEEE00003": maildrop_file(addr(ANN), addr(BOB), "crafted but fine"),
    }
    for name, data in files.items():
        (maildrop / name).write_bytes(data)
        os.chmod(maildrop / name, 0o744)
    os.link(outside, maildrop / "EEEE00004")
    os.chmod(outside, 0o744)
    (maildrop / "EEEE00005").symlink_to(outside)
    inst.mark_log()
    sendmail(inst, "-f", addr(CAT), BOB, message="Subject: amid garbage\n\nvalid\n")
    wait_removed(inst, picked_up(inst, addr(CAT)))
    reasons = {
        "EEEE00001": "bad record type",
        "EEEE00002": "premature end of file",
        "EEEE00004": "file has 2 links",
        "EEEE00005": "symbolic link",
        "EEEE00006": "truncated record",
    }
    for name, reason in reasons.items():
        inst.wait_log(rf"postfix/pickup\[\d+\]: warning: maildrop/{name}: uid \d+: "
                      rf"{reason}; removing the file")
    wait_for(lambda: not any(maildrop.iterdir()), what="maildrop emptied")
    wait_for(lambda: delivered(inst, BOB, "crafted but fine"), timeout=20, what="crafted file")
    assert len(delivered(inst, BOB, "amid garbage")) == 1
    assert len(delivered(inst, BOB, "crafted but fine")) == 1
    assert delivered(inst, BOB, "hard linked") == []
    assert delivered(inst, BOB, "cut short") == []
    assert outside.exists()
    # no daemon died on the way: pickup and cleanup only warned
    assert not re.search(r"(fatal|panic):|process \S+ pid \d+ (exit status|killed)",
                         inst.new_log())


def test_newaliases_rebuilds_every_alias_database(inst):
    first, second = inst.config_dir / "aliases", inst.config_dir / "aliases-two"
    first.write_text(f"postmaster: {ANN}\nroot: {ANN}\nfirst-list: {BOB}\n")
    second.write_text(f"second-list: {CAT}\n")
    tables = f"hash:{first}, btree:{second}"
    inst.edit_main_cf(alias_database=tables, alias_maps=tables)
    inst.postfix("reload")
    for how in ("newaliases", "sendmail -bi"):
        for db in (inst.config_dir / "aliases.db", inst.config_dir / "aliases-two.db"):
            db.unlink(missing_ok=True)
        if how == "newaliases":
            run([SBIN / "newaliases"], env={"MAIL_CONFIG": str(inst.config_dir)})
        else:
            sendmail(inst, "-bi", message="")
        dump = run(["db5.3_dump", "-p", inst.config_dir / "aliases.db"]).stdout
        assert "first-list" in dump and "second-list" not in dump
        dump = run(["db5.3_dump", "-p", inst.config_dir / "aliases-two.db"]).stdout
        assert "second-list" in dump and "btree" in dump
    inst.mark_log()
    sendmail(inst, "-f", addr(ANN), "first-list", "second-list",
             message="Subject: through both tables\n\nx\n")
    wait_removed(inst, picked_up(inst, addr(ANN)))
    assert len(delivered(inst, BOB, "through both tables")) == 1
    assert len(delivered(inst, CAT, "through both tables")) == 1


def test_postmap_takes_effect_without_a_reload(inst):
    """cleanup (chrooted) holds the hash table open; a table rebuilt with
    postmap applies to the very next message, with no reload."""
    table = inst.config_dir / "sender_canonical"
    inst.mark_log()
    for subject, expected in (("canonical one", "first"), ("canonical two", "second")):
        if expected == "second":
            table.write_text(f"moving@{DOMAIN} second@example.test\n")
            run([SBIN / "postmap", "-c", inst.config_dir, f"hash:{table}"])
        reply = smtp_send(inst, f"moving@{DOMAIN}", [addr(BOB)], f"Subject: {subject}\n\nx\n")
        wait_removed(inst, accepted_id(reply))
        (msg,) = delivered(inst, BOB, subject)
        assert msg["Return-Path"] == f"<{expected}@example.test>"
