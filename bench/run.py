#!/usr/bin/env python3
"""make bench: Postern against Debian's Postfix, side by side, same parameters.

Scenarios (each run for both MTAs, alternating A B A B, --rounds times):
  relay       smtp-source -s 20 -m N -l 4096 into smtpd; relayhost = smtp-sink
  local       the same load to one local user's Maildir
  submission  M sendmail invocations from 4 parallel shells, relayed to smtp-sink

Per run: accepted msg/s (the client's time), end-to-end msg/s (until the
last message reached the sink or the Maildir), peak memory of all the MTA's
processes (sum of PSS, sampled every 0.1 s), CPU seconds per 1,000 messages
(master plus its reaped and live children). Every accepted message must
arrive: a missing one fails the benchmark.

The table goes to standard output and bench/results.md. Instances live in
bench/work/ and never touch the test instances or the system's Postfix.
"""
import argparse
import datetime
import os
import platform
import pwd
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "work"
POSTERN_PREFIX = WORK / "postern-prefix"
BENCH_USER = "benchuser"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def run(args, **kwargs):
    kwargs.setdefault("check", True)
    return subprocess.run([str(a) for a in args], **kwargs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            sys.exit(f"bench: timed out waiting for {what}")
        time.sleep(0.05)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# Processes -------------------------------------------------------------------

def instance_pids(config_dir):
    marker = f"MAIL_CONFIG={config_dir}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid, with_children):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    ticks = int(fields[11]) + int(fields[12])           # utime, stime
    if with_children:
        ticks += int(fields[13]) + int(fields[14])      # cutime, cstime
    return ticks


class Monitor(threading.Thread):
    """Samples the instance's total PSS until stopped; keeps the peak."""

    def __init__(self, config_dir):
        super().__init__(daemon=True)
        self.config_dir = config_dir
        self.peak_kib = 0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            total = sum(pss_kib(p) for p in instance_pids(self.config_dir))
            self.peak_kib = max(self.peak_kib, total)
            time.sleep(0.1)

    def stop(self):
        self.stopping.set()
        self.join()


# MTA instances ---------------------------------------------------------------

class Mta:
    """One MTA instance under WORK/<label>, started with its postfix command."""

    def __init__(self, label, postfix_cmd, master_cf_source, params):
        self.label = label
        self.root = WORK / label
        self.config_dir = self.root / "etc"
        self.postfix_cmd = postfix_cmd
        self.smtp_port = free_port()
        shutil.rmtree(self.root, ignore_errors=True)
        self.config_dir.mkdir(parents=True)
        (self.root / "spool").mkdir()
        (self.root / "data").mkdir()
        owner = pwd.getpwnam("postfix")
        os.chown(self.root / "data", owner.pw_uid, owner.pw_gid)
        master_cf = Path(master_cf_source).read_text()
        master_cf = master_cf.replace("\nsmtp      inet", f"\n{self.smtp_port}      inet", 1)
        (self.config_dir / "master.cf").write_text(master_cf)
        settings = {
            "queue_directory": self.root / "spool",
            "data_directory": self.root / "data",
            "myhostname": "bench.example.test",
            "mydomain": "example.test",
            "inet_interfaces": "127.0.0.1",
            "mynetworks": "127.0.0.0/8",
            "alias_maps": "",
            "alias_database": "",
            "compatibility_level": "3.6",
        }
        settings.update(params)
        (self.config_dir / "main.cf").write_text(
            "".join(f"{k} = {v}\n" for k, v in settings.items()))

    def postfix(self, *args):
        env = dict(os.environ, MAIL_CONFIG=str(self.config_dir))
        return run([self.postfix_cmd, "-c", self.config_dir, *args], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self):
        self.postfix("start")
        wait_for(lambda: port_open(self.smtp_port), 30, f"{self.label} smtpd")

    def stop(self):
        self.postfix("stop")
        wait_for(lambda: not instance_pids(self.config_dir), 30, f"{self.label} stop")

    def master_pid(self):
        text = (self.root / "spool" / "pid" / "master.pid").read_text()
        return int(text.split()[0])

    def cpu_ticks(self):
        master = self.master_pid()
        total = cpu_ticks(master, True)
        for pid in instance_pids(self.config_dir):
            if pid != master:
                total += cpu_ticks(pid, False)
        return total


def postern(label, params):
    return Mta(f"postern-{label}", POSTERN_PREFIX / "sbin" / "postfix",
               POSTERN_PREFIX / "etc" / "postfix" / "master.cf",
               dict(params, maillog_file=WORK / f"postern-{label}" / "maillog",
                    maillog_file_prefixes=WORK))


def debian_postfix(label, params):
    return Mta(f"postfix-{label}", "/usr/sbin/postfix", "/usr/share/postfix/master.cf.dist",
               dict(params, maillog_file=f"/var/log/bench-postfix-{label}.log"))


# Scenarios -------------------------------------------------------------------

class Sink:
    """smtp-sink that exits after receiving `count` messages."""

    def __init__(self, count):
        self.port = free_port()
        self.proc = subprocess.Popen(["smtp-sink", "-u", "nobody", "-c", "-M", str(count),
                                      f"127.0.0.1:{self.port}", "1000"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(lambda: port_open(self.port), 10, "smtp-sink")

    def wait(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            sys.exit("bench: FAIL: the sink did not receive every accepted message")
        return time.monotonic()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def maildir_count(path):
    try:
        return len(os.listdir(path))
    except FileNotFoundError:
        return 0


def smtp_source(port, count, recipient):
    run(["smtp-source", "-s", "20", "-m", count, "-l", "4096", "-f", "sender@example.org",
         "-t", recipient, f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL)


def submit_with_sendmail(mta, count, recipient):
    """count sendmail invocations from 4 parallel shells."""
    sendmail = Path(mta.postfix_cmd).parent / "sendmail"
    message = WORK / "submission.eml"
    message.write_text("Subject: bench\n\n" + "x" * 4000 + "\n")
    script = (f'i=0; while [ $i -lt {count // 4} ]; do "{sendmail}" -f sender@example.org '
              f'{recipient} < "{message}" || exit 1; i=$((i+1)); done')
    env = dict(os.environ, MAIL_CONFIG=str(mta.config_dir))
    shells = [subprocess.Popen(["sh", "-c", script], env=env) for _ in range(4)]
    if any(shell.wait() != 0 for shell in shells):
        sys.exit("bench: FAIL: a sendmail invocation failed")


def prepare_home(home):
    """The bench user, with a fresh home (and so an empty Maildir)."""
    try:
        pwd.getpwnam(BENCH_USER)
    except KeyError:
        run(["useradd", "-M", "-d", home, "-s", "/usr/sbin/nologin", BENCH_USER])
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    entry = pwd.getpwnam(BENCH_USER)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    run(["usermod", "-d", home, BENCH_USER])


def bench_one(which, scenario, count):
    """Runs one scenario once on one MTA; returns its figures."""
    factory = postern if which == "postern" else debian_postfix
    home = WORK / "home" / f"{which}-{scenario}"
    maildir = home / "Maildir" / "new"
    sink = None
    prepare_home(home)
    if scenario == "local":
        mta = factory(scenario, {"home_mailbox": "Maildir/",
                                 "mydestination": "localhost, $myhostname"})
        recipient = f"{BENCH_USER}@localhost"
    else:
        sink = Sink(count)
        mta = factory(scenario, {"relayhost": f"[127.0.0.1]:{sink.port}"})
        recipient = f"{BENCH_USER}@remote.example"
    try:
        mta.start()
        monitor = Monitor(mta.config_dir)
        monitor.start()
        cpu_before = mta.cpu_ticks()
        start = time.monotonic()
        if scenario == "submission":
            submit_with_sendmail(mta, count, recipient)
        else:
            smtp_source(mta.smtp_port, count, recipient)
        accepted = time.monotonic()
        if sink:
            done = sink.wait(900)
        else:
            wait_for(lambda: maildir_count(maildir) >= count, 900, "Maildir deliveries")
            done = time.monotonic()
        cpu_after = mta.cpu_ticks()
        monitor.stop()
    finally:
        mta.stop()
        if sink:
            sink.stop()
    if not sink and maildir_count(maildir) != count:
        sys.exit(f"bench: FAIL: {maildir_count(maildir)} messages in the Maildir, not {count}")
    return {
        "accepted": count / (accepted - start),
        "end_to_end": count / (done - start),
        "peak_mib": monitor.peak_kib / 1024,
        "cpu_per_1000": (cpu_after - cpu_before) / CLOCK_TICKS / count * 1000,
    }


# Report ----------------------------------------------------------------------

METRICS = [("accepted", "accepted msg/s", "{:.0f}"), ("end_to_end", "end-to-end msg/s", "{:.0f}"),
           ("peak_mib", "peak memory MiB (PSS)", "{:.1f}"),
           ("cpu_per_1000", "CPU s / 1000 msgs", "{:.2f}")]


# bench/results.md keeps what follows this heading (the record of the
# performance work, written by hand) when the tables are regenerated.
NOTES_HEADING = "## Performance work"


def machine_description():
    cpu = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(open("/proc/meminfo").readline().split()[1])
    postfix_version = run(["/usr/sbin/postconf", "-d", "-h", "mail_version"],
                          capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} x {cpu}, {mem_kib // 1024 // 1024} GiB, "
            f"Linux {platform.release()}, Debian Postfix {postfix_version}")


def report(results, args, mtas):
    lines = ["# Benchmark results\n",
             f"Date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}  ",
             f"Machine: {machine_description()}  ",
             f"Command: `make bench` (bench/run.py --rounds {args.rounds} "
             f"--messages {args.messages} --submissions {args.submissions})\n",
             "Loads: relay and local: `smtp-source -s 20 -m N -l 4096`; relay to "
             "`smtp-sink -M N`; submission: N `sendmail` invocations from 4 shells, "
             "relayed to smtp-sink. Medians of the rounds, MTAs alternating A B A B.\n"]
    for scenario in args.scenarios:
        lines.append(f"## {scenario}\n")
        header = "| metric | " + " | ".join(mtas)
        header += " | Postern / Postfix |" if len(mtas) == 2 else " |"
        lines.append(header)
        lines.append("|---" * (len(mtas) + 1 + (len(mtas) == 2)) + "|")
        for key, title, fmt in METRICS:
            medians = [statistics.median(r[key] for r in results[(m, scenario)]) for m in mtas]
            row = f"| {title} | " + " | ".join(fmt.format(v) for v in medians)
            if len(mtas) == 2:
                row += f" | {medians[0] / medians[1]:.2f} |" if medians[1] else " | - |"
            else:
                row += " |"
            lines.append(row)
        lines.append("")
    text = "\n".join(lines)
    print(text)
    results = REPO / "bench" / "results.md"
    kept = results.read_text().partition(NOTES_HEADING)[2] if results.exists() else ""
    results.write_text(text + ("\n" + NOTES_HEADING + kept if kept else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--scenarios", default="relay,local,submission")
    parser.add_argument("--mta", default="postern,postfix")
    args = parser.parse_args()
    args.scenarios = args.scenarios.split(",")
    mtas = args.mta.split(",")
    if os.geteuid() != 0:
        sys.exit("bench: run as root (instances chroot and change users)")
    WORK.mkdir(parents=True, exist_ok=True)
    if "postern" in mtas:
        run(["make", "-s", "-C", REPO, f"BUILD={REPO}/build/bench", f"PREFIX={POSTERN_PREFIX}",
             "install"], stdout=subprocess.DEVNULL)
    results = {}
    for scenario in args.scenarios:
        count = args.submissions if scenario == "submission" else args.messages
        for round_no in range(args.rounds):
            for which in mtas:
                figures = bench_one(which, scenario, count)
                results.setdefault((which, scenario), []).append(figures)
                print(f"bench: {scenario} round {round_no + 1} {which}: "
                      + ", ".join(f"{k}={v:.2f}" for k, v in figures.items()), flush=True)
    report(results, args, mtas)


if __name__ == "__main__":
    main()
