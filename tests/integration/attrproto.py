"""The inter-process framing (docs/protocols.md), for tests that talk to daemons.

Written from the documentation, not the C code, so a test also checks that
the two agree. A frame is name=LENGTH:VALUE\\n lines and a terminating \\n.
"""
import socket


def encode(pairs):
    """Bytes of one frame from (name, value) pairs; values may be str, bytes or int."""
    out = bytearray()
    for name, value in pairs:
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str):
            value = value.encode()
        out += name.encode() + b"=" + str(len(value)).encode() + b":" + value + b"\n"
    return bytes(out) + b"\n"


class Channel:
    """A connected UNIX stream socket speaking the framing."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buffer = b""

    def close(self):
        self.sock.close()

    def send(self, pairs):
        self.sock.sendall(encode(pairs))

    def send_raw(self, data):
        self.sock.sendall(data)

    def _read(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed inside a frame")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _read_until(self, byte):
        while byte not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed inside a frame")
            self.buffer += chunk
        index = self.buffer.index(byte)
        data, self.buffer = self.buffer[:index], self.buffer[index + 1:]
        return data

    def receive(self):
        """One frame as a dict of name -> str (bytes when not UTF-8)."""
        frame = {}
        while True:
            first = self._read(1)
            if first == b"\n":
                return frame
            name = (first + self._read_until(b"=")).decode()
            length = int(self._read_until(b":"))
            value = self._read(length)
            if self._read(1) != b"\n":
                raise ValueError(f"attribute {name}: no newline after the value")
            try:
                frame[name] = value.decode()
            except UnicodeDecodeError:
                frame[name] = value
