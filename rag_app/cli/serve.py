"""`rag doctor`, `rag serve` and `rag ui`: the models in use, the HTTP API, the web UI."""

from __future__ import annotations

import os
import socket
import sys
from typing import Annotated

import typer

from rag_app.cli.console import err, out
from rag_app.cli.context import (
    State,
    service_of,
    settings_of,
)
from rag_app.errors import RagError


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Load the models once and report what is in use: files, sizes, devices, GPU offload."""
    service = service_of()
    report = service.describe()
    report["documents"] = len(service.documents())
    if as_json:
        out.print_json(data=report)
        return
    for key, value in report.items():
        out.print(f"{key:<24} {value}", markup=False)


def serve(
    port: Annotated[int | None, typer.Option(help="Port (also RAG_API__PORT).")] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (also RAG_API__HOST).")
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAI-compatible chat, documents, ask) on 127.0.0.1 unless told
    otherwise; docs at /docs."""
    import uvicorn

    from rag_app.api.app import check_bind, create_app

    settings = settings_of(knowledge_base=False)
    address, number = host or settings.api.host, port or settings.api.port
    check_bind(address, settings.api.keys)
    _check_port(address, number, "RAG_API__PORT")
    err.print(f"rag-app API on http://{address}:{number} (docs: /docs)")
    uvicorn.run(create_app(settings), host=address, port=number, log_level="warning")


def _check_port(address: str, number: int, setting: str) -> None:
    with socket.socket() as probe:
        # As the servers bind (uvicorn, tornado): a port whose last server was just killed,
        # its connections still in TIME_WAIT, is free; one another program listens on is not.
        if os.name == "posix":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, number))
        except OSError as exc:
            raise RagError(
                f"cannot listen on {address}:{number} ({exc.strerror}); another app may use the "
                f"port: pass --port or set {setting}"
            ) from None


def ui(
    port: Annotated[int | None, typer.Option(help="Port (also RAG_UI__PORT).")] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (also RAG_UI__HOST).")
    ] = None,
) -> None:
    """Start the web UI (Streamlit) on 127.0.0.1 unless told otherwise."""
    from importlib.util import find_spec

    service = service_of()
    settings = service.settings.ui
    spec = find_spec("ui.app")
    if spec is None or spec.origin is None:
        raise RagError("the UI package is not installed; reinstall rag-app (make install)")
    address, number = host or settings.host, port or settings.port
    _check_port(address, number, "RAG_UI__PORT")
    if address not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"note: listening on {address}: other machines on the network can reach the UI")
    env = dict(os.environ)
    if State.data_dir is not None:
        env["RAG_DATA_DIR"] = str(State.data_dir)
    if State.config is not None:
        env["RAG_CONFIG"] = str(State.config)
    command = [
        sys.executable, "-m", "streamlit", "run", spec.origin,
        "--server.address", address,
        "--server.port", str(number),
        "--server.headless", "true",
        "--server.maxUploadSize", str(settings.max_upload_mb),
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "none",
        "--client.toolbarMode", "minimal",
    ]  # fmt: skip
    err.print(f"rag-app UI on http://{address}:{number}")
    sys.stderr.flush()
    # Become the server (no child left behind when this process is stopped).
    os.execve(sys.executable, command, env)
