"""Tables in PDFs: each row written out with its column headers, so a row's label, the header
and the cell travel together into search and evidence.

pypdf gives a table's cells in reading order, one row a line, with nothing saying which
column a number is in: "Norte 1.200 1.450" under "Región Ingresos 2022 2023". The table
finder is pdfplumber's (ruled tables, by the lines drawn on the page): it runs only on pages
where the page draws lines or rectangles (``might_hold_table``), so a document of prose pays
nothing for it. A table found is added to its page as a list, one item a row:

    Región | Ingresos 2022 | Ingresos 2023:
    - Norte | Ingresos 2022: 1.200 | Ingresos 2023: 1.450

which the evidence reads as a list: a question about the table quotes the rows, a question
about one row quotes that row with its headers. Headers over two rows (a spanning "Ingresos"
above "2022" and "2023") are joined per column.
"""

from __future__ import annotations

import io
import logging

MIN_RULINGS = 6  # lines and rectangles a page draws before its tables are looked for
MAX_HEADER_ROWS = 3


def might_hold_table(rulings: int) -> bool:
    return rulings >= MIN_RULINGS


def table_texts(data: bytes, pages: list[int]) -> dict[int, str]:
    """The tables of the given pages (1-based), written out; pages without one are absent.
    A page pdfplumber cannot read is skipped: the table then stays as pypdf's text."""
    if not pages:
        return {}
    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    found: dict[int, str] = {}
    try:
        with pdfplumber.open(io.BytesIO(data), pages=pages) as pdf:
            for page in pdf.pages:
                try:
                    rows = [table.extract() for table in page.find_tables()]
                except Exception:  # a malformed page: its text is still pypdf's
                    continue
                written = [text for text in map(write_table, rows) if text]
                if written:
                    found[page.page_number] = "\n\n".join(written)
    except Exception:  # pdfplumber refuses the file that pypdf read: keep pypdf's text
        return found
    return found


def _cell(value: str | None) -> str:
    return " ".join((value or "").split())


def write_table(rows: list[list[str | None]]) -> str:
    """A table as a lead line naming its columns and one list item per row; "" for what is
    not a table of data (one column, or no row below its headers), such as a framed box."""
    grid = [[_cell(c) for c in row] for row in rows if any(_cell(c) for c in row)]
    if len(grid) < 2 or max(len(r) for r in grid) < 2:
        return ""
    width = max(len(r) for r in grid)
    grid = [r + [""] * (width - len(r)) for r in grid]
    heads = 1  # a row without a label under the header row heads columns too ("2022")
    while heads < min(MAX_HEADER_ROWS, len(grid) - 1) and not grid[heads][0]:
        heads += 1
    headers = _headers(grid[:heads])
    body = grid[heads:]
    if not body or not any(any(cell for cell in row[1:]) for row in body):
        return ""
    lines = [" | ".join(h or "-" for h in headers) + ":"]
    for row in body:
        cells = [f"{h}: {c}" if h else c for h, c in zip(headers[1:], row[1:], strict=True) if c]
        lines.append("- " + " | ".join([row[0] or "-", *cells]))
    return "\n".join(lines)


def _headers(rows: list[list[str]]) -> list[str]:
    """One header per column from one or more header rows; a cell that spans columns (empty
    to its right in pdfplumber's grid) heads each of them."""
    columns = [[] for _ in rows[0]]  # type: list[list[str]]
    for row in rows:
        spanning = ""
        for i, cell in enumerate(row):
            if cell:
                spanning = cell
            elif i == 0:
                spanning = ""
            value = cell or (spanning if i and len(rows) > 1 and row is not rows[-1] else "")
            if value and (not columns[i] or columns[i][-1] != value):
                columns[i].append(value)
    return [" ".join(parts) for parts in columns]
