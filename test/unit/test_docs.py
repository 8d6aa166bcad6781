"""The command reference documents every option of both scripts."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from genonaut.db.demo.seed_data_gen import export_seed_from_demo, import_seed_to_test

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _options(parse: object) -> set[str]:
    captured: list[argparse.ArgumentParser] = []
    original = argparse.ArgumentParser.parse_args

    def grab(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> object:
        captured.append(self)
        raise SystemExit(0)

    argparse.ArgumentParser.parse_args = grab  # type: ignore[method-assign,assignment]
    try:
        with pytest.raises(SystemExit):
            parse([])  # type: ignore[operator]
    finally:
        argparse.ArgumentParser.parse_args = original  # type: ignore[method-assign]
    return {o for action in captured[0]._actions for o in action.option_strings if o != "-h"}


@pytest.mark.parametrize(
    ("module", "section"),
    [
        (export_seed_from_demo, "export_seed_from_demo"),
        (import_seed_to_test, "import_seed_to_test"),
    ],
)
def test_every_option_is_in_the_command_reference(module: object, section: str) -> None:
    text = (DOCS / "cli.md").read_text()
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    documented = set(re.findall(r"`(--[a-z-]+)", text[start : end if end > 0 else None]))
    options = _options(module.parse_args)  # type: ignore[attr-defined]
    assert options - {"--help"} <= documented, sorted(options - documented)
    assert documented <= options, sorted(documented - options)


def test_docs_link_to_files_that_exist() -> None:
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+)\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


@pytest.mark.parametrize(
    ("module", "section"),
    [
        ("genonaut.db.demo.seed_data_gen.__main__", "seed_data_gen"),
        ("genonaut.db.init_db", "init_db"),
    ],
)
def test_the_setup_commands_options_are_in_the_command_reference(module: str, section: str) -> None:
    text = (DOCS / "cli.md").read_text()
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    documented = set(re.findall(r"`(--[a-z-]+)", text[start : end if end > 0 else None]))
    options = _options(importlib.import_module(module).main)
    assert options - {"--help"} == documented, sorted(options ^ documented)


def test_every_make_target_is_in_the_command_reference() -> None:
    makefile = (DOCS.parent / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):[^\n]*## ", makefile, re.MULTILINE))
    text = (DOCS / "cli.md").read_text()
    table = text[text.index("## Make targets") :]
    documented = set(re.findall(r"`make ([a-z-]+)", table))
    # help, install, format, bench and clean explain themselves in `make help`.
    assert targets - {"help", "install", "format", "bench", "clean"} <= documented
    assert documented <= targets


# Flags of other programs that the docs name: mypy's, git's, pytest's and pytest-xdist's.
OTHER_PROGRAMS_FLAGS = {"--strict", "--stat", "--durations", "--ignore", "--fixtures", "--dist"}
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")


def _all_options() -> set[str]:
    from genonaut.db.demo import run_demo

    parsers: list[object] = [export_seed_from_demo.parse_args, import_seed_to_test.parse_args]
    parsers += [
        importlib.import_module(m).main
        for m in ("genonaut.db.demo.seed_data_gen.__main__", "genonaut.db.init_db")
    ]
    parsers.append(run_demo.main)
    parsers += [_bench(name).main for name in ("run_bench", "plugin_bench")]
    return {o for parse in parsers for o in _options(parse)} | _plugin_options()


def _plugin_options() -> set[str]:
    """The command-line options the pytest plugin adds, recorded as it adds them."""
    from genonaut.seed.pytest_plugin import plugin

    class Recorder:
        names: ClassVar[set[str]] = set()

        def getgroup(self, *args: object, **kwargs: object) -> Recorder:
            return self

        def addoption(self, *names: str, **kwargs: object) -> None:
            self.names.update(names)

        def addini(self, *args: object, **kwargs: object) -> None:
            pass

    recorder = Recorder()
    plugin.pytest_addoption(recorder)  # type: ignore[arg-type]
    return recorder.names


def _bench(name: str) -> Any:
    """A benchmark program of bench/, which is no package, loaded from its file."""
    spec = importlib.util.spec_from_file_location(name, DOCS.parent / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def _strings_in_the_code() -> set[str]:
    import ast

    found = set()
    for path in (DOCS.parent / "genonaut").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def test_every_flag_a_doc_or_a_hint_names_exists() -> None:
    options = _all_options() | OTHER_PROGRAMS_FLAGS
    pages = [DOCS.parent / "README.md", *sorted(DOCS.glob("*.md"))]
    for page in pages:
        unknown = set(FLAG.findall(page.read_text())) - options
        assert not unknown, f"{page.name} names {sorted(unknown)}, which no command has"
    unknown = {f for text in _strings_in_the_code() for f in FLAG.findall(text)} - options
    assert not unknown, f"messages in genonaut/ name {sorted(unknown)}, which no command has"


@pytest.mark.parametrize(
    ("module", "argv"),
    [
        (export_seed_from_demo, ["--check", "--output-dir"]),
        (import_seed_to_test, ["--input-dir"]),
    ],
)
def test_a_missing_fixture_directorys_hint_names_the_commands_own_flags(
    module: object, argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hint for a directory without manifest.json, as each script shows it (no database:
    the manifest is read before connecting)."""
    url = "postgresql://nobody@127.0.0.1:1/nothing"
    code = module.main(["--database-url", url, *argv, str(tmp_path)])  # type: ignore[attr-defined]
    hint = capsys.readouterr().err.splitlines()[-1]
    assert code == 2 and hint.startswith("Hint: ")
    own = _options(module.parse_args)  # type: ignore[attr-defined]
    named = set(FLAG.findall(hint))
    assert named and named <= own | {"--output-dir", "--input-dir"}
    assert ("--output-dir" if module is export_seed_from_demo else "--input-dir") in named


def test_a_malformed_assignment_has_a_hint_with_an_example() -> None:
    from genonaut.seed.core.settings import parse_assignment
    from genonaut.seed.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_assignment("users", "--where")
    assert caught.value.hint and "--where 'users=is_active'" in caught.value.hint
