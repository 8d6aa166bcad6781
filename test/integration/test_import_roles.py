"""Import as a role that owns nothing, cycles and deferrable keys, verification, connections."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_helpers import invoke_assert_code
from db_helpers import run_sql, with_user
from import_fixtures import SCHEMA, counts, seed_rows, write_fixture
from sqlalchemy.engine import make_url

from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.verify import verify_seed
from genonaut.seed.errors import ConfigError

TABLES = list(seed_rows())


@pytest.fixture
def loader_role(target: str) -> Iterator[str]:
    """A login role that owns nothing in the target and has been granted nothing yet."""
    role = f"seed_loader_{uuid.uuid4().hex[:8]}"
    run_sql(target, f"CREATE ROLE {role} LOGIN")
    yield role
    run_sql(target, f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_a_role_with_table_and_sequence_grants_loads_cycles_and_all(
    target: str, seed: Path, loader_role: str
) -> None:
    run_sql(
        target,
        f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {loader_role};"
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {loader_role}",
    )
    url = with_user(target, loader_role)
    # ships <-> sailors: NOT NULL, not deferrable; categories: parents later in the file.
    report = import_seed(seed, url)
    assert report.inserted == sum(len(rows) for _, rows in seed_rows().values())
    assert verify_seed(seed, url).ok
    assert run_sql(url, "INSERT INTO authors (name) VALUES ('new') RETURNING id") == [(201,)]
    assert import_seed(seed, url).inserted == 0


def test_usage_on_sequences_is_not_enough_and_says_which_grant_is_missing(
    target: str, seed: Path, loader_role: str
) -> None:
    run_sql(
        target,
        f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {loader_role};"
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {loader_role}",
    )
    with pytest.raises(ConfigError) as caught:
        import_seed(seed, with_user(target, loader_role))
    assert "permission denied for sequence" in caught.value.message
    assert "UPDATE on the sequences" in caught.value.hint
    assert set(counts(target, TABLES).values()) == {0}
    result = invoke_assert_code(
        2,
        "import_seed_to_test",
        *("--database-url", with_user(target, loader_role), "--input-dir", str(seed)),
        *("--verbosity", "quiet"),
    )
    assert "permission denied" in result.stderr


def test_truncate_first_without_the_truncate_grant_is_a_clear_error(
    target: str, seed: Path, loader_role: str
) -> None:
    import_seed(seed, target)
    run_sql(
        target,
        f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {loader_role};"
        f"GRANT SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {loader_role}",
    )
    with pytest.raises(ConfigError) as caught:
        import_seed(seed, with_user(target, loader_role), truncate_first=True)
    assert "permission denied for table" in caught.value.message
    assert "TRUNCATE" in caught.value.hint


def test_deferrable_keys_and_a_deferred_cycle_load_and_reload(target: str, seed: Path) -> None:
    # ON CONFLICT refuses deferrable unique keys as arbiters; SET CONSTRAINTS is not needed
    # for a cycle loaded in one statement, but a deferred one must still be checked.
    run_sql(
        target,
        "ALTER TABLE tickets_b DROP CONSTRAINT tickets_b_pkey;"
        "ALTER TABLE tickets_b ADD PRIMARY KEY (id) DEFERRABLE;"
        "ALTER TABLE ships ADD UNIQUE (captain_id) DEFERRABLE INITIALLY DEFERRED;"
        "ALTER TABLE ships DROP CONSTRAINT ships_captain_id_fkey;"
        "ALTER TABLE ships ADD FOREIGN KEY (captain_id) REFERENCES sailors "
        "DEFERRABLE INITIALLY DEFERRED",
    )
    assert import_seed(seed, target).inserted == sum(len(r) for _, r in seed_rows().values())
    again = import_seed(seed, target)
    assert again.inserted == 0
    assert all(t.already_there == t.in_file for t in again.tables)


def test_verify_reports_a_dangling_declared_key_and_a_missing_row(target: str, seed: Path) -> None:
    import_seed(seed, target)
    run_sql(
        target,
        "ALTER TABLE books DROP CONSTRAINT books_author_id_fkey;"
        "DELETE FROM authors WHERE id = 150;"
        "ALTER TABLE books ADD CONSTRAINT books_author_id_fkey FOREIGN KEY (author_id) "
        "REFERENCES authors NOT VALID",
    )
    result = invoke_assert_code(
        1,
        "import_seed_to_test",
        "--database-url",
        target,
        "--input-dir",
        str(seed),
        "--verify-only",
    )
    lines = result.stdout.splitlines()
    assert any(line.split()[:3] == ["authors", "200", "1"] for line in lines)
    assert any(
        line.startswith("orphans: books: ")
        and "through foreign key books_author_id_fkey finds no row" in line
        for line in lines
    )


def test_verify_costs_the_same_statements_for_more_rows(
    target: str, make_database: Callable[..., str], tmp_path: Path
) -> None:
    small = tmp_path / "small"
    write_fixture(small, seed_rows())
    import_seed(small, target)
    spec = seed_rows()
    columns, _ = spec["authors"]
    spec["authors"] = (columns, [(str(i), f"a{i}", "2024-01-02") for i in range(1, 4001)])
    big = write_fixture(tmp_path / "big", spec)
    other = make_database()
    run_sql(other, SCHEMA)
    import_seed(big, other)
    assert verify_seed(big, other).statements == verify_seed(small, target).statements


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("postgresql://postgres@127.0.0.1:1/genonaut_test", "cannot connect"),
        ("no_such_database_here", "does not exist"),
    ],
)
def test_an_unreachable_server_or_a_missing_database_is_one_line_and_a_hint(
    url: str, fragment: str, target: str, seed: Path
) -> None:
    if "://" not in url:  # a database name on the test server (whose host may be a socket)
        url = make_url(target).set(database=url).render_as_string(hide_password=False)
    result = invoke_assert_code(
        2,
        "import_seed_to_test",
        "--database-url",
        url,
        "--input-dir",
        str(seed),
    )
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Hint: ")
    assert fragment in lines[0]
