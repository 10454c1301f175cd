"""`rag serve` and `rag ui` check their port before loading anything: a port another program
listens on is refused in one line, and a port whose last server was just killed (its
connections in TIME_WAIT) is not, as the server itself could bind it."""

from __future__ import annotations

import socket

import pytest

from rag_app.cli.serve import _check_port
from rag_app.errors import RagError


def test_a_port_someone_listens_on_is_refused() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(RagError, match=f"cannot listen on 127.0.0.1:{port}"):
            _check_port("127.0.0.1", port, "RAG_API__PORT")


def test_a_port_just_left_by_a_killed_server_is_free() -> None:
    """The server's side closed first (as when it is killed): its end of the connection waits
    in TIME_WAIT for a minute, and a restart on the same port must not be refused for it."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the server closes first: its side goes to TIME_WAIT
    listener.close()
    client.recv(1)
    client.close()
    _check_port("127.0.0.1", port, "RAG_API__PORT")
