"""SQLite databases for the SQLite engine's tests: a sample with every shape, and helpers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SAMPLE_SCHEMA = """
CREATE TABLE artist (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    born DATE DEFAULT '1900-01-01'
);
CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT);
CREATE TABLE employee (
    id INTEGER PRIMARY KEY,
    boss_id INTEGER REFERENCES employee (id),
    name TEXT
);
CREATE TABLE region (
    country TEXT, code TEXT, name TEXT NOT NULL, PRIMARY KEY (country, code)
) WITHOUT ROWID;
CREATE TABLE office (
    id INTEGER PRIMARY KEY,
    country TEXT NOT NULL,
    code TEXT NOT NULL,
    FOREIGN KEY (country, code) REFERENCES region
);
CREATE TABLE team (id INTEGER PRIMARY KEY, captain_id INTEGER NOT NULL REFERENCES player (id));
CREATE TABLE player (id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL REFERENCES team (id));
CREATE TABLE anything (i INTEGER, r REAL, t TEXT, b BLOB, n NUMERIC, x);
CREATE TABLE priced (
    id INTEGER PRIMARY KEY,
    net REAL,
    gross REAL GENERATED ALWAYS AS (net * 1.25) VIRTUAL,
    tax REAL AS (net * 0.25) STORED
);
CREATE INDEX office_place ON office (country, code);
CREATE TRIGGER artist_audit AFTER INSERT ON artist
BEGIN INSERT INTO audit (what) VALUES ('artist ' || NEW.name); END;
CREATE TRIGGER employee_shout AFTER INSERT ON employee
BEGIN UPDATE employee SET name = upper(NEW.name) WHERE id = NEW.id; END;
"""

# Rows as they are after the triggers ran: the audit rows are the trigger's.
SAMPLE_DATA = """
INSERT INTO artist (id, name, born) VALUES (1, 'Nina', '1933-02-21'), (7, 'Miles', NULL);
INSERT INTO artist (name) VALUES ('Ella');
INSERT INTO employee VALUES (1, NULL, 'ada'), (2, 1, 'bob'), (3, 2, 'cy');
INSERT INTO employee VALUES (5, 6, 'eve'), (6, 5, 'fay');
INSERT INTO region VALUES ('fr', 'idf', 'Ile-de-France'), ('de', 'be', 'Berlin');
INSERT INTO office VALUES (1, 'fr', 'idf'), (2, 'de', 'be'), (3, 'fr', 'idf');
INSERT INTO team VALUES (10, 100), (11, 101);
INSERT INTO player VALUES (100, 10), (101, 11), (102, 10);
INSERT INTO anything VALUES
    (1, 1.5, 'one', X'00ff10', 2.5, NULL),
    ('n/a', 2, 3, 'text in a blob column', '007x', 42),
    (X'', -0.0, X'5c78', 1e300, 12, '12'),
    (NULL, NULL, NULL, NULL, NULL, 0.1),
    (1, 1.5, 'one', X'00ff10', 2.5, NULL),
    (-9223372036854775808, 'inf', 'tab	and
newline \\ backslash', 'x', 'ä ✓', X'5c');
INSERT INTO priced (id, net) VALUES (1, 10.0), (2, 0.1), (3, NULL);
"""


def build(path: Path, script: str, *, checked: bool = True) -> Path:
    """A SQLite file at `path` made by `script`; foreign keys checked at COMMIT, or not at
    all (to make orphans) when not `checked`."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if checked else 'OFF'}")
        conn.executescript("BEGIN; PRAGMA defer_foreign_keys = ON;\n" + script + "\nCOMMIT;")
    finally:
        conn.close()
    return path


def url_of(path: Path) -> str:
    """`sqlite:////abs/path` for an absolute path, `sqlite:///rel/path` for a relative one."""
    return f"sqlite:///{path}"


def query(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
