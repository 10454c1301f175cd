"""The fallback text reader: pypdfium2 (PDFium), for PDFs that pypdf cannot parse or refuses.

pypdf refuses some real files on its safety limits (quarterly filings with arrays of over
100,000 elements) or cannot parse them; PDFium, the engine of Chrome's viewer, usually reads
them. But PDFium has no limits of its own (a decompression bomb inflates in full), so it runs
in a child process with a cap on memory and a time limit, and only the text comes back:

    python -m ingest.fallback --max-pages N --memory-mb M < file.pdf

prints ``{"pages": ["text of page 1", ...]}`` or ``{"error": "..."}`` as JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from rag_app.errors import RagError


def read_pages(data: bytes, max_pages: int, memory_mb: int, seconds: float) -> list[str]:
    """The text of each page (page 1 first), read by PDFium in a child process. Raises
    ``RagError`` with the reason (one phrase, no file name) when it cannot."""
    command = [
        sys.executable,
        "-m",
        "ingest.fallback",
        f"--max-pages={max_pages}",
        f"--memory-mb={memory_mb}",
    ]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        raise RagError(f"the fallback reader took over {seconds:g} s") from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        # Killed (over the memory cap: MemoryError or SIGKILL) or crashed in PDFium.
        raise RagError(
            f"the fallback reader stopped (exit {done.returncode}; over {memory_mb} MB?)"
        ) from None
    if "error" in answer:
        raise RagError(str(answer["error"]))
    return [str(text) for text in answer["pages"]]


def _extract(data: bytes, max_pages: int) -> dict[str, object]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        return {"error": f"the fallback reader cannot open it either ({exc})"}
    try:
        if len(pdf) > max_pages:
            return {"error": f"{len(pdf)} pages, over the limit of {max_pages}"}
        pages = []
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                pages.append(page.get_textpage().get_text_bounded())
            finally:
                page.close()
        return {"pages": pages}
    finally:
        pdf.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-pages", type=int, required=True)
    parser.add_argument("--memory-mb", type=int, required=True)
    args = parser.parse_args()
    try:
        import resource

        cap = args.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):
        pass  # no rlimit on this platform: the time limit still holds
    data = sys.stdin.buffer.read()
    try:
        result = _extract(data, args.max_pages)
    except MemoryError:
        result = {"error": f"the fallback reader needed over {args.memory_mb} MB"}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
