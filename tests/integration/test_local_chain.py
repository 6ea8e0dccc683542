"""Issue #8 acceptance for local delivery through the whole chain, as users
send mail: the installed sendmail (postdrop, pickup) or SMTP into smtpd,
then cleanup, qmgr and local(8). test_local.py tests local(8) alone,
playing qmgr; this module proves the same points end to end.

Users chalice, chbob, chcmd and chdave are created for the module, with homes and
the mail spool in a scratch directory, and removed afterwards."""
import os
import pwd
import re
import shutil
import smtplib
import stat
import time

import pytest

import agent_request
from conftest import SBIN, SCRATCH, run, wait_for

ALICE, BOB, CMD, DAVE = "chalice", "chbob", "chcmd", "chdave"
DOMAIN = "mx.example.test"
MAILDIR_DOMAIN = "maildir.example.test"

CAPTURE = """#!/bin/sh
# Records how it was run: argv, identity, environment, then the message.
out="$1"
shift
{ printf 'args=%s\\n' "$*"; echo "uid=$(id -u)"; env | sort; } > "$out.info"
cat > "$out"
"""


@pytest.fixture(scope="module")
def env(module_instance_factory):
    scratch = SCRATCH / f"localchain-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    os.chmod(scratch, 0o755)
    homes, spool, drop = scratch / "home", scratch / "mail", scratch / "drop"
    for path, mode in ((homes, 0o755), (spool, 0o1777), (drop, 0o1777)):
        path.mkdir()
        os.chmod(path, mode)
    capture = scratch / "capture.sh"
    capture.write_text(CAPTURE)
    os.chmod(capture, 0o755)
    users = {name: agent_request.make_user(name, homes) for name in (ALICE, BOB, CMD, DAVE)}
    include = scratch / "list.inc"
    include.write_text(f"{BOB}\n")
    evil_include = scratch / "evil.inc"
    evil_include.write_text(f"\"|{capture} {drop}/from-include\"\n")
    commands = scratch / "mailbox_commands"
    commands.write_text(f"{CMD} {capture} {drop}/mbcmd $sender\n")
    transports = scratch / "transport"
    transports.write_text(f"{MAILDIR_DOMAIN} maildir:\n")

    def master_edit(text):
        return text + ("maildir   unix  -       n       n       -       -       local\n"
                       "  -o home_mailbox=Maildir/\n")
    inst = module_instance_factory("localchain", main_cf={
        "mail_spool_directory": spool,
        "mydestination": f"{DOMAIN}, localhost, {MAILDIR_DOMAIN}",
        "transport_maps": f"texthash:{transports}",
        "mailbox_command_maps": f"texthash:{commands}",
        "delay_warning_time": "0",
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
        "loopb: loopa\n")
    run([SBIN / "postalias", "-c", inst.config_dir, f"hash:{aliases}"])
    inst.start()
    yield {"inst": inst, "spool": spool, "drop": drop, "homes": homes, "users": users,
           "scratch": scratch, "capture": capture}
    if os.environ.get("SHOWLOG"):
        print(inst.log()[-int(os.environ["SHOWLOG"]):])
    for name in (ALICE, BOB, CMD, DAVE):
        agent_request.remove_user(name)
    shutil.rmtree(scratch, ignore_errors=True)


def sendmail(inst, sender, recipients, body, headers=("Subject: chain test",)):
    text = "\n".join(list(headers) + ["", *body]) + "\n"
    inst.command("sendmail", "-f", sender, *recipients, input=text)


def smtp_send(inst, sender, recipients, body, headers=("Subject: chain test",)):
    text = "\r\n".join(list(headers) + ["", *body]) + "\r\n"
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as client:
        client.ehlo("client.example.test")
        client.sendmail(sender, recipients, text)


def mbox(env, user):
    path = env["spool"] / user
    return path.read_text(errors="replace") if path.exists() else ""


def wait_mbox(env, user, marker, timeout=30):
    return wait_for(lambda: marker in mbox(env, user), timeout=timeout,
                    what=f"{marker} in {user}'s mailbox") and mbox(env, user)


def test_mbox_for_two_users_through_sendmail(env):
    inst = env["inst"]
    inst.mark_log()
    sendmail(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}", BOB],
             ["From the start", "mbox-two-users"])
    for user in (ALICE, BOB):
        text = wait_mbox(env, user, "mbox-two-users")
        st = (env["spool"] / user).stat()
        assert (st.st_uid, st.st_gid) == (env["users"][user].pw_uid, env["users"][user].pw_gid)
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert text.startswith("From sender@example.org  ")
        assert "\nReturn-Path: <sender@example.org>\n" in text
        assert f"\nDelivered-To: {user}@{DOMAIN}\n" in text
        assert "\n>From the start\n" in text
        inst.wait_log(rf"postfix/local\[\d+\]: \w+: to=<{user}@{DOMAIN}>, .*relay=local, "
                      r".*dsn=2\.0\.0, status=sent \(delivered to mailbox\)")


def test_maildir_for_two_users_through_smtpd(env):
    inst = env["inst"]
    inst.mark_log()
    smtp_send(inst, "sender@example.org", [f"{ALICE}@{MAILDIR_DOMAIN}", f"{BOB}@{MAILDIR_DOMAIN}"],
              ["maildir-two-users"])
    for user in (ALICE, BOB):
        new = env["homes"] / user / "Maildir" / "new"
        files = wait_for(lambda: list(new.iterdir()) if new.exists() else [], timeout=30,
                         what=f"{user}'s Maildir")
        st = files[0].stat()
        assert st.st_uid == env["users"][user].pw_uid
        assert stat.S_IMODE(st.st_mode) == 0o600
        text = files[0].read_text()
        assert text.startswith("Return-Path: <sender@example.org>\n")
        assert f"Delivered-To: {user}@{MAILDIR_DOMAIN}\n" in text
        assert "maildir-two-users" in text
        assert "Received: from client.example.test (localhost [127.0.0.1])" in text
        inst.wait_log(rf"to=<{user}@{MAILDIR_DOMAIN}>, relay=local, .*status=sent "
                      r"\(delivered to maildir\)")


def test_aliases_through_smtpd(env):
    inst, drop = env["inst"], env["drop"]
    inst.mark_log()
    for alias, marker in (("root", "alias-root"), ("staff", "alias-staff"),
                          ("incl", "alias-include"), ("tofile", "alias-file"),
                          ("tocmd", "alias-command")):
        smtp_send(inst, "sender@example.org", [f"{alias}@{DOMAIN}"], [marker])
    wait_mbox(env, ALICE, "alias-root")
    wait_mbox(env, ALICE, "alias-staff")
    wait_mbox(env, BOB, "alias-staff")
    wait_mbox(env, BOB, "alias-include")
    text = wait_for(lambda: (drop / "file.mbox").exists() and "alias-file" in
                    (drop / "file.mbox").read_text() and (drop / "file.mbox").read_text(),
                    timeout=30, what="the alias file")
    assert text.startswith("From sender@example.org  ")
    assert (drop / "file.mbox").stat().st_uid == pwd.getpwnam("nobody").pw_uid
    wait_for(lambda: (drop / "alias-cmd").exists() and "alias-command" in
             (drop / "alias-cmd").read_text(), timeout=30, what="the alias command")
    info = (drop / "alias-cmd.info").read_text()
    assert f"uid={pwd.getpwnam('nobody').pw_uid}\n" in info
    inst.wait_log(rf"to=<{ALICE}@{DOMAIN}>, orig_to=<root@{DOMAIN}>, relay=local, .*status=sent")


def test_untrusted_include_cannot_run_commands(env):
    inst = env["inst"]
    inst.mark_log()
    sendmail(inst, "sender@example.org", [f"evilinc@{DOMAIN}"], ["evil-include"])
    inst.wait_log(r"status=bounced \(mail to command is restricted\)", timeout=30)
    assert not (env["drop"] / "from-include").exists()


def write_forward(env, user, text):
    pw = env["users"][user]
    path = env["homes"] / user / ".forward"
    path.write_text(text)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o644)
    return path


def test_forward_to_user_and_command_through_sendmail(env):
    inst, drop = env["inst"], env["drop"]
    inst.mark_log()
    fwd = write_forward(env, ALICE, f"{BOB}, \"|{env['capture']} {drop}/fwd-cmd\"\n")
    try:
        sendmail(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}"], ["forwarded-chain"])
        wait_mbox(env, BOB, "forwarded-chain")
        wait_for(lambda: (drop / "fwd-cmd").exists() and "forwarded-chain" in
                 (drop / "fwd-cmd").read_text(), timeout=30, what="the .forward command")
    finally:
        fwd.unlink()
    info = (drop / "fwd-cmd.info").read_text()
    assert f"uid={env['users'][ALICE].pw_uid}\n" in info
    assert "forwarded-chain" not in mbox(env, ALICE)
    inst.wait_log(rf"to=<{BOB}@{DOMAIN}>, orig_to=<{ALICE}@{DOMAIN}>, .*status=sent")


def test_alias_loop_is_bounced_to_the_sender(env):
    inst = env["inst"]
    inst.mark_log()
    sendmail(inst, f"{BOB}@{DOMAIN}", [f"loopa@{DOMAIN}"], ["alias-loop-chain"])
    inst.wait_log(rf"to=<loopb@{DOMAIN}>, orig_to=<loopa@{DOMAIN}>, relay=local, .*dsn=5\.4\.6, "
                  r"status=bounced \(alias database loop for loopb\)", timeout=30)
    text = wait_mbox(env, BOB, "alias database loop for loopb")
    assert "alias-loop-chain" in text
    assert "From MAILER-DAEMON " in text


def test_existing_delivered_to_is_a_loop(env):
    inst = env["inst"]
    inst.mark_log()
    smtp_send(inst, f"{BOB}@{DOMAIN}", [f"{ALICE}@{DOMAIN}"], ["delivered-to-loop"],
              headers=[f"Delivered-To: {ALICE}@{DOMAIN}", "Subject: looped"])
    inst.wait_log(rf"to=<{ALICE}@{DOMAIN}>, .*dsn=5\.4\.6, status=bounced \(mail forwarding "
                  rf"loop for {ALICE}@{DOMAIN}\)", timeout=30)
    wait_mbox(env, BOB, f"mail forwarding loop for {ALICE}@{DOMAIN}")
    assert "delivered-to-loop" not in mbox(env, ALICE)


def test_forward_loop_is_bounced(env):
    inst = env["inst"]
    inst.mark_log()
    fwd_a = write_forward(env, ALICE, f"{BOB}\n")
    fwd_b = write_forward(env, BOB, f"{ALICE}\n")
    try:
        sendmail(inst, "sender@example.org", [f"{ALICE}@{DOMAIN}"], ["forward-loop-chain"])
        inst.wait_log(r"status=bounced \(mail forwarding loop for ", timeout=30)
    finally:
        fwd_a.unlink()
        fwd_b.unlink()
    time.sleep(1)
    assert "forward-loop-chain" not in mbox(env, ALICE) + mbox(env, BOB)


def test_symlinked_mailbox_is_deferred_then_delivered(env):
    inst = env["inst"]
    victim = env["scratch"] / "victim"
    victim.write_text("precious\n")
    os.chmod(victim, 0o644)
    link = env["spool"] / DAVE
    os.symlink(victim, link)
    inst.mark_log()
    try:
        sendmail(inst, "sender@example.org", [f"{DAVE}@{DOMAIN}"], ["symlink-chain"])
        match = inst.wait_log(rf"postfix/local\[\d+\]: (\w+): to=<{DAVE}@{DOMAIN}>, "
                              r".*dsn=4\.\d\.\d, status=deferred \(cannot update mailbox "
                              r".*symbolic link\)", timeout=30)
        qid = match.group(1)
        inst.wait_log(rf"warning: {qid}: cannot update mailbox .*symbolic link")
        wait_for(lambda: list((inst.queue_dir / "deferred").rglob(qid)), what="deferred/")
    finally:
        link.unlink()
    assert victim.read_text() == "precious\n"
    # once the link is gone, the deferred message is delivered
    inst.postfix("flush")
    wait_mbox(env, DAVE, "symlink-chain")
    assert not (env["spool"] / DAVE).is_symlink()
    inst.wait_log(rf"{qid}: to=<{DAVE}@{DOMAIN}>, .*status=sent \(delivered to mailbox\)")


def test_shell_metacharacters_in_the_envelope_stay_data(env):
    """ATTACKS.md "shell in envelope": a quoted local part full of shell
    syntax reaches a |command alias and a mailbox_command with $sender."""
    inst, drop = env["inst"], env["drop"]
    hostile = '"x;touch /tmp/pwned-chain;sleep 5;`id`"@example.org'
    inst.mark_log()
    started = time.monotonic()
    smtp_send(inst, hostile, [f"tocmd@{DOMAIN}", f"{CMD}@{DOMAIN}"], ["shell-in-envelope"])
    wait_for(lambda: (drop / "alias-cmd").exists() and "shell-in-envelope" in
             (drop / "alias-cmd").read_text(), timeout=30, what="the alias command")
    wait_for(lambda: (drop / "mbcmd").exists() and "shell-in-envelope" in
             (drop / "mbcmd").read_text(), timeout=30, what="the mailbox command")
    assert time.monotonic() - started < 5
    # the command gets the address in the environment, unquoted and untouched
    alias_info = (drop / "alias-cmd.info").read_text()
    assert "SENDER=x;touch /tmp/pwned-chain;sleep 5;`id`@example.org\n" in alias_info
    # $sender in a command is filtered by command_expansion_filter: one harmless word
    mbcmd_info = (drop / "mbcmd.info").read_text()
    assert "args=x_touch_/tmp/pwned-chain_sleep_5__id_@example.org\n" in mbcmd_info
    assert f"uid={env['users'][CMD].pw_uid}\n" in mbcmd_info
    assert not os.path.exists("/tmp/pwned-chain")
    inst.wait_log(rf"to=<{CMD}@{DOMAIN}>, .*status=sent \(delivered to command: ")
