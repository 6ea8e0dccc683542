"""TLS and SASL test helpers: a throw-away PKI made with openssl, a real
`openssl s_client` driven line by line, Python TLS over a raw SmtpClient,
and a Dovecot authentication server started for the test.

The PKI comes from tests/unit/test_tls_certs.sh (the unit tests' maker, run
here into a scratch directory): ca.pem is the test CA, rsa.pem and ec.pem
are mx.example.com's key and certificate (chain_files order), client.pem a
client certificate signed by the CA, sni.pem alt.example.net's, *.fpr and
*.pkfpr their SHA-256 fingerprints, dh.pem DH parameters.
"""
import os
import shutil
import ssl
import subprocess
from pathlib import Path

from conftest import REPO, SCRATCH, wait_for

OPENSSL = "/usr/bin/openssl"
DOVECOT = "/usr/sbin/dovecot"
SERVER_NAME = "mx.example.com"


def make_pki(name):
    """Makes the test PKI in a scratch directory; returns its Path."""
    root = SCRATCH / f"pki-{name}-{os.getpid()}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    subprocess.run(["sh", str(REPO / "tests" / "unit" / "test_tls_certs.sh"), str(root)],
                   check=True, capture_output=True, timeout=120)
    return root


def fingerprint(pki, name, public_key=False):
    return (pki / f"{name}.{'pkfpr' if public_key else 'fpr'}").read_text().strip()


def client_context(pki=None, cert=None, version=None):
    """A Python TLS client context: verifying against the test CA when pki is given."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if pki:
        ctx.load_verify_locations(pki / "ca.pem")
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert)
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def starttls(client, ctx, server_name=SERVER_NAME):
    """Turns an SmtpClient that just got "220 2.0.0 Ready to start TLS" into TLS."""
    assert client.buffer == b"", client.buffer
    client.sock = ctx.wrap_socket(client.sock, server_hostname=server_name)
    return client.sock


class SClient:
    """openssl s_client, one command line at a time: cmd() returns the reply."""

    def __init__(self, port, pki, starttls=True, extra=()):
        args = [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile",
                str(pki / "ca.pem"), "-verify_return_error", "-verify_hostname", SERVER_NAME,
                "-quiet", "-crlf", *extra]
        if starttls:
            args += ["-starttls", "smtp"]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)

    def reply(self):
        lines = []
        while not lines or lines[-1][3:4] == "-":
            raw = self.proc.stdout.readline()
            if not raw:
                raise EOFError("s_client ended: " + self.proc.stderr.read().decode())
            lines.append(raw.decode("latin-1").rstrip("\r\n"))
        return "\n".join(lines)

    def send(self, text):
        self.proc.stdin.write(text.encode("latin-1") + b"\n")
        self.proc.stdin.flush()

    def cmd(self, text):
        self.send(text)
        return self.reply()

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.stderr.read().decode()


def s_client_once(port, pki, extra=(), starttls=True):
    """A whole s_client run: NOOP (its reply proves the session works and lets
    TLS 1.3 tickets arrive), then QUIT. Returns (returncode, stdout+stderr)."""
    args = [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile",
            str(pki / "ca.pem"), "-crlf", *extra]
    if starttls:
        args += ["-starttls", "smtp"]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdin.write(b"NOOP\n")
    proc.stdin.flush()
    seen = []
    for raw in proc.stdout:
        seen.append(raw)
        if raw.startswith(b"250 "):
            break
    try:
        proc.stdin.write(b"QUIT\n")
        proc.stdin.close()
    except BrokenPipeError:
        pass
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.wait(timeout=30)
    return proc.returncode, (b"".join(seen) + out + err).decode("latin-1")


class Dovecot:
    """A Dovecot authentication server (auth only) with a passwd-file of
    test users; its client socket is `socket_path` (give a path inside the
    Postern queue directory so the chrooted smtpd reaches it)."""

    def __init__(self, name, socket_path, users, socket_owner):
        self.root = SCRATCH / f"dovecot-{name}-{os.getpid()}"
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        os.chmod(self.root, 0o755)
        self.socket_path = Path(socket_path)
        (self.root / "users").write_text(
            "".join(f"{user}:{{PLAIN}}{password}\n" for user, password in users.items()))
        os.chmod(self.root / "users", 0o644)
        self.conf = self.root / "dovecot.conf"
        self.conf.write_text(f"""base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = none
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}}
service auth {{
  unix_listener {self.socket_path} {{
    mode = 0600
    user = {socket_owner}
  }}
}}
""")
        self.proc = None

    def start(self):
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.socket_path.is_socket(), timeout=20, what="Dovecot auth socket")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def read_within(sock, seconds):
    """What arrives on a (TLS) socket within `seconds`: bytes (b"" at EOF),
    or None when nothing came."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1000)
    except TimeoutError:
        return None
