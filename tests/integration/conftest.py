"""Integration test harness: a real Postern installed under a scratch prefix.

The session fixture `install` runs `make install` once into PREFIX (below).
Each test builds an `Instance`: its own config directory, queue directory,
log file and ports, started with the installed `postfix -c DIR start` and
driven by real clients. Programs are always called by absolute path under
the prefix, never through PATH (Debian's own sendmail may be there).

Instances run as whoever runs the tests: as root, master chroots and drops
privileges to mail_owner exactly as in production.
"""
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# One scratch root per checkout, so several worktrees can test at once.
SCRATCH = Path(os.environ.get(
    "POSTERN_TEST_ROOT",
    f"/tmp/postern-it-{hashlib.sha1(str(REPO).encode()).hexdigest()[:8]}"))
PREFIX = SCRATCH / "prefix"
BUILD = REPO / "build" / "it"
SBIN = PREFIX / "sbin"
LIBEXEC = PREFIX / "libexec" / "postfix"


_ports_given = set()


def free_port():
    """An unused TCP port on 127.0.0.1, taken below the kernel's ephemeral
    range: outgoing connections (ours, or other test runs' on this machine)
    draw their local ports from that range and could take a port between
    this choice and the instance's bind ("Address already in use")."""
    while True:
        port = random.randint(20000, 32767)
        if port in _ports_given:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ports_given.add(port)
        return port


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a true value; fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def run(args, check=True, **kwargs):
    """Runs a command, capturing text output."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 60)
    result = subprocess.run([str(a) for a in args], **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}\n"
                             f"stdout: {result.stdout}\nstderr: {result.stderr}")
    return result


@pytest.fixture(scope="session")
def install():
    """Builds and installs Postern once under PREFIX; returns PREFIX."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    os.chmod(SCRATCH, 0o755)
    if (PREFIX / "etc").exists():
        shutil.rmtree(PREFIX / "etc")
    jobs = str(os.cpu_count() or 2)
    run(["make", "-s", "-C", REPO, "-j", jobs, f"BUILD={BUILD}", f"PREFIX={PREFIX}",
         "install"], timeout=600)
    return PREFIX


def processes_with_config(config_dir):
    """PIDs of processes whose environment names this config directory."""
    marker = f"MAIL_CONFIG={config_dir}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in env:
            pids.append(int(entry.name))
    return pids


class Instance:
    """One Postern instance with its own directories, ports and log."""

    def __init__(self, name, main_cf=None, master_cf_edit=None):
        self.name = name
        self.root = SCRATCH / f"{name}-{os.getpid()}-{time.monotonic_ns() % 10**9}"
        self.config_dir = self.root / "etc"
        self.queue_dir = self.root / "spool"
        self.data_dir = self.root / "data"
        self.log_path = self.root / "maillog"
        self.smtp_port = free_port()
        self.root.mkdir(parents=True)
        os.chmod(self.root, 0o755)
        shutil.copytree(PREFIX / "etc" / "postfix", self.config_dir)
        self._write_main_cf(main_cf or {})
        self._write_master_cf(master_cf_edit)
        self._log_offset = 0

    # configuration ------------------------------------------------------
    def _write_main_cf(self, extra):
        settings = {
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "maillog_file": self.log_path,
            "maillog_file_prefixes": SCRATCH,
            "myhostname": "mx.example.test",
            "mydomain": "example.test",
            "inet_interfaces": "127.0.0.1",
            "mynetworks": "127.0.0.2/32",
            "alias_maps": f"hash:{self.config_dir}/aliases",
            "alias_database": f"hash:{self.config_dir}/aliases",
        }
        settings.update(extra)
        with open(self.config_dir / "main.cf", "a") as f:
            f.write("\n# --- test settings ---\n")
            for key, value in settings.items():
                f.write(f"{key} = {value}\n")

    def _write_master_cf(self, edit):
        path = self.config_dir / "master.cf"
        text = path.read_text()
        text = re.sub(r"^smtp(\s+)inet\b", f"{self.smtp_port}\\1inet", text,
                      count=1, flags=re.M)
        if edit:
            text = edit(text)
        path.write_text(text)

    def set_main_cf(self, **settings):
        """Adds or replaces main.cf settings through the installed postconf -e."""
        args = [SBIN / "postconf", "-c", self.config_dir, "-e"]
        args += [f"{k}={v}" for k, v in settings.items()]
        run(args)

    def edit_main_cf(self, **settings):
        """Adds or replaces main.cf settings directly (no postconf needed):
        an existing "name = ..." line and its continuation lines are replaced."""
        path = self.config_dir / "main.cf"
        lines = path.read_text().splitlines()
        for key, value in settings.items():
            kept, skipping = [], False
            for line in lines:
                if re.match(rf"{re.escape(key)}\s*=", line):
                    skipping = True
                    continue
                if skipping and line[:1] in (" ", "\t"):
                    continue
                skipping = False
                kept.append(line)
            lines = kept + [f"{key} = {value}"]
        path.write_text("\n".join(lines) + "\n")

    def edit_master_cf(self, edit):
        """Rewrites master.cf as edit(text) returns it."""
        path = self.config_dir / "master.cf"
        path.write_text(edit(path.read_text()))

    # commands -----------------------------------------------------------
    def command(self, name, *args, check=True, **kwargs):
        """Runs an installed command (sbin) with -c for this instance."""
        env = dict(os.environ, MAIL_CONFIG=str(self.config_dir))
        env.update(kwargs.pop("env", {}))
        return run([SBIN / name, *args], check=check, env=env, **kwargs)

    def postfix(self, *args, check=True):
        return self.command("postfix", "-c", self.config_dir, *args, check=check)

    def start(self, wait_port=True):
        self.postfix("start")
        wait_for(lambda: self.master_pid(), what="master.pid")
        if wait_port:
            wait_for(lambda: port_open(self.smtp_port), what=f"port {self.smtp_port}")
        return self

    def stop(self):
        if self.master_pid():
            self.postfix("stop", check=False)
            try:
                wait_for(lambda: not self.processes(), timeout=15, what="shutdown")
            except BaseException:
                self.kill_all()
                raise
        self.kill_all()

    def kill_all(self):
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def processes(self):
        return processes_with_config(self.config_dir)

    def daemon_pids(self, program):
        """PIDs of this instance's processes running the named program."""
        pids = []
        for pid in self.processes():
            try:
                argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if os.path.basename(argv0.decode(errors="replace")) == program:
                pids.append(pid)
        return pids

    def master_pid(self):
        try:
            pid = int((self.queue_dir / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if Path(f"/proc/{pid}").exists() else None

    # log ------------------------------------------------------------------
    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def mark_log(self):
        """Remembers the current end of the log; new_log() returns what follows."""
        self._log_offset = len(self.log())

    def new_log(self):
        return self.log()[self._log_offset:]

    def wait_log(self, pattern, timeout=10.0, since_mark=True):
        """Waits for a regex to appear in the log; returns the match."""
        regex = re.compile(pattern)

        def found():
            return regex.search(self.new_log() if since_mark else self.log())
        return wait_for(found, timeout=timeout, what=f"log line /{pattern}/")


def _instance_factory():
    created = []

    def factory(name, **kwargs):
        inst = Instance(name, **kwargs)
        created.append(inst)
        return inst

    def cleanup():
        for inst in created:
            inst.stop()
            shutil.rmtree(inst.root, ignore_errors=True)
    return factory, cleanup


@pytest.fixture(scope="module")
def module_instance_factory(install):
    """Like make_instance, but instances live for the whole test module.

    Start one instance per module and share it between tests that do not
    disturb each other: starting master costs more than most tests."""
    factory, cleanup = _instance_factory()
    yield factory
    cleanup()


@pytest.fixture
def make_instance(install):
    """Factory: make_instance(name, main_cf={...}, master_cf_edit=fn)."""
    factory, cleanup = _instance_factory()
    yield factory
    cleanup()
