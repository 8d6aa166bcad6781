"""What the scripts show: one live line per phase on a terminal, a line per table in a log,
only the result when quiet."""

from __future__ import annotations

import argparse
import io

from genonaut.seed.cli import INTERRUPTED, Output


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _args(verbosity: str) -> argparse.Namespace:
    return argparse.Namespace(verbosity=verbosity)


def _feed(output: Output) -> None:
    output.update("choose rows", "1 tables, users: 100", log=False)
    output.update("choose rows", "2 tables, posts: 100", log=False)
    output.update("write", "1/2 users: 120 rows")
    output.update("write", "2/2 posts: 100 rows")
    output.end()


def test_a_terminal_gets_one_line_per_phase_rewritten_in_place() -> None:
    stream = Terminal()
    _feed(Output(_args("info"), stream))
    lines = stream.getvalue().split("\n")
    # Two phases, two lines; within each, each update starts by clearing the line.
    assert len(lines) == 3 and lines[2] == ""
    assert lines[0].count("\r\033[K") == 2 and lines[0].endswith(
        "choose rows: 2 tables, posts: 100"
    )
    assert lines[1].endswith("write: 2/2 posts: 100 rows")


def test_a_log_gets_one_line_per_table_and_quiet_gets_none() -> None:
    log = io.StringIO()
    _feed(Output(_args("info"), log))
    assert log.getvalue() == "  write: 1/2 users: 120 rows\n  write: 2/2 posts: 100 rows\n"
    quiet = Terminal()
    _feed(Output(_args("quiet"), quiet))
    assert quiet.getvalue() == ""


def test_quiet_reports_the_result_line_alone(capsys: object) -> None:
    Output(_args("quiet"), io.StringIO()).report("table\n---\nresult", "result")
    Output(_args("info"), io.StringIO()).report("table\n---\nresult", "result")
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert out == "result\ntable\n---\nresult\n"


def test_an_interruption_is_one_line_and_exit_130() -> None:
    stream = Terminal()
    output = Output(_args("info"), stream)
    output.update("import", "3/28 users")
    assert output.interrupted("nothing was written") == INTERRUPTED == 130
    assert stream.getvalue().endswith("users\ninterrupted: nothing was written\n")
