"""Real peers for the smtp client tests: a test CA made with openssl, Debian's
Postfix as a second instance (own directories, own ports), Dovecot's
authentication server behind it, and dnsmasq naming the peers.

Nothing here touches the system's Postfix or Dovecot: every program runs
with its own configuration under SCRATCH and is stopped by the fixture that
started it.
"""
import os
import random
import shutil
import subprocess
import time

from conftest import SCRATCH, free_port, port_open, run, wait_for

POSTFIX = "/usr/sbin/postfix"
POSTMAP = "/usr/sbin/postmap"
DOVECOT = "/usr/sbin/dovecot"
DNSMASQ = "/usr/sbin/dnsmasq"


def openssl(*args, cwd):
    run(["openssl", *args], cwd=cwd)


class CertAuthority:
    """A throw-away CA and certificates it signs (EC P-256 keys)."""

    def __init__(self, directory, name="Postern Test CA"):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prefix = name.replace(" ", "-").lower()
        self.key = self.dir / f"{self.prefix}.key"
        self.cert = self.dir / f"{self.prefix}.pem"
        openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", self.key,
                "-out", self.cert, "-days", "2", "-subj", f"/CN={name}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)

    def issue(self, label, common_name, sans=(), usage="serverAuth"):
        """(key path, certificate path) for a new certificate."""
        key, csr, cert = (self.dir / f"{label}.{ext}" for ext in ("key", "csr", "pem"))
        ext = self.dir / f"{label}.ext"
        lines = [f"extendedKeyUsage={usage}"]
        if sans:
            lines.append("subjectAltName=" + ",".join(sans))
        ext.write_text("\n".join(lines) + "\n")
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={common_name}",
                cwd=self.dir)
        openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext, cwd=self.dir)
        for path in (key, cert):
            os.chmod(path, 0o644)
        return key, cert


def loopback_address():
    return "127.%d.%d.%d" % (random.randrange(1, 255), random.randrange(0, 255),
                             random.randrange(1, 255))


class Dnsmasq:
    """dnsmasq on a random loopback address: host records and MX records."""

    def __init__(self, hosts=(), mx=()):
        self.address = loopback_address()
        args = [DNSMASQ, "-k", "--conf-file=/dev/null", f"--listen-address={self.address}",
                "--bind-interfaces", "--port=53", "--no-resolv", "--no-hosts", "--pid-file",
                "--user=nobody", "--group=nogroup", "--local=/test/"]
        args += [f"--host-record={name},{addr}" for name, addr in hosts]
        args += [f"--mx-host={domain},{host},{pref}" for domain, host, pref in mx]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def point(self, inst):
        """Makes the instance's chrooted daemons use this server."""
        (inst.queue_dir / "etc" / "resolv.conf").write_text(
            f"nameserver {self.address}\noptions timeout:2 attempts:2\n")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


DEBIAN_MAIN_CF = """compatibility_level = 3.6
queue_directory = {root}/spool
data_directory = {root}/data
maillog_file = {log}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = recv.example.test
mydestination =
mynetworks = 127.0.0.2/32
alias_maps =
alias_database =
virtual_mailbox_domains = recv.example.test
virtual_mailbox_base = {root}/vmail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_tls_loglevel = 1
"""


class DebianPostfix:
    """Debian's Postfix 3.7 as a receiving server, with extra smtpd listeners.

    listeners: {label: "-o name=value ..." overrides}; each gets its own port
    (self.ports[label]). Mail for recv.example.test lands in vmail/box."""

    def __init__(self, name, main_cf="", listeners=None):
        self.root = SCRATCH / f"debian-{name}-{os.getpid()}"
        shutil.rmtree(self.root, ignore_errors=True)
        for sub in ("etc", "spool", "data", "vmail"):
            (self.root / sub).mkdir(parents=True)
        os.chmod(self.root, 0o755)
        shutil.chown(self.root / "data", "postfix")
        os.chmod(self.root / "vmail", 0o1777)
        self.log_path = f"/var/log/postern-{name}-{os.getpid()}.log"
        self.ports = {label: free_port() for label in (listeners or {})}
        master = open("/usr/share/postfix/master.cf.dist").read()
        master = master.replace("\nsmtp      inet", "\n#smtp      inet", 1)
        for label, overrides in (listeners or {}).items():
            master += (f"127.0.0.1:{self.ports[label]} inet n - y - - smtpd\n"
                       f"  -o syslog_name=postfix-{label} {overrides}\n")
        self.config = self.root / "etc"
        (self.config / "master.cf").write_text(master)
        (self.config / "main.cf").write_text(
            DEBIAN_MAIN_CF.format(root=self.root, log=self.log_path) + main_cf)

    def postmap(self, *args):
        run([POSTMAP, "-c", self.config, *args])

    def start(self):
        run([POSTFIX, "-c", self.config, "start"])
        for port in self.ports.values():
            wait_for(lambda p=port: port_open(p), timeout=30, what="Debian Postfix smtpd")
        return self

    def stop(self):
        subprocess.run([POSTFIX, "-c", self.config, "stop"], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
        if os.path.exists(self.log_path):
            os.unlink(self.log_path)

    def log(self):
        try:
            return open(self.log_path, errors="replace").read()
        except FileNotFoundError:
            return ""

    def wait_log(self, text, timeout=20):
        return wait_for(lambda: text in self.log(), timeout=timeout,
                        what=f"Debian Postfix log: {text}")

    def messages(self):
        new = self.root / "vmail" / "box" / "new"
        return [p.read_text(errors="replace") for p in new.iterdir()] if new.exists() else []

    def wait_message(self, marker, timeout=30):
        def found():
            return [m for m in self.messages() if marker in m]
        return wait_for(found, timeout=timeout, what=f"message {marker} in Debian's vmail")[0]


DOVECOT_AUTH_CONF = """base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = none
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}}
service auth {{
  unix_listener {socket} {{
    mode = 0666
  }}
}}
"""


class DovecotAuth:
    """Dovecot's authentication server with a passwd-file of test users,
    listening on `socket` (a path inside a Postfix queue directory)."""

    def __init__(self, name, socket, users):
        self.root = SCRATCH / f"dovecot-{name}-{os.getpid()}"
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        os.chmod(self.root, 0o755)
        self.socket = socket
        (self.root / "users").write_text(
            "".join(f"{user}:{{PLAIN}}{password}\n" for user, password in users.items()))
        (self.root / "dovecot.conf").write_text(DOVECOT_AUTH_CONF.format(root=self.root,
                                                                         socket=socket))
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: os.path.exists(socket) or self.proc.poll() is not None,
                 what="dovecot auth socket")
        assert self.proc.poll() is None, self.proc.stderr.read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)
