"""Peak memory: the web UI answering a question, and `rag ingest` on 1,000 pages.

    .venv/bin/python -m bench.perf.memory            # UI + ingest of 1,000 pages
    .venv/bin/python -m bench.perf.memory --quick    # UI + ingest of 100 pages

Each measured program runs as its own process (``rag ui``, ``rag ingest``) on the default
models; a thread samples the resident memory (RSS) of that process and all its children every
0.1 s and keeps the peak. RSS summed over a process tree counts shared pages once per process:
an upper bound. The UI is driven by a real headless Chromium (Debian's, through Playwright, as
the browser test does): load the page, ask one question, wait for its first source.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.lib import make_pdfs, timed, write_results

RAG = str(Path(sys.executable).parent / "rag")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GB = 1024**3


class PeakRss:
    """Samples the RSS of a process tree in a background thread."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        import psutil  # the `bench` extra: imported on use, so the module imports without it

        self.root = psutil.Process(pid)
        self.every, self.peak, self.last = every, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            try:
                for proc in [self.root, *self.root.children(recursive=True)]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                return
            self.last, self.peak = total, max(self.peak, total)
            time.sleep(self.every)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {"peak_gb": round(self.peak / GB, 3), "last_gb": round(self.last / GB, 3)}


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_DATA_DIR"] = str(data_dir)
    return env


def measure_ingest(work: Path, pages: int) -> dict[str, Any]:
    folder = work / "pdfs"
    make_pdfs(folder, pages)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [RAG, "ingest", str(folder)],
        env=env_for(work / "ingest-data"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sampler = PeakRss(proc.pid)
    out, _ = proc.communicate()
    seconds = time.perf_counter() - started
    memory = sampler.stop()
    if proc.returncode:
        raise SystemExit(f"rag ingest failed:\n{out}")
    print(out.strip().splitlines()[-3:])
    return {
        "pages": pages,
        "wall_s": round(seconds, 1),
        "pages_per_s": round(pages / seconds, 2),
        **memory,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure_ui(work: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    data = work / "ui-data"
    make_pdfs(work / "ui-pdfs", 10)
    subprocess.run(
        [RAG, "ingest", str(work / "ui-pdfs")], env=env_for(data), check=True, capture_output=True
    )
    port = free_port()
    server = subprocess.Popen(
        [RAG, "ui", "--port", str(port)],
        env=env_for(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sampler = PeakRss(server.pid)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("rag ui did not start")
            time.sleep(0.5)
        idle = sampler.last
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="en-US")
            page.set_default_timeout(900_000)  # a loaded 2-core machine answers slowly
            page.goto(url)
            page.get_by_text("Ask your PDFs").wait_for()
            chat = page.locator(".st-key-chat_input textarea")
            # About the first SciFact abstract, so a passage is found and sources are shown.
            chat.fill(
                "How does diffusion tensor imaging show white matter development in newborns?"
            )

            def ask() -> None:
                chat.press("Enter")
                page.locator(".st-key-source-1-1").wait_for()

            seconds, _ = timed(ask)
            time.sleep(2)
            browser.close()
        return {
            "server_started_gb": round(idle / GB, 3),
            "answer_s": round(seconds, 1),
            **sampler.stop(),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="ingest 100 pages")
    args = parser.parse_args()
    if args.quick:
        args.pages = 100
    work = Path(tempfile.mkdtemp(prefix="rag-bench-memory-"))
    try:
        ui = measure_ui(work)
        print(f"UI: {ui}")
        ingest = measure_ingest(work, args.pages)
        print(f"ingest: {ingest}")
        write_results(
            "memory", {"args": vars(args), "ui": ui, "ingest": ingest, "target_ui_gb": 1.5}
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
