"""The command reference documents every option of both scripts."""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

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
