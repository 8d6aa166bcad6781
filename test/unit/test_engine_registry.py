"""The registry of engines: a URL's scheme picks the engine package; others are refused."""

from __future__ import annotations

import pytest

from genonaut.seed.engines import SCHEMES, engine_for, package_for, scheme_of
from genonaut.seed.errors import ConfigError


@pytest.mark.parametrize(
    ("url", "package"),
    [
        ("postgresql://app@db/genonaut_demo", "postgres"),
        ("postgres://app@db/genonaut_demo", "postgres"),
        ("postgresql+psycopg2://app@db:6543/t", "postgres"),
        ("host=db dbname=demo user=app", "postgres"),
        ("mysql://root@127.0.0.1:3306/shop", "mariadb"),
        ("mariadb://root@127.0.0.1/shop", "mariadb"),
        ("mysql+pymysql://root@127.0.0.1/shop", "mariadb"),
        ("mariadb+pymysql://root@localhost/shop?unix_socket=/run/mysqld.sock", "mariadb"),
        ("sqlite:///test/seed.db", "sqlite"),
        ("SQLite:////tmp/seed.db", "sqlite"),
    ],
)
def test_each_scheme_names_its_engine(url: str, package: str) -> None:
    assert package_for(url) == package


@pytest.mark.parametrize("url", ["oracle://db/x", "mssql+pyodbc://db/x", "sqlite3:///x.db"])
def test_an_unknown_scheme_is_refused_naming_the_schemes(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        package_for(url)
    assert caught.value.message == f"no engine serves {scheme_of(url)}:// URLs"
    assert all(f"{scheme}://" in caught.value.hint for scheme in SCHEMES)


@pytest.mark.parametrize(
    ("url", "name"),
    [("postgresql://db/x", "postgresql"), ("mysql://db/x", "mariadb"), ("sqlite:///x", "sqlite")],
)
def test_each_adapter_serves_the_schemes_that_name_it(url: str, name: str) -> None:
    engine = engine_for(url)
    assert engine.name == name
    assert scheme_of(url) in engine.schemes
    assert set(engine.schemes) == {s for s, p in SCHEMES.items() if p == package_for(url)}
