"""Whether the three stores agree (registry, Chroma chunks, keyword index), and their repair.

Ingestion keeps them consistent (pending -> ready, upserts, recovery at the start of a run;
a chunk waiting for its vector is in the queue instead of the chunk index, and counts as
stored);
this check is for what it cannot see coming: a store copied half-way, files edited by hand,
a disk that filled up, a bug. Repair only removes what cannot be trusted and re-derives the
keyword index from Chroma; a document whose chunks are incomplete is removed and named, so
the user can ingest its file again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from vectorstore.store import DocumentStore


@dataclass
class CheckReport:
    documents: int = 0
    chunks: int = 0
    problems: list[str] = field(default_factory=list)  # one line each
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_store(store: DocumentStore, repair: bool = False) -> CheckReport:
    """Compare the registry, the chunks and the keyword rows; with ``repair``, fix them."""
    records = store.registry.all()
    embedded = store.chunks.owners()  # chunk id -> doc_id, from Chroma
    queued = store.queue.owners()  # the same, of chunks waiting for their vectors
    chunk_owner = {**queued, **embedded}
    both = [i for i in queued if i in embedded]
    keyword_owner = store.keyword.owners()  # chunk id -> doc_id, from SQLite
    per_doc = Counter(chunk_owner.values())
    report = CheckReport(
        documents=sum(r.status == "ready" for r in records), chunks=len(chunk_owner)
    )
    known = {r.doc_id for r in records}
    drop: dict[str, str] = {}  # doc_id -> why (whole documents to remove)

    versions = defaultdict(list)
    for record in records:
        if record.status == "pending":
            drop[record.doc_id] = f"{record.source}: left pending by an interrupted ingest"
            continue
        versions[record.source].append(record)
        have = per_doc.get(record.doc_id, 0)
        if have != record.chunks:
            again = f"; ingest {record.path or record.source} again" if repair else ""
            drop[record.doc_id] = (
                f"{record.source}: {have} chunks stored, {record.chunks} expected{again}"
            )
    for source, kept in versions.items():
        for old in sorted(kept, key=lambda r: r.ingested_at)[:-1]:
            drop.setdefault(old.doc_id, f"{source}: an older version is still stored")
    report.problems.extend(drop.values())
    if both:
        report.problems.append(
            f"{len(both)} chunk(s) have their vector and still wait for it in the queue"
        )

    orphans = {d for d in per_doc if d not in known}
    if orphans:
        n = sum(per_doc[d] for d in orphans)
        report.problems.append(f"{n} chunk(s) of {len(orphans)} unregistered document(s)")
    stray = [i for i, d in keyword_owner.items() if chunk_owner.get(i) != d]
    missing = [i for i in chunk_owner if i not in keyword_owner]
    if stray or missing:
        report.problems.append(
            f"keyword index: {len(stray)} row(s) without a vector, "
            f"{len(missing)} chunk(s) missing from it"
        )
    if repair and report.problems:
        _repair(store, drop, orphans, report)
        if both and store.settle():
            report.repaired.append(f"took {len(both)} embedded chunk(s) off the queue")
    return report


def _repair(
    store: DocumentStore, drop: dict[str, str], orphans: set[str], report: CheckReport
) -> None:
    for doc_id, why in drop.items():
        store._drop(doc_id)
        report.repaired.append(f"removed {why}")
    for doc_id in orphans:
        store.chunks.delete_document(doc_id)
        store.queue.delete_document(doc_id)
    if orphans:
        report.repaired.append(f"removed the chunks of {len(orphans)} unregistered document(s)")
    store.keyword.replace_all(store.all_chunks())
    report.repaired.append("rebuilt the keyword index from the vector store")
