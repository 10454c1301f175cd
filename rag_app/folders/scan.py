"""What a linked folder holds now: its documents by file name, which of them have stopped
changing (a file still being copied or saved is not read half-written), and whether change
events can be trusted on the file system it lives on."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.formats import FORMATS

# Hidden files and folders, and the lock files office programs write beside an open document.
IGNORED_PREFIXES = (".", "~$")
# File systems whose changes made elsewhere (another machine, the host of a VM) send no
# events to this one: `rag sync --watch` looks at the folder every `ingest.sync_poll_s` there.
REMOTE_FILE_SYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smbfs", "9p", "afs", "ceph", "glusterfs", "lustre", "gpfs",
     "davfs", "virtiofs", "vboxsf", "vmhgfs"}
)  # fmt: skip
# fuse.sshfs, fuse.rclone...; smb2, smb3. Not fuseblk: a local disk (NTFS), whose events arrive.
REMOTE_PREFIXES = ("fuse.", "smb")


@dataclass(frozen=True)
class Stat:
    """What says a file changed without reading it."""

    size: int
    mtime_ns: int
    inode: int


@dataclass
class Scan:
    files: dict[str, list[Path]] = field(default_factory=dict)  # by file name, sorted paths
    unreadable: list[str] = field(default_factory=list)  # one line per subfolder not read
    empty: bool = True  # nothing at all in the folder, not even hidden files


def ignored(name: str) -> bool:
    return name.startswith(IGNORED_PREFIXES)


def scan_folder(folder: Path, skip: Path | None = None) -> Scan:
    """Every document (each format of ``ingest.formats``) under ``folder``, recursively,
    leaving out hidden names and ``skip`` (the uploads folder, were it inside)."""
    found = Scan()
    with os.scandir(folder) as entries:
        found.empty = next(entries, None) is None

    def unreadable(error: OSError) -> None:
        found.unreadable.append(
            f"{error.filename}: folder cannot be read ({error.strerror}); the documents read "
            "from it are left as they are"
        )

    for root, dirs, names in os.walk(folder, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not ignored(d) and Path(root, d) != skip)
        for name in sorted(names):
            if not ignored(name) and Path(name).suffix.lower() in FORMATS:
                found.files.setdefault(name, []).append(Path(root, name))
    return found


def stat_of(path: Path) -> Stat | None:
    """None when the file is gone (or is no longer a file)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return Stat(st.st_size, st.st_mtime_ns, st.st_ino) if path.is_file() else None


def settle(
    files: Sequence[Path],
    settle_s: float,
    most_s: float,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[tuple[Path, Stat]], list[Path]]:
    """The files that are not being written, with their stat, and those that still are.

    A file changed within the last ``settle_s`` seconds is looked at again ``settle_s`` later:
    it is settled once its size and time did not move meanwhile. Those still moving are looked
    at again until ``most_s`` seconds have passed (at least once); a file that went meanwhile
    is left out of both."""
    now = clock()
    settled: dict[Path, Stat] = {}
    moving: dict[Path, Stat] = {}
    for path in files:
        st = stat_of(path)
        if st is None:
            continue
        young = now - st.mtime_ns / 1e9 < settle_s  # also a time in the future (a skewed clock)
        (moving if young else settled)[path] = st
    deadline = time.monotonic() + most_s
    while moving:
        sleep(settle_s)
        for path, before in list(moving.items()):
            after = stat_of(path)
            if after is None:
                del moving[path]
            elif after == before:
                settled[path] = moving.pop(path)
            else:
                moving[path] = after
        if time.monotonic() >= deadline:
            break
    return [(p, settled[p]) for p in files if p in settled], sorted(moving)


def mount_fstype(path: Path, mounts: str) -> str:
    """The type of the file system ``path`` is on, from /proc/mounts' text ("" if unknown)."""
    best, kind = "", ""
    target = str(path)
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), parts[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, parts[2]
    return kind


def is_remote(fstype: str) -> bool:
    return fstype in REMOTE_FILE_SYSTEMS or fstype.startswith(REMOTE_PREFIXES)


def needs_polling(folder: Path, mounts_file: Path = Path("/proc/mounts")) -> str:
    """The file system's type when ``folder`` is on one that sends no change events, else ""."""
    try:
        mounts = mounts_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""  # not Linux: events are trusted
    kind = mount_fstype(folder.resolve(), mounts)
    return kind if is_remote(kind) else ""
