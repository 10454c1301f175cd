"""Security basics: `rag ui` listens on 127.0.0.1 only, by default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli import RAG
from tests.support.servers import free_port, running


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_ui_listens_on_loopback_only_by_default(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_DATA_DIR"] = str(tmp_path / "data")
    health = f"http://127.0.0.1:{port}/_stcore/health"
    with running([RAG, "ui", "--port", str(port)], health, tmp_path / "ui.log", env=env):
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
