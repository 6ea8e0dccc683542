"""A scripted SMTP/LMTP server for client tests: replies as told, records
what the client sent (commands, message data, write batches)."""
import socket
import threading
import time


class Hangup(bytes):
    """A reply after which the server closes the connection."""


DEFAULT_EHLO = ["PIPELINING", "SIZE 10240000", "8BITMIME", "DSN", "SMTPUTF8",
                "ENHANCEDSTATUSCODES"]


class Session:
    def __init__(self):
        self.commands = []
        self.batches = []          # commands that arrived before we answered
        self.messages = []


class FakeSMTP(threading.Thread):
    """replies: dict "MAIL"/"RCPT"/"DATA"/"DOT"/"RSET" (or any other verb, such
    as "STARTTLS" or "AUTH") -> reply bytes or a callable (command line -> reply
    bytes); a Hangup(reply) is sent and then the server hangs up; greeting and
    ehlo configurable; lmtp answers one reply per accepted recipient after the
    message."""

    def __init__(self, host="127.0.0.1", port=0, greeting=b"220 fake ESMTP\r\n",
                 ehlo=None, replies=None, lmtp=False):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.greeting = greeting
        self.ehlo = DEFAULT_EHLO if ehlo is None else ehlo
        self.replies = replies or {}
        self.lmtp = lmtp
        self.sessions = []
        self.connections = 0
        self.start()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def reply_for(self, verb, line, default):
        value = self.replies.get(verb, default)
        return value(line) if callable(value) else value

    def serve(self, conn):
        session = Session()
        self.sessions.append(session)
        conn.settimeout(30)
        buf = b""
        rcpts = 0
        try:
            conn.sendall(self.greeting)
            if not self.greeting.startswith(b"2"):
                return
            while True:
                while b"\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                batch = []
                out = b""
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    line = line.rstrip(b"\r").decode(errors="replace")
                    session.commands.append(line)
                    batch.append(line)
                    verb = line.split(" ")[0].split(":")[0].upper()
                    if verb in ("EHLO", "LHLO"):
                        lines = ["fake"] + self.ehlo
                        out += b"".join(("250-%s\r\n" % l).encode() for l in lines[:-1])
                        out += ("250 %s\r\n" % lines[-1]).encode()
                        out = self.reply_for(verb, line, out)
                    elif verb == "HELO":
                        out += self.reply_for(verb, line, b"250 fake\r\n")
                    elif verb == "MAIL":
                        rcpts = 0
                        out += self.reply_for(verb, line, b"250 2.1.0 Ok\r\n")
                    elif verb == "RCPT":
                        reply = self.reply_for(verb, line, b"250 2.1.5 Ok\r\n")
                        rcpts += reply.startswith(b"2")
                        out += reply
                    elif verb == "DATA":
                        reply = self.reply_for(verb, line, b"354 go ahead\r\n")
                        out += reply
                        if reply.startswith(b"354"):
                            conn.sendall(out)
                            out = b""
                            session.batches.append(batch)
                            batch = []
                            while b"\r\n.\r\n" not in buf and not buf.startswith(b".\r\n"):
                                chunk = conn.recv(65536)
                                if not chunk:
                                    return
                                buf += chunk
                            if buf.startswith(b".\r\n"):
                                data, buf = b"", buf[3:]
                            else:
                                data, buf = buf.split(b"\r\n.\r\n", 1)
                                data += b"\r\n"
                            session.messages.append(data)
                            dot = self.reply_for("DOT", "", b"250 2.0.0 Ok: queued as FAKE1\r\n")
                            out += dot * (rcpts if self.lmtp else 1)
                    elif verb == "RSET":
                        out += self.reply_for(verb, line, b"250 2.0.0 Ok\r\n")
                    elif verb == "QUIT":
                        conn.sendall(out + b"221 2.0.0 Bye\r\n")
                        return
                    else:
                        reply = self.reply_for(verb, line,
                                               b"502 5.5.2 Error: command not recognized\r\n")
                        out += reply
                        if isinstance(reply, Hangup):
                            conn.sendall(out)
                            return
                if batch:
                    session.batches.append(batch)
                if out:
                    conn.sendall(out)
        except OSError:
            return
        finally:
            conn.close()

    def wait_messages(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(len(s.messages) for s in self.sessions) >= count:
                return
            time.sleep(0.02)
        raise AssertionError("fake server: messages did not arrive")
