"""A raw SMTP client for smtpd tests: exact bytes out, exact replies in.

smtplib hides what the server sent (it joins, strips and retries); these
tests need the reply lines as they came, the freedom to send malformed
input, and a choice of source address: connections from 127.0.0.1 are
strangers to the test instances (mynetworks = 127.0.0.2/32), connections
bound to 127.0.0.2 come from inside.
"""
import re
import socket
import threading
import time
from pathlib import Path

STRANGER = "127.0.0.1"
INSIDER = "127.0.0.2"


class SmtpClient:
    def __init__(self, port, source=STRANGER, timeout=20, greet=True, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.buffer = b""
        self.banner = self.reply() if greet else None

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buffer += chunk

    def line(self):
        """One reply line without its CR LF."""
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line.decode("latin-1")

    def reply(self):
        """One whole reply; lines of a multi-line reply joined with \\n."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return "\n".join(lines)

    def cmd(self, text):
        self.send(text.encode("latin-1") + b"\r\n" if isinstance(text, str) else text + b"\r\n")
        return self.reply()

    def ehlo(self, name="client.example.org"):
        return self.cmd(f"EHLO {name}")

    def at_eof(self, timeout=10):
        """True when the server closed the connection (after any pending bytes)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buffer += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def send_in_background(self, data):
        """Sends data from a thread, so the caller can read replies meanwhile."""
        def run():
            try:
                self.sock.sendall(data)
            except OSError:
                pass
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def message(client, sender, recipients, body, data_cmd="DATA"):
    """MAIL, RCPT..., DATA, body (bytes, already CR LF and dot-stuffed, with
    the final .CRLF); returns the reply to the end of data."""
    assert client.cmd(f"MAIL FROM:<{sender}>") == "250 2.1.0 Ok"
    for rcpt in recipients:
        assert client.cmd(f"RCPT TO:<{rcpt}>") == "250 2.1.5 Ok"
    assert client.cmd(data_cmd) == "354 End data with <CR><LF>.<CR><LF>"
    client.send(body)
    return client.reply()


def queue_id(reply):
    match = re.match(r"250 2\.0\.0 Ok: (?:\d+ bytes )?queued as ([0-9A-F]+)$", reply)
    assert match, reply
    return match.group(1)


def queue_files(inst, queue):
    root = Path(inst.queue_dir) / queue
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def rss_kib(pid):
    """Resident set size of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def wait_until(predicate, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def listeners(specs, free_port):
    """Extra smtpd listeners, one per name in specs ({name: {param: value}}).

    Values go to main.cf under private names and reach the listener through
    "-o param=$name" (master.cf values cannot hold spaces). Returns the
    ports by name, the main.cf settings and a master_cf_edit function."""
    ports, main_cf, lines = {}, {}, []
    for name, params in specs.items():
        ports[name] = free_port()
        options = []
        for param, value in params.items():
            var = f"t_{name}_{param}"
            main_cf[var] = value
            options.append(f"-o {param}=${var}")
        lines.append(f"127.0.0.1:{ports[name]} inet n - y - - smtpd {' '.join(options)}\n")
    return ports, main_cf, lambda text: text + "".join(lines)
