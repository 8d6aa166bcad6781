"""The import floor: the least any importer must do to load the same fixture files.

    python bench/floor_import.py URL FIXTURE_DIR

Start Python, connect, and in one transaction one `COPY … FROM STDIN` per file, in the
manifest's order (parents first), into an empty copy of the schema with its constraints.
It skips what the real importer adds (checking the files against the schema, rows already
there, cycles, sequences), so the real import's time over this one is what those cost.
Imports nothing but psycopg2 and the standard library.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import psycopg2
from psycopg2 import sql


def main(argv: list[str]) -> int:
    url, fixtures = argv
    directory = Path(fixtures)
    manifest = json.loads((directory / "manifest.json").read_text())
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:  # one transaction, committed at the end
        for table in manifest["tables"]:
            schema, _, name = table["name"].partition(".")
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(schema, name),
                sql.SQL(", ").join(sql.Identifier(c) for c in table["columns"]),
            )
            with (directory / table["file"]).open("rb") as source:
                source.readline()  # the header line
                cur.copy_expert(statement.as_string(cur), source)
    conn.close()
    print(f"{len(manifest['tables'])} statements")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
