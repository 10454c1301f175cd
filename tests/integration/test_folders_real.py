"""A knowledge base following a folder with the bundled embedder: link, sync, a rename and a
file gone and back (nothing embedded again), then `rag sync --watch` as a real process taking
a file dropped into the folder, and stopping cleanly when asked to."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from rag_app.folders import FolderSync, link_folder
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support.cli import RAG, rag
from tests.support.embeddings import Counting

NOTES = {
    "photosynthesis.md": "# Photosynthesis\n\nChloroplasts turn sunlight, water and carbon "
    "dioxide into glucose and oxygen.\n",
    "mitochondria.md": "# Mitochondria\n\nMitochondria release the energy stored in glucose "
    "as ATP during cellular respiration.\n",
    "celula.md": "# La célula\n\nEl núcleo guarda el ADN de la célula eucariota.\n",
}
WATCH_START_S = 120  # the process loads the embedder and Chroma first
WATCH_PICKUP_S = 60


def test_a_folder_followed_with_the_real_embedder(
    settings: Settings, real_models: tuple[Embeddings, object], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    counting = Counting(real_models[0])
    service = RagService(settings, embeddings=counting)
    link_folder(settings, notes)
    assert sorted(FolderSync(service).run().added) == sorted(NOTES)
    counting.embedded = 0

    (notes / "photosynthesis.md").rename(notes / "plants.md")
    assert FolderSync(service).run().renamed == [("photosynthesis.md", "plants.md")]
    top = service.retrieve("How do plants turn sunlight into glucose?", k=1)
    assert top[0].source == "plants.md"

    kept = (notes / "mitochondria.md").read_bytes()
    (notes / "mitochondria.md").unlink()
    assert FolderSync(service).run().missing == ["mitochondria.md"]
    found = service.retrieve("What releases energy as ATP?", k=5)
    assert "mitochondria.md" not in {s.source for s in found}
    (notes / "mitochondria.md").write_bytes(kept)
    assert FolderSync(service).run().restored == ["mitochondria.md"]
    assert service.retrieve("What releases energy as ATP?", k=1)[0].source == "mitochondria.md"
    assert counting.embedded == 0  # a rename and a return cost no embedding

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_DATA_DIR=str(settings.data_dir), RAG_INGEST__SYNC_SETTLE_S="0.2")
    watcher = subprocess.Popen(
        [RAG, "sync", "--watch", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue[dict[str, Any]] = queue.Queue()

    def read() -> None:  # one JSON object per line, as the watcher prints them
        for line in watcher.stdout or []:
            lines.put(json.loads(line))

    threading.Thread(target=read, daemon=True).start()
    try:
        first = lines.get(timeout=WATCH_START_S)  # the catch-up sync: nothing new
        assert first["knowledge_base"] == "default" and not first["added"], first
        (notes / "nucleo.md").write_text(
            "# El núcleo\n\nLa membrana nuclear separa el núcleo del citoplasma.\n",
            encoding="utf-8",
        )
        dropped = time.monotonic()
        while "nucleo.md" not in (line := lines.get(timeout=WATCH_PICKUP_S)).get("added", []):
            assert time.monotonic() - dropped < WATCH_PICKUP_S, line
        watcher.send_signal(signal.SIGTERM)
        _, stderr = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert watcher.returncode == 0, stderr
    assert "Traceback" not in stderr and stderr.rstrip().splitlines()[-1].startswith("Stopped.")

    listed = rag("docs", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "nucleo.md" in {d["source"] for d in json.loads(listed.stdout)}
