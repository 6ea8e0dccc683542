"""pipe(8) through the documented delivery-agent protocol, playing qmgr:
flags, argv= expansion, user=, exit codes, size and time limits, and that
envelope text never reaches a shell."""
import os
import pwd
import re
import shutil

import pytest

from agent_request import Message, deliver
from conftest import SCRATCH

CAPTURE = """#!/bin/sh
# capture OUT ARGS...: records argv (one per line), uid and environment, then stdin.
out="$1"
shift
{ for a in "$@"; do echo "arg=$a"; done; echo "uid=$(id -u)"; echo "pwd=$(pwd)"; } > "$out.info"
cat > "$out"
"""


@pytest.fixture(scope="module")
def env(module_instance_factory):
    scratch = SCRATCH / f"pipe-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    os.chmod(scratch, 0o1777)
    capture = scratch / "capture.sh"
    capture.write_text(CAPTURE)
    os.chmod(capture, 0o755)
    out = scratch / "out"

    def master_edit(text):
        line = "{name:9} unix  -       n       n       -       -       pipe\n  {args}\n"
        services = {
            "pipeall": f"flags=DFORX.h user=nobody directory={scratch} argv={capture} "
                       f"{out}-all ${{sender}} ${{recipient}} ${{user}} ${{extension}} "
                       "${nexthop} ${domain} ${mailbox} ${queue_id} ${size}",
            "pipemany": f"flags=q user=nobody argv={capture} {out}-many -- ${{recipient}}",
            "pipeexit": "user=nobody argv=/bin/sh -c $nexthop",
            "pipesize": f"size=10 user=nobody argv={capture} {out}-size",
            "pipeslow": "user=nobody argv=/bin/sleep 30",
            "piperoot": f"user=root argv={capture} {out}-root",
            "pipebad": f"flags=Rz user=nobody argv={capture} {out}-bad",
        }
        for name, args in services.items():
            text += line.format(name=name, args=args)
        return text
    inst = module_instance_factory("pipe", main_cf={"recipient_delimiter": "+",
                                                     "pipeslow_time_limit": "2s"},
                                   master_cf_edit=master_edit)
    inst.start()
    yield {"inst": inst, "out": out}
    shutil.rmtree(scratch, ignore_errors=True)


def info(path):
    return [line for line in open(f"{path}.info").read().splitlines()]


def test_flags_and_argv_expansion(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "Sender@Example.org", ["User+Ext@Dest.Example"],
                  body=[".dot", "From here"])
    reply = deliver(msg, transport="pipeall", nexthop="Next.Example")
    assert reply["status"] == "0"
    lines = info(f"{env['out']}-all")
    assert lines[:9] == ["arg=Sender@Example.org", "arg=User+Ext@dest.example", "arg=User",
                         "arg=Ext", "arg=next.example", "arg=dest.example", "arg=User+Ext",
                         f"arg={msg.queue_id}", f"arg={msg.size}"]
    assert f"uid={pwd.getpwnam('nobody').pw_uid}" in lines
    assert f"pwd={env['out'].parent}" in lines
    text = open(f"{env['out']}-all").read()
    assert text.startswith("From Sender@Example.org  ")
    assert "\nReturn-Path: <Sender@Example.org>\n" in text
    assert "\nDelivered-To: User+Ext@Dest.Example\n" in text
    assert "\nX-Original-To: User+Ext@Dest.Example\n" in text
    assert "\n..dot\nFrom here\n" in text
    inst.wait_log(rf"{msg.queue_id}: to=<User\+Ext@Dest\.Example>, relay=pipeall, .*"
                  r"dsn=2\.0\.0, status=sent \(delivered via pipeall service\)")
    assert msg.record_types() == ["D"]


def test_recipient_arguments_repeat_and_never_meet_a_shell(env):
    inst = env["inst"]
    hostile = ["a b@x.example", "$(touch /tmp/pipe-pwned)@x.example", "c;id@x.example"]
    msg = Message(inst, "`reboot`@example.org", hostile)
    assert deliver(msg, transport="pipemany")["status"] == "0"
    lines = info(f"{env['out']}-many")
    assert lines[:4] == ["arg=--", 'arg="a b"@x.example',
                         'arg="$(touch /tmp/pipe-pwned)"@x.example', 'arg="c;id"@x.example']
    assert not os.path.exists("/tmp/pipe-pwned")
    assert msg.record_types() == ["D", "D", "D"]


@pytest.mark.parametrize("code,dsn,status,text", [
    (67, "5.1.1", "bounced", r"user unknown\. Command output: oops "),
    (75, "4.3.0", "deferred", r"temporary failure\. Command output: oops "),
    (1, "5.3.0", "bounced", r'Command died with status 1: "/bin/sh"\. Command output: oops '),
])
def test_exit_status_mapping(env, code, dsn, status, text):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", ["r@x.example"])
    reply = deliver(msg, transport="pipeexit", nexthop=f"echo oops; exit {code}")
    assert reply["status"] == ("1" if status == "deferred" else "0")
    inst.wait_log(rf"{msg.queue_id}: to=<r@x\.example>, relay=pipeexit, .*dsn={re.escape(dsn)}, "
                  rf"status={status} \({text}\)")
    assert msg.record_types() == (["R"] if status == "deferred" else ["D"])


def test_size_limit(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", ["r@x.example"])
    assert deliver(msg, transport="pipesize")["status"] == "0"
    inst.wait_log(r"dsn=5\.2\.3, status=bounced \(message too large\)")
    assert not os.path.exists(f"{env['out']}-size")


def test_time_limit(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", ["r@x.example"])
    assert deliver(msg, transport="pipeslow")["status"] == "0"
    inst.wait_log(r'status=bounced \(Command time limit exceeded: "/bin/sleep"\)')


def test_root_user_is_refused(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", ["r@x.example"])
    with pytest.raises((EOFError, ConnectionError, OSError)):
        deliver(msg, transport="piperoot", timeout=2)
    inst.wait_log(r"fatal: user= command-line attribute specifies root privileges: root")
    assert not os.path.exists(f"{env['out']}-root")


def test_unknown_flag_is_fatal(env):
    inst = env["inst"]
    inst.mark_log()
    msg = Message(inst, "sender@example.org", ["r@x.example"])
    with pytest.raises((EOFError, ConnectionError, OSError)):
        deliver(msg, transport="pipebad", timeout=2)
    inst.wait_log(r"fatal: unknown flag in flags=Rz: z")
    assert msg.record_types() == ["R"]
