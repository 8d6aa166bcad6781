"""Plain-text tables for the reports the scripts print."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(
    header: tuple[str, ...], rows: Sequence[tuple[object, ...]], total: tuple[object, ...] | None
) -> list[str]:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [tuple(str(c) for c in r) for r in [header, *rows, *([total] if total else [])]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        parts = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    body = [line(cells[0]), rule, *(line(r) for r in cells[1 : len(rows) + 1])]
    if total:
        body += [rule, line(cells[-1])]
    return body
