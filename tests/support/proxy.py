"""A TCP proxy on loopback that can stop forwarding while keeping every connection open: a
database that hangs (a stuck server, a network dropping packets) rather than refusing."""

from __future__ import annotations

import contextlib
import select
import socket
import threading

from tests.support.servers import free_port


class StallingProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.port = free_port()
        self._forwarding = threading.Event()
        self._forwarding.set()
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        """Stop forwarding: connections stay open (new ones are accepted), nothing passes."""
        self._forwarding.clear()

    def resume(self) -> None:
        self._forwarding.set()

    def close(self) -> None:
        self._stopped.set()
        self._forwarding.set()
        self._listener.close()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        self._sockets.append(client)
        # A stalled proxy accepts the connection but never reaches the server.
        self._forwarding.wait()
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        self._sockets.append(server)
        threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
        self._pump(server, client)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while not self._stopped.is_set():
                self._forwarding.wait()
                readable, _, _ = select.select([source], [], [], 0.1)
                if not readable or not self._forwarding.is_set():
                    continue
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
