"""The seed plugin as a project that installs the package sees it, run with pytest's `pytester`.

Each test writes a throwaway project (a small schema file, a fixture directory whose rows carry
a fresh nonce, so its template is its own) and runs pytest on it against this session's server;
the plugin comes from the package's `pytest11` entry point alone. Runs that need a process of
their own (a fresh interpreter, xdist, two at once, a kill) are subprocesses; the rest run in
this process, which is quicker.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy.dialects.postgresql.psycopg2
import sqlalchemy.orm
from db_helpers import run_sql
from import_fixtures import SCHEMA, seed_rows, write_fixture

import genonaut.db.init_db
import genonaut.seed.engines.postgres.loader
import genonaut.seed.engines.postgres.verify
from genonaut.seed.engines.postgres.templates import with_database
from genonaut.seed.pytest_plugin import TemplateBusy, TemplateServer

# In-process runs drop the modules they imported afterwards, and SQLAlchemy warns when its
# dialects register again: what the inner runs import is imported here, once, and kept.
PRELOADED = (
    sqlalchemy.dialects.postgresql.psycopg2,
    sqlalchemy.orm,
    genonaut.db.init_db,
    genonaut.seed.engines.postgres.loader,
    genonaut.seed.engines.postgres.verify,
)
REPO = Path(__file__).resolve().parents[2]
NOTE = """
import json, os
from pathlib import Path


def note(tag, template):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    out = Path(os.environ["SEED_OUT"]) / f"{tag}-{worker}-{os.getpid()}.json"
    out.write_text(json.dumps({"name": template.name, "built": template.built}))
"""


@dataclass
class Project:
    pytester: pytest.Pytester
    admin_url: str
    out: Path

    def notes(self) -> list[dict[str, object]]:
        return [json.loads(p.read_text()) for p in sorted(self.out.glob("*.json"))]

    def clear_notes(self) -> None:
        for path in self.out.glob("*.json"):
            path.unlink()

    def databases(self) -> dict[str, dict[str, object]]:
        """The databases the plugin made for this project: templates, copies, layers."""
        server = TemplateServer(self.admin_url)
        try:
            made = dict(server.made_here())
        finally:
            server.close()
        mine = {n for n, r in made.items() if str(r.get("fixtures", "")).startswith(str(self.root))}
        keys = {str(made[n].get("key")) for n in mine}
        for name, record in made.items():
            if record.get("template") in mine or record.get("base") in keys:
                mine.add(name)
        for name, record in made.items():  # copies of the layers
            if record.get("template") in mine:
                mine.add(name)
        return {n: made[n] for n in mine}

    @property
    def root(self) -> Path:
        return self.pytester.path


@pytest.fixture
def project(
    pytester: pytest.Pytester, pg_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Project]:
    spec = seed_rows()
    columns, rows = spec["authors"]
    nonce = uuid.uuid4().hex
    spec["authors"] = (columns, [(rows[0][0], nonce, rows[0][2]), *rows[1:]])
    write_fixture(pytester.path / "seed", spec)
    (pytester.path / "schema.sql").write_text(SCHEMA, encoding="utf-8")
    pytester.makeini("[pytest]\nseed_fixtures = seed\nseed_schema = schema.sql\n")
    pytester.makepyfile(note=NOTE)
    out = pytester.path / "out"
    out.mkdir()
    monkeypatch.setenv("GENONAUT_TEST_DATABASE_URL", pg_admin_url)
    monkeypatch.setenv("SEED_OUT", str(out))
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    made = Project(pytester, pg_admin_url, out)
    yield made
    server = TemplateServer(pg_admin_url)
    try:
        for name in made.databases():
            server.drop(name)
    finally:
        server.close()


def test_a_fresh_project_gets_every_fixture(project: Project) -> None:
    project.pytester.makepyfile(
        test_fixtures="""
        from sqlalchemy import text

        def test_seeded_db(seeded_conn, seeded_db):
            with seeded_conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM authors")
                assert cur.fetchone() == (200,)
                cur.execute("SELECT current_database()")
                assert seeded_db.split("?")[0].endswith("/" + cur.fetchone()[0])

        def test_seeded_tx(seeded_tx):
            with seeded_tx.cursor() as cur:
                cur.execute("SELECT count(*) FROM books")
                assert cur.fetchone() == (500,)

        def test_sqlalchemy(seeded_engine, seeded_orm_session):
            with seeded_engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM likes")).scalar() == 100
            assert seeded_orm_session.execute(text("SELECT count(*) FROM ships")).scalar() == 3
        """
    )
    result = project.pytester.runpytest_subprocess()
    result.assert_outcomes(passed=3)
    listed = project.pytester.runpytest_subprocess("--fixtures")
    listed.stdout.fnmatch_lines(["seeded_db*", "*genonaut.seed: the URL of a fresh copy*"])
    for fixture in ("seed_template", "seeded_tx", "seeded_conn", "seeded_engine"):
        assert fixture in listed.stdout.str()


def _template_test(project: Project) -> None:
    project.pytester.makepyfile(
        test_template="""
        from note import note

        def test_template(seed_template):
            note("t", seed_template)
        """
    )


def test_unchanged_seed_is_reused_a_changed_one_rebuilt(project: Project) -> None:
    _template_test(project)
    names = []
    for change in ("first", "again", "fixture", "schema"):
        if change == "fixture":
            path = project.root / "seed" / "ships.tsv"
            path.write_text(path.read_text().replace("3\t30\n", "3\t31\n"))
        if change == "schema":
            path = project.root / "schema.sql"
            path.write_text(path.read_text() + "\nCREATE TABLE extra (id int);\n")
        project.clear_notes()
        project.pytester.runpytest().assert_outcomes(passed=1)
        (note,) = project.notes()
        names.append(note["name"])
        assert note["built"] is (change != "again"), change
    first, again, fixture, schema = names
    assert first == again
    assert len({first, fixture, schema}) == 3
    # Housekeeping dropped the outdated templates of this project: only the newest is left.
    templates = [n for n, r in project.databases().items() if r["kind"] == "template"]
    assert templates == [schema]


def test_two_xdist_workers_build_the_template_once(project: Project) -> None:
    project.pytester.makepyfile(
        test_many="""
        import pytest
        from note import note

        @pytest.mark.parametrize("i", range(6))
        def test_copy(seed_template, seeded_db, i):
            note(f"t{i}", seed_template)
        """
    )
    project.pytester.runpytest_subprocess("-n", "2").assert_outcomes(passed=6)
    notes = project.notes()
    assert len(notes) == 6
    assert len({n["name"] for n in notes}) == 1
    # Each worker's session asked for the template; exactly one built it.
    built_by = {
        p.name.split("-")[2]
        for p in project.out.glob("*.json")
        if json.loads(p.read_text())["built"]
    }
    assert len(built_by) == 1


def test_two_concurrent_runs_build_the_template_once(project: Project) -> None:
    _template_test(project)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    runs = [
        project.pytester.popen(command, stdout=-1, stderr=-1, stdin=-3)  # -3: DEVNULL
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    notes = project.notes()
    assert len(notes) == 2
    assert notes[0]["name"] == notes[1]["name"]
    assert sorted(bool(n["built"]) for n in notes) == [False, True]


FAILING = """
def test_fails(seeded_conn):
    with seeded_conn.cursor() as cur:
        cur.execute("INSERT INTO authors (id, name) VALUES (999, 'left for inspection')")
    seeded_conn.commit()
    assert False, "on purpose"
"""


def test_a_failing_tests_database_is_kept_and_its_url_printed(project: Project) -> None:
    project.pytester.makepyfile(test_failing=FAILING)
    result = project.pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*seeded databases kept*", "test_failing.py::test_fails: *"])
    line = next(ln for ln in result.stdout.lines if ln.startswith("test_failing.py::test_fails: "))
    url = line.split(": ", 1)[1]
    kept = [n for n, r in project.databases().items() if r["kind"] == "kept"]
    assert len(kept) == 1
    assert f"/{kept[0]}" in url
    rows = run_sql(
        with_database(project.admin_url, kept[0]), "SELECT name FROM authors WHERE id = 999"
    )
    assert rows == [("left for inspection",)]


def test_a_failing_tests_database_is_dropped_when_asked(project: Project) -> None:
    project.pytester.makepyfile(test_failing=FAILING)
    result = project.pytester.runpytest("--seed-drop-failed")
    result.assert_outcomes(failed=1)
    assert "seeded databases kept" not in result.stdout.str()
    assert [r["kind"] for r in project.databases().values()] == ["template"]


def test_leftovers_of_a_killed_run_are_collected(project: Project) -> None:
    project.pytester.makepyfile(
        test_killed="""
        import os, signal
        from pathlib import Path

        def test_killed(seeded_db, seeded_tx):
            Path(os.environ["SEED_OUT"], "url").write_text(seeded_db)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    killed = project.pytester.runpytest_subprocess("test_killed.py")
    assert killed.ret != 0
    left = {n: str(r["kind"]) for n, r in project.databases().items() if r["kind"] != "template"}
    # The test's copy, the transaction database and, if the pool got to it, the next copy.
    assert set(left.values()) == {"copy", "tx"}
    assert any((project.out / "url").read_text().split("?")[0].endswith(n) for n in left)
    _template_test(project)
    project.pytester.runpytest_subprocess("test_template.py").assert_outcomes(passed=1)
    assert not set(left) & set(project.databases())


def test_one_tests_writes_are_never_seen_by_another(project: Project) -> None:
    project.pytester.makepyfile(
        test_isolation="""
        def count(conn, table):
            with conn.cursor() as cur:
                cur.execute(f"SELECT count(*) FROM {table}")
                return cur.fetchone()[0]

        def test_1_writes(seeded_conn):
            with seeded_conn.cursor() as cur:
                cur.execute("DELETE FROM likes")
            seeded_conn.commit()
            assert count(seeded_conn, "likes") == 0

        def test_2_reads(seeded_conn):
            assert count(seeded_conn, "likes") == 100

        def test_3_writes_in_tx(seeded_tx):
            with seeded_tx.cursor() as cur:
                cur.execute("DELETE FROM likes")
            assert count(seeded_tx, "likes") == 0

        def test_4_reads_in_tx(seeded_tx):
            assert count(seeded_tx, "likes") == 100

        def test_5_copies_by_the_strategy_asked_for(seed_server):
            assert seed_server.strategy == "WAL_LOG"
        """
    )
    result = project.pytester.runpytest("-p", "no:randomly", "--seed-copy-strategy", "wal_log")
    result.assert_outcomes(passed=5)


def test_copies_are_made_ahead_and_none_is_left_behind(project: Project) -> None:
    project.pytester.makepyfile(
        test_pool="""
        import time

        NAMES = []

        def name_of(conn):
            with conn.cursor() as cur:
                cur.execute("SELECT current_database()")
                return cur.fetchone()[0]

        def test_1(seeded_conn):
            NAMES.append(name_of(seeded_conn))
            time.sleep(0.5)  # room for the next copy to be made ahead

        def test_2(seeded_conn):
            NAMES.append(name_of(seeded_conn))
            time.sleep(0.5)

        def test_3(seeded_conn):
            NAMES.append(name_of(seeded_conn))
            assert len(set(NAMES)) == 3  # a copy of its own each
            # The first is made in line; the next ones were ready, made by the pool.
            assert not NAMES[0].rsplit("_", 1)[-1].startswith("p")
            assert all(n.rsplit("_", 1)[-1].startswith("p") for n in NAMES[1:])
        """
    )
    project.pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)
    kinds = sorted(str(r.get("kind")) for r in project.databases().values())
    assert kinds == ["template"]  # every copy dropped, the ready one nobody took too


def test_a_module_adds_a_layer_built_once(project: Project) -> None:
    project.pytester.makepyfile(
        test_layer="""
        import psycopg2
        import pytest
        from genonaut.seed.engines.postgres.connection import to_libpq_dsn
        from genonaut.seed.pytest_plugin import seed_layer

        def add_ships(url):
            conn = psycopg2.connect(to_libpq_dsn(url))
            with conn, conn.cursor() as cur:
                cur.execute("INSERT INTO categories (id, name) VALUES (1000, 'layered')")
            conn.close()

        layered_db = seed_layer("extra", add_ships)

        def names(url):
            conn = psycopg2.connect(to_libpq_dsn(url))
            with conn.cursor() as cur:
                cur.execute("SELECT name FROM categories WHERE id = 1000")
                found = cur.fetchall()
            conn.close()
            return found

        @pytest.mark.parametrize("i", range(3))
        def test_layer(layered_db, i):
            assert names(layered_db) == [("layered",)]

        def test_plain_seed(seeded_db):
            assert names(seeded_db) == []
        """
    )
    project.pytester.runpytest().assert_outcomes(passed=4)
    kinds = sorted(str(r["kind"]) for r in project.databases().values())
    assert kinds == ["template", "template"]  # the seed and its layer; every copy dropped


def test_clear_errors(project: Project, pg_admin_url: str) -> None:
    _template_test(project)
    # A fixture file that does not load: the importer's file:line message.
    path = project.root / "seed" / "books.tsv"
    path.write_text(path.read_text().replace("\t31\n", "\tthirty-one\n", 1))
    result = project.pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cannot build the seed template from*books.tsv*line 2*"])
    # No server where the URL points.
    result = project.pytester.runpytest(
        "--seed-database-url", "postgresql://postgres@127.0.0.1:9/postgres"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cannot connect to*", "*Hint: start the server*"])
    # A role without CREATEDB.
    role = f"nocreatedb_{uuid.uuid4().hex[:8]}"
    run_sql(pg_admin_url, f"CREATE ROLE {role} LOGIN")
    try:
        url = pg_admin_url.replace("postgres@", f"{role}@", 1)
        result = project.pytester.runpytest("--seed-database-url", url)
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines([f"*role '{role}' may not create databases*", "*CREATEDB*"])
    finally:
        run_sql(pg_admin_url, f"DROP ROLE {role}")


def test_a_template_held_open_is_named(pg_admin_url: str) -> None:
    import psycopg2

    from genonaut.seed.engines.postgres.connection import to_libpq_dsn

    name = f"held_{uuid.uuid4().hex[:10]}"
    run_sql(pg_admin_url, f"CREATE DATABASE {name}")
    holder = psycopg2.connect(to_libpq_dsn(with_database(pg_admin_url, name)))
    server = TemplateServer(pg_admin_url, busy_wait=0.1)
    try:
        with pytest.raises(TemplateBusy) as raised:
            server.copy(name)
        assert f"{name} is held open by another session: pid {holder.get_backend_pid()}" in str(
            raised.value
        )
        assert "pg_terminate_backend" in raised.value.hint
    finally:
        holder.close()
        server.drop(name)
        server.close()


def test_the_examples_in_docs_testing_md_run(
    pytester: pytest.Pytester, pg_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (REPO / "docs" / "testing.md").read_text()
    examples = [b for b in re.findall(r"```python\n(.*?)```", text, re.DOTALL) if "def test_" in b]
    assert len(examples) == 3
    for number, example in enumerate(examples):
        pytester.makepyfile(**{f"test_example_{number}": example})
    monkeypatch.setenv("GENONAUT_TEST_DATABASE_URL", pg_admin_url)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    fixtures = REPO / "test" / "db" / "input" / "rdbms_init_from_demo"
    result = pytester.runpytest("--seed-fixtures", str(fixtures))
    result.assert_outcomes(passed=3)
    server = TemplateServer(pg_admin_url)
    try:  # the layer's template is this test's own
        for name, record in server.made_here():
            if str(record.get("family", "")).endswith(":banned"):
                server.drop(name)
    finally:
        server.close()


def test_the_embedded_server_runs_without_durability_in_ram() -> None:
    from genonaut.db.embedded import NO_DURABILITY, EmbeddedServer, scratch_root

    shm = Path("/dev/shm")
    in_ram = shm.is_dir() and os.access(shm, os.W_OK | os.X_OK)
    assert scratch_root() == (shm if in_ram else Path(tempfile.gettempdir()))
    with (
        tempfile.TemporaryDirectory(prefix="genonaut-test-", dir=scratch_root()) as scratch,
        EmbeddedServer(Path(scratch) / "data", keep_data=False, durable=False) as server,
    ):
        names = tuple(NO_DURABILITY)
        rows = run_sql(
            server.admin_url,
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s) "
            "UNION ALL SELECT 'data_directory', current_setting('data_directory')",
            (list(names),),
        )
        settings = dict(rows)
        assert {k: settings[k] for k in names} == NO_DURABILITY
        assert Path(str(settings["data_directory"])).is_relative_to(scratch_root())
