"""A policy server for smtpd tests, speaking Postfix's policy delegation
protocol (name=value lines, an empty line, "action=..." back)."""
import socket
import threading


class PolicyServer:
    """Answers each request by sender: a scripted action, else DUNNO."""

    def __init__(self, actions):
        self.actions = actions
        self.requests = []
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        reader = conn.makefile("rb")
        request = {}
        for raw in reader:
            line = raw.decode().rstrip("\n")
            if line:
                name, _, value = line.partition("=")
                request[name] = value
                continue
            self.requests.append(request)
            action = self.actions.get(request.get("sender"), "DUNNO")
            conn.sendall(f"action={action}\n\n".encode())
            request = {}
        conn.close()
