"""What a seed template is made from (a schema source and a fixture directory), and its name.

The name carries a hash of everything that goes into the template, so a changed fixture file,
schema, package version or server major version gives a new template and an unchanged one is
found again by the next session.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from genonaut.seed.engines.postgres.connection import connect_plain
from genonaut.seed.engines.postgres.templates import PREFIX
from genonaut.seed.errors import ConfigError

# The app's own schema: `create_schema(url)` of genonaut/db/init_db.py.
APP_SCHEMA = "genonaut.db.init_db:create_schema"


@dataclass(frozen=True)
class SchemaSource:
    """How to create the schema: a SQL file, or a function `f(url)` named `module:function`.

    >>> SchemaSource.parse("app", Path(".")).spec
    'genonaut.db.init_db:create_schema'
    """

    spec: str
    sql_file: Path | None = None

    @classmethod
    def parse(cls, text: str, root: Path) -> SchemaSource:
        text = text.strip()
        if text in ("", "app"):
            return cls(APP_SCHEMA)
        if text.endswith(".sql"):
            path = (root / text).resolve()
            if not path.is_file():
                raise ConfigError(
                    f"seed schema file {path} does not exist",
                    hint="set seed_schema (ini), --seed-schema or GENONAUT_SEED_SCHEMA to a SQL "
                    "file, to module:function, or to 'app' for the app's schema",
                )
            return cls(str(path), path)
        if ":" not in text:
            raise ConfigError(
                f"seed schema {text!r} is neither a .sql file nor module:function",
                hint="for example: --seed-schema schema.sql or --seed-schema myapp.db:create_all",
            )
        return cls(text)

    def function(self) -> Callable[[str], object]:
        module_name, _, attribute = self.spec.partition(":")
        try:
            module = importlib.import_module(module_name)
            found: Callable[[str], object] = getattr(module, attribute)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"cannot load the seed schema function {self.spec}: {exc}",
                hint="name a function that takes a database URL, as module:function",
            ) from exc
        return found

    def digest(self) -> bytes:
        """A SQL file's bytes; for a function, the source files of the package that holds it
        (the app's create_schema sits beside the models it creates)."""
        if self.sql_file is not None:
            return self.sql_file.read_bytes()
        source = inspect.getsourcefile(self.function())
        if source is None:
            return self.spec.encode()
        hashed = hashlib.sha256(self.spec.encode())
        for path in sorted(Path(source).parent.glob("*.py")):
            hashed.update(path.name.encode() + b"\0" + path.read_bytes())
        return hashed.digest()

    def create(self, url: str) -> None:
        """Create the schema in the (empty) database at `url`."""
        if self.sql_file is None:
            self.function()(url)
            return
        conn = connect_plain(url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(self.sql_file.read_text(encoding="utf-8"))
        finally:
            conn.close()


def directory_digest(directory: Path) -> bytes:
    """A hash of every file in a fixture directory (the manifest and each TSV), by name."""
    if not directory.is_dir():
        raise ConfigError(
            f"seed fixture directory {directory} does not exist",
            hint="set seed_fixtures (ini), --seed-fixtures or GENONAUT_SEED_FIXTURES to the "
            "directory the exporter wrote",
        )
    hashed = hashlib.sha256()
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        hashed.update(path.name.encode() + b"\0" + path.read_bytes())
    return hashed.digest()


def package_version() -> str:
    try:
        return importlib.metadata.version("genonaut")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def template_key(schema: SchemaSource, fixtures: Path, server_major: int) -> str:
    """The hex hash that names a template: schema, fixture files, package and server version."""
    hashed = hashlib.sha256()
    for part in (
        schema.spec.encode(),
        schema.digest(),
        directory_digest(fixtures),
        package_version().encode(),
        str(server_major).encode(),
    ):
        hashed.update(len(part).to_bytes(8, "big") + part)
    return hashed.hexdigest()


def family_of(schema: SchemaSource, fixtures: Path) -> str:
    """Templates of one family (same schema source and fixture directory) replace each other."""
    spec = f"{schema.spec}|{fixtures.resolve()}"
    return hashlib.sha256(spec.encode()).hexdigest()[:12]


def template_name(key: str) -> str:
    return f"{PREFIX}t_{key[:24]}"


def layer_key(base_key: str, layer: str, content: bytes) -> str:
    return hashlib.sha256(f"{base_key}|{layer}|".encode() + content).hexdigest()


def layer_name(key: str, layer: str) -> str:
    clean = "".join(c if c.isalnum() else "_" for c in layer.lower())[:16]
    return f"{PREFIX}l_{clean}_{key[:16]}"
