"""Raw HTTP/1.1 over loopback for what no real server writes: exact chunks, cut bodies, stalls.

``RawServer`` owns the listening socket and the accept loop; a subclass says how to answer one
connection (``handle``). ``read_request`` reads one request whole, head and body.
"""

from __future__ import annotations

import socket
import threading


class RawServer:
    """Listens on a free loopback port; each connection goes to ``handle`` (in a thread of its
    own when ``threaded``) and is closed after it. ``ignore_os_errors``: a client that leaves
    early is fine, not an error of the test server."""

    threaded = False
    ignore_os_errors = True

    def __init__(self, backlog: int = 64) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def start(self) -> None:
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self.sock.close()

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.threaded:
                threading.Thread(target=self._connection, args=(conn,), daemon=True).start()
            else:
                self._connection(conn)

    def _connection(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.handle(conn)
            except OSError:
                if not self.ignore_os_errors:
                    raise


def read_request(conn: socket.socket) -> tuple[bytes, bytes] | None:
    """(head, body) of one request, the body as long as its content-length; None if the client
    closed before its head was complete."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next((line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), b"0"))
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body
