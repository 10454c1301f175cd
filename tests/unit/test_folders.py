"""Knowledge bases that follow a folder: link, sync (new, changed, renamed, gone, back, half
written, unreadable), what a sync never touches, and `rag kb link` / `rag sync`; real files
in a temp folder, real Chroma, the bag-of-words embedder (counting what it embeds)."""

from __future__ import annotations

import json
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag_app.cli import app as cli_app
from rag_app.errors import RagError
from rag_app.folders import FolderSync, folder_link, link_folder, unlink_folder
from rag_app.folders.scan import is_remote, mount_fstype, needs_polling
from rag_app.folders.watch import relevant, watch
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.support.bad_pdfs import truncated
from tests.support.embeddings import BagOfWordsEmbeddings

NOTES = {
    "photosynthesis.md": "# Photosynthesis\n\nChloroplasts turn sunlight into sugar.\n",
    "cells/mitochondria.md": "# Mitochondria\n\nMitochondria release energy from glucose.\n",
    "cells/ribosomes.txt": "Ribosomes assemble proteins from amino acids.\n",
}


class Counting(BagOfWordsEmbeddings):
    """The bag-of-words embedder, counting the passages it is asked to embed."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += texts
        return super().embed_documents(texts)


@pytest.fixture
def quick(settings: Settings) -> Settings:
    """Files written a moment ago settle in 50 ms, not 2 s."""
    return settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"sync_settle_s": 0.05})}
    )


@pytest.fixture
def service(quick: Settings) -> RagService:
    return RagService(quick, embeddings=Counting())


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    for name, text in NOTES.items():
        write(root / name, text)
    write(root / ".hidden.md", "Hidden drafts about chloroplasts.")
    write(root / ".git" / "notes.md", "Version control internals.")
    write(root / "~$lock.docx", "an office lock file")
    write(root / "picture.png", "not a document")
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def embedded(service: RagService) -> list[str]:
    counting = service.embeddings
    assert isinstance(counting, Counting)
    return counting.embedded


def synced(service: RagService, folder: Path) -> RagService:
    link_folder(service.settings, folder)
    first = FolderSync(service).run()
    assert sorted(first.added) == sorted(Path(n).name for n in NOTES), first
    embedded(service).clear()
    return service


def sources(service: RagService, question: str) -> set[str]:
    return {s.source for s in service.retrieve(question, k=10)}


def test_link_then_sync_reads_the_folder_and_nothing_else(
    service: RagService, folder: Path
) -> None:
    link = link_folder(service.settings, folder)
    assert (link.folder, link.last_sync) == (str(folder.resolve()), "")
    summary = FolderSync(service).run()
    assert sorted(summary.added) == ["mitochondria.md", "photosynthesis.md", "ribosomes.txt"]
    assert not (summary.failed or summary.missing or summary.still_writing or summary.unplugged)
    assert sorted(d.source for d in service.documents()) == sorted(summary.added)
    assert "photosynthesis.md" in sources(service, "chloroplasts sunlight sugar")
    assert summary.waiting_vectors == 0 and len(embedded(service)) == 3
    recorded = folder_link(service.settings)
    assert recorded is not None and recorded.last_sync == summary.synced_at
    assert recorded.counts["added"] == 3 and recorded.counts["failed"] == 0

    again = FolderSync(service).run()
    assert sorted(again.unchanged) == sorted(summary.added) and not again.added
    assert len(embedded(service)) == 3  # nothing embedded again


def test_a_changed_file_is_read_again(service: RagService, folder: Path) -> None:
    synced(service, folder)
    path = folder / "photosynthesis.md"
    write(path, path.read_text() + "\n## Light reactions\n\nThylakoids split water molecules.\n")
    summary = FolderSync(service).run()
    assert summary.changed == ["photosynthesis.md"] and not summary.added
    assert "photosynthesis.md" in sources(service, "thylakoids split water")
    assert embedded(service)  # the new text only: the other files kept their vectors
    assert all("Mitochondria" not in text for text in embedded(service))


def test_a_renamed_file_keeps_its_vectors(service: RagService, folder: Path) -> None:
    synced(service, folder)
    (folder / "cells" / "ribosomes.txt").rename(folder / "protein-synthesis.txt")
    summary = FolderSync(service).run()
    assert summary.renamed == [("ribosomes.txt", "protein-synthesis.txt")]
    assert not (summary.added or summary.missing or summary.removed)
    assert embedded(service) == []  # nothing embedded again
    names = {d.source for d in service.documents()}
    assert "protein-synthesis.txt" in names and "ribosomes.txt" not in names
    assert "protein-synthesis.txt" in sources(service, "ribosomes amino acids proteins")
    assert service.store.missing() == []


def test_a_gone_file_leaves_answers_at_once_and_comes_back(
    service: RagService, folder: Path
) -> None:
    synced(service, folder)
    path = folder / "cells" / "mitochondria.md"
    kept = path.read_bytes()
    path.unlink()
    summary = FolderSync(service).run()
    assert summary.missing == ["mitochondria.md"] and not summary.removed
    assert [r.source for r in service.store.missing()] == ["mitochondria.md"]
    assert "mitochondria.md" not in sources(service, "mitochondria energy glucose")
    assert FolderSync(service).run().still_missing == ["mitochondria.md"]  # kept meanwhile

    path.write_bytes(kept)
    back = FolderSync(service).run()
    assert back.restored == ["mitochondria.md"] and not back.notes
    assert embedded(service) == []  # its vectors were kept
    assert service.store.missing() == []
    assert "mitochondria.md" in sources(service, "mitochondria energy glucose")


def test_a_gone_file_is_removed_after_the_grace_period(service: RagService, folder: Path) -> None:
    synced(service, folder)
    (folder / "photosynthesis.md").unlink()
    assert FolderSync(service).run().missing == ["photosynthesis.md"]
    (record,) = service.store.missing()
    week_ago = datetime.now(UTC) - timedelta(seconds=service.settings.ingest.missing_grace_s + 60)
    service.store.mark_missing(record, week_ago.isoformat(timespec="seconds"))
    summary = FolderSync(service).run()
    assert summary.removed == ["photosynthesis.md"]
    assert service.store.missing() == [] and service.store.registry.by_source(record.source) == []
    assert service.store.chunks.count(record.doc_id) == 0


def test_prune_removes_a_gone_file_now(service: RagService, folder: Path) -> None:
    synced(service, folder)
    (folder / "photosynthesis.md").unlink()
    summary = FolderSync(service).run(prune=True)
    assert summary.removed == ["photosynthesis.md"] and not summary.missing
    assert sorted(d.source for d in service.documents()) == ["mitochondria.md", "ribosomes.txt"]


def test_a_file_still_being_written_waits_for_the_next_sync(
    service: RagService, folder: Path
) -> None:
    synced(service, folder)
    ingest = service.settings.ingest  # a writer starved of the CPU for 0.05 s would look done
    service.settings.ingest = ingest.model_copy(update={"sync_settle_s": 0.2})
    growing = folder / "lecture.md"
    stop = threading.Event()

    def writer() -> None:
        with growing.open("a", encoding="utf-8") as handle:
            while not stop.is_set():
                handle.write("Enzymes lower the activation energy of reactions. ")
                handle.flush()
                time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.05)
        summary = FolderSync(service).run()  # waits 10 settle periods (2 s), then gives up
    finally:
        stop.set()
        thread.join()
    assert summary.still_writing == [str(growing)]
    assert "lecture.md" not in summary.added + [d.source for d in service.documents()]
    taken = FolderSync(service).run()
    assert taken.added == ["lecture.md"] and not taken.still_writing


def test_a_file_written_just_now_is_taken_once_it_settles(
    service: RagService, folder: Path
) -> None:
    write(folder / "fresh.md", "Osmosis moves water across membranes.")
    link_folder(service.settings, folder)
    summary = FolderSync(service).run(wait=False)  # one look a settle period later
    assert "fresh.md" in summary.added and not summary.still_writing


def test_an_unreadable_file_is_one_line_and_the_others_go_in(
    service: RagService, folder: Path
) -> None:
    truncated(folder / "broken.pdf")
    link_folder(service.settings, folder)
    summary = FolderSync(service).run()
    assert len(summary.added) == 3
    (line,) = summary.failed
    assert line.startswith("broken.pdf: ") and "\n" not in line


def test_a_sync_never_touches_uploads_or_files_from_elsewhere(
    service: RagService, folder: Path, tmp_path: Path
) -> None:
    service.ingest_uploads([("syllabus.md", b"# Syllabus\n\nExams are in June.\n")])
    elsewhere = write(tmp_path / "elsewhere" / "glossary.md", "Osmosis: water crossing membranes.")
    service.ingest([elsewhere])
    synced(service, folder)
    write(folder / "syllabus.md", "# Another syllabus\n\nExams are in May.\n")
    elsewhere.unlink()
    for upload in (service.settings.data_dir / "uploads").iterdir():
        upload.unlink()  # gone too: still not a sync's business

    summary = FolderSync(service).run(prune=True)
    (refused,) = summary.failed
    assert "syllabus.md" in refused and "an upload" in refused
    assert not (summary.removed or summary.missing or summary.changed)
    names = {d.source for d in service.documents()}
    assert {"syllabus.md", "glossary.md"} <= names
    assert "syllabus.md" in sources(service, "exams june")


def test_an_unplugged_folder_changes_nothing(
    service: RagService, folder: Path, tmp_path: Path
) -> None:
    synced(service, folder)
    before = folder_link(service.settings)
    moved = shutil.move(folder, tmp_path / "away")
    summary = FolderSync(service).run()
    assert summary.unplugged == f"folder {folder} is not there (unplugged?); nothing changed"
    assert not (summary.missing or summary.removed) and service.store.missing() == []
    assert len(service.documents()) == 3
    assert folder_link(service.settings) == before  # not even the last sync's time

    folder.mkdir()  # an empty mount point: looks unmounted too, unless pruned
    assert "is empty while 3 document(s) came from it" in FolderSync(service).run().unplugged
    assert len(service.documents()) == 3
    folder.rmdir()
    shutil.move(moved, folder)
    assert len(FolderSync(service).run().unchanged) == 3


def test_two_files_of_one_name_give_one_line_and_stay_put(
    service: RagService, folder: Path
) -> None:
    write(folder / "week1" / "summary.md", "Week one: the cell membrane.")
    write(folder / "week2" / "summary.md", "Week two: the nucleus.")
    link_folder(service.settings, folder)
    first = FolderSync(service).run()
    assert "summary.md" in first.added
    (line,) = first.failed
    assert line.startswith(str(folder / "week2" / "summary.md")) and "another file named" in line
    second = FolderSync(service).run()  # the same file kept, not the other one read instead
    assert "summary.md" in second.unchanged and not second.changed
    assert "summary.md" in sources(service, "week one cell membrane")


def test_linking_takes_a_readable_folder_only(service: RagService, folder: Path) -> None:
    settings = service.settings
    with pytest.raises(RagError, match="not found; give an existing folder"):
        link_folder(settings, folder / "nope")
    with pytest.raises(RagError, match="not a folder"):
        link_folder(settings, folder / "photosynthesis.md")
    inside = settings.data_dir / "uploads"
    inside.mkdir(parents=True)
    with pytest.raises(RagError, match="inside the app's data dir"):
        link_folder(settings, inside)
    with pytest.raises(RagError, match="not linked to a folder; link one with `rag kb link"):
        FolderSync(service).run()
    link_folder(settings, folder)
    assert unlink_folder(settings).folder == str(folder.resolve())
    assert folder_link(settings) is None


def test_watching_takes_a_file_dropped_in(service: RagService, folder: Path) -> None:
    synced(service, folder)
    stop = threading.Event()
    rounds: list[list[str]] = []

    def run_round(sync: FolderSync) -> object:
        summary = sync.run(wait=False)
        rounds.append(summary.added)
        if "dropped.md" in summary.added:
            stop.set()
        return summary

    sync = FolderSync(service, background=True)
    watcher = threading.Thread(
        target=watch,
        args=([sync], run_round, stop, lambda s, m: None, lambda f, why, p: None),
        kwargs={"force_polling": True, "poll_s": 0.5, "settle_s": 0.1},
    )
    watcher.start()
    try:
        deadline = time.monotonic() + 10
        while not rounds and time.monotonic() < deadline:  # the catch-up sync first
            time.sleep(0.05)
        write(folder / "dropped.md", "Meiosis halves the chromosome count.")
        watcher.join(20)
    finally:
        stop.set()
        watcher.join(5)
    assert not watcher.is_alive() and ["dropped.md"] in rounds
    service.embed_waiting()
    assert "dropped.md" in sources(service, "meiosis chromosome")


def test_the_watch_ignores_hidden_files_only(tmp_path: Path) -> None:
    root = tmp_path / ".config" / "notes"  # a hidden folder above the linked one is fine
    keep = relevant([root])
    assert keep(None, str(root / "week1" / "a.md")) and keep(None, str(root / "week1"))
    assert keep(None, str(root / "photo.png"))  # harmless: the sync finds nothing to do
    assert not keep(None, str(root / ".git" / "index"))
    assert not keep(None, str(root / "week1" / ".a.md.swp"))
    assert not keep(None, str(root / "~$report.docx"))


def test_network_file_systems_are_polled(tmp_path: Path) -> None:
    mounts = (
        "/dev/vda / ext4 rw 0 0\n"
        "server:/export /mnt/notes nfs4 rw 0 0\n"
        "//nas/share /mnt/My\\040Notes cifs rw 0 0\n"
        "user@host: /home/u/remote fuse.sshfs rw 0 0\n"
    )
    assert mount_fstype(Path("/mnt/notes/week1"), mounts) == "nfs4"
    assert mount_fstype(Path("/mnt/My Notes/a"), mounts) == "cifs"
    assert mount_fstype(Path("/mnt/notesX"), mounts) == "ext4"
    assert mount_fstype(Path("/home/u/remote"), mounts) == "fuse.sshfs"
    assert [is_remote(k) for k in ("nfs4", "cifs", "smb3", "fuse.sshfs", "9p", "ext4", "fuseblk")] \
        == [True, True, True, True, True, False, False]  # fmt: skip
    proc = write(tmp_path / "mounts", f"{mounts}tmpfs {tmp_path} 9p rw 0 0\n")
    assert needs_polling(tmp_path, proc) == "9p"
    assert needs_polling(Path("/"), proc) == ""


def test_the_command_line_links_syncs_and_lists(
    quick: Settings, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag_app import components

    monkeypatch.setattr(components, "build_embeddings", lambda settings: Counting())
    monkeypatch.setenv("RAG_INGEST__SYNC_SETTLE_S", "0.05")
    data = ["--data-dir", str(quick.data_dir)]
    runner = CliRunner()

    not_linked = runner.invoke(cli_app, [*data, "sync"])
    assert isinstance(not_linked.exception, RagError)
    assert "knowledge base 'default': not linked to a folder" in str(not_linked.exception)

    linked = runner.invoke(cli_app, [*data, "kb", "link", "default", str(folder)])
    assert linked.exit_code == 0, linked.output
    assert f"Linked knowledge base 'default' to {folder}" in linked.stdout

    printed = runner.invoke(cli_app, [*data, "sync", "--json"])
    assert printed.exit_code == 0, printed.output
    summary = json.loads(printed.stdout)
    assert sorted(summary["added"]) == ["mitochondria.md", "photosynthesis.md", "ribosomes.txt"]
    assert summary["counts"]["added"] == 3 and summary["knowledge_base"] == "default"

    (folder / "photosynthesis.md").unlink()
    text = runner.invoke(cli_app, [*data, "sync"])
    assert text.exit_code == 0, text.output
    assert "missing: photosynthesis.md (out of answers" in text.stdout
    assert "2 unchanged, 1 missing" in text.stdout

    listed = json.loads(runner.invoke(cli_app, [*data, "kb", "list", "--json"]).stdout)
    assert listed[0]["folder"] == str(folder) and listed[0]["last_sync"]

    shutil.rmtree(folder)
    gone = runner.invoke(cli_app, [*data, "sync"])
    assert gone.exit_code == 3
    assert f"'default': folder {folder} is not there (unplugged?); nothing changed" in gone.stderr


def test_sync_all_takes_every_linked_knowledge_base(
    quick: Settings, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag_app import components

    monkeypatch.setattr(components, "build_embeddings", lambda settings: Counting())
    monkeypatch.setenv("RAG_INGEST__SYNC_SETTLE_S", "0.05")
    papers = write(tmp_path / "papers" / "attention.md", "Attention weighs every token pair.")
    data = ["--data-dir", str(quick.data_dir)]
    runner = CliRunner()
    for args in (["kb", "create", "Papers"], ["kb", "link", "Papers", str(papers.parent)],
                 ["kb", "link", "default", str(folder)]):  # fmt: skip
        assert runner.invoke(cli_app, [*data, *args]).exit_code == 0

    both = runner.invoke(cli_app, [*data, "sync", "--all", "--json"])
    assert both.exit_code == 0, both.output
    assert [(s["knowledge_base"], len(s["added"])) for s in json.loads(both.stdout)] == [
        ("default", 3), ("Papers", 1)]  # fmt: skip
    mixed = runner.invoke(cli_app, [*data, "sync", "Papers", "--all"])
    assert str(mixed.exception) == "give a knowledge base's name or --all, not both"

    unlinked = runner.invoke(cli_app, [*data, "kb", "unlink", "Papers"])
    assert f"no longer follows {papers.parent}; its documents stay" in unlinked.stdout
    again = json.loads(runner.invoke(cli_app, [*data, "sync", "--all", "--json"]).stdout)
    assert [s["knowledge_base"] for s in again] == ["default"]
    named = runner.invoke(cli_app, [*data, "--kb", "papers", "docs", "--json"])
    assert [d["source"] for d in json.loads(named.stdout)] == ["attention.md"]  # kept
