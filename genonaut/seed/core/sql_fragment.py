"""User-written SQL conditions checked before any statement holds them: one expression, no
more.

A condition (`--where`, `--include`, the config file's `where`, `include` and
`virtual_fks[].when`, a manifest relation's `when`) is spliced into a statement inside
parentheses. This module reads it the way PostgreSQL's lexer would (quoted strings, E'' strings,
quoted identifiers, dollar quotes, comments, parentheses) and refuses anything that could reach
outside those parentheses: a `;`, a `)` that closes more than the condition opened, an
unterminated quote, a comment, a parameter, or a clause keyword at the top level
(`true LIMIT 0`, `true UNION SELECT ...`). It does not parse the expression itself: the
database does that, inside the parentheses, where a mistake is a syntax error and nothing else.

The lexer assumes `standard_conforming_strings` is on (a backslash is an ordinary character in
'...'), as every session of this package sets it.
"""

from __future__ import annotations

from genonaut.seed.errors import ConfigError, SeedError

CONDITION_HINT = (
    "write one SQL boolean expression over the table's columns, such as \"status = 'active'\" "
    "or \"id IN (SELECT user_id FROM admins)\": no ';', no comments, balanced parentheses"
)

# Reserved keywords that end an expression and start another clause: at the top level of a
# condition they can only mean that it tries to continue the statement around it. (Unreserved
# ones such as DROP may be column names; without ';' they cannot start a statement anyway.)
_CLAUSE_KEYWORDS = frozenset(
    {
        "union",
        "intersect",
        "except",
        "limit",
        "offset",
        "order",
        "group",
        "having",
        "window",
        "returning",
        "into",
        "fetch",
        "for",
        "on",
        "using",
        "where",
        "from",
        "select",
        "create",
        "grant",
    }
)
# `IS [NOT] DISTINCT FROM` is the one place FROM follows an expression at the top level.
_DISTINCT = "distinct"
_OPEN = {"(": ")", "[": "]"}
_CLOSE = {")": "(", "]": "["}
_MAX_LENGTH = 10_000


def _is_ident_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_" or ord(ch) >= 0x80


def _is_ident_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$" or ord(ch) >= 0x80


class _Refused(Exception):
    """Why a fragment is refused; turned into the caller's SeedError with its source."""


def check_condition(
    text: object,
    source: str,
    *,
    error: type[SeedError] = ConfigError,
    hint: str = CONDITION_HINT,
    plain: bool = False,
) -> str:
    """Return `text` if it is one expression that cannot escape its parentheses; else raise
    `error` naming `source` (a flag, a config file's key, a manifest relation).

    `plain` conditions (a relation's `when`, which travels in manifest.json and runs in verify)
    may also call no function and hold no subquery: they compare the row's columns with values.

    >>> check_condition("kind = 'image'", "--where")
    "kind = 'image'"
    >>> check_condition("true); DROP TABLE film; --", "--where")
    Traceback (most recent call last):
    ...
    genonaut.seed.errors.ConfigError: --where: ...
    """
    if not isinstance(text, str):
        raise error(f"{source}: a condition must be text, not {type(text).__name__}", hint=hint)
    try:
        tokens = _scan(text)
        if plain:
            _check_plain(tokens)
    except _Refused as why:
        shown = text if len(text) <= 120 else text[:117] + "..."
        raise error(f"{source}: condition {shown!r} refused: {why}", hint=hint) from None
    return text


_Token = tuple[str, str, int]  # (kind, text lower-cased, position)


def _scan(text: str) -> list[_Token]:
    """The condition's tokens, once its structure is known to be safe."""
    tokens: list[_Token] = []
    if not text.strip():
        raise _Refused("it is empty")
    if len(text) > _MAX_LENGTH:
        raise _Refused(f"it is longer than {_MAX_LENGTH} characters")
    if "\0" in text:
        raise _Refused("it holds a NUL character")
    stack: list[str] = []
    previous = ""  # the last word seen at the top level, lower-cased
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch.isspace():
            i += 1
        elif (ch == "-" and nxt == "-") or (ch == "/" and nxt == "*"):
            raise _Refused(f"a comment starts at character {i + 1}")
        elif ch == ";":
            raise _Refused(f"';' at character {i + 1} would end the statement")
        elif ch == "'":
            tokens.append(("string", "", i))
            i = _string(text, i, backslash=False)
            previous = ""
        elif ch == '"':
            tokens.append(("name", "", i))
            i = _quoted_identifier(text, i)
            previous = ""
        elif ch == "$":
            tokens.append(("string", "", i))
            i = _dollar(text, i)
            previous = ""
        elif ch in _OPEN:
            tokens.append(("open", ch, i))
            stack.append(ch)
            i += 1
            previous = ""
        elif ch in _CLOSE:
            if not stack or stack[-1] != _CLOSE[ch]:
                raise _Refused(
                    f"{ch!r} at character {i + 1} closes a bracket the condition did not open"
                )
            stack.pop()
            tokens.append(("close", ch, i))
            i += 1
            previous = ""
        elif _is_ident_start(ch):
            start = i
            while i < n and _is_ident_char(text[i]):
                i += 1
            word = text[start:i].lower()
            if i < n and text[i] == "'" and word in ("e", "b", "x", "n"):
                tokens.append(("string", "", start))
                i = _string(text, i, backslash=word == "e")
                previous = ""
                continue
            if word == "u" and text[i : i + 2] in ("&'", '&"'):
                quoted = text[i + 1] == "'"
                tokens.append(("string" if quoted else "name", "", start))
                i = (
                    _string(text, i + 1, backslash=False)
                    if quoted
                    else _quoted_identifier(text, i + 1)
                )
                previous = ""
                continue
            if (
                not stack
                and word in _CLAUSE_KEYWORDS
                and not (word == "from" and previous == _DISTINCT)
            ):
                raise _Refused(
                    f"{text[start:i].upper()} at character {start + 1} starts another clause"
                )
            tokens.append(("word", word, start))
            previous = word
        elif ch.isdigit() or (ch == "." and nxt.isdigit()):
            tokens.append(("number", "", i))
            while i < n and (_is_ident_char(text[i]) or text[i] == "."):
                i += 1
            previous = ""
        elif ch == "\\":
            raise _Refused(f"a backslash at character {i + 1} is not SQL")
        else:
            tokens.append(("op", ch, i))  # an operator character or a comma
            i += 1
            previous = ""
    if stack:
        raise _Refused(f"{len(stack)} bracket(s) opened and never closed")
    return tokens


# Words that may stand before "(" in a plain condition: keywords, not functions.
_PLAIN_CALLS = frozenset(
    {"in", "any", "all", "some", "not", "and", "or", "is", "row", "cast", "coalesce", "nullif"}
    | {"greatest", "least", "between", "like", "ilike", "similar", "when", "then", "else", "as"}
)
_PLAIN_REFUSED = frozenset({"select", "from", "with", "values", "table", "exists", "lateral"})


def _check_plain(tokens: list[_Token]) -> None:
    """Refuse what a plain condition on one row needs not: a function call (a name before
    "("; a type's modifier after "::" or AS is no call) and a subquery."""
    for k, (kind, word, position) in enumerate(tokens):
        is_distinct_from = word == "from" and k > 0 and tokens[k - 1][1] == _DISTINCT
        if kind == "word" and word in _PLAIN_REFUSED and not is_distinct_from:
            raise _Refused(f"{word.upper()} at character {position + 1}: no subqueries here")
        is_call = (
            kind in ("word", "name")
            and k + 1 < len(tokens)
            and tokens[k + 1][:2] == ("open", "(")
            and word not in _PLAIN_CALLS
        )
        after_cast = k >= 2 and tokens[k - 1][1] == tokens[k - 2][1] == ":"
        after_as = k >= 1 and tokens[k - 1][:2] == ("word", "as")
        if is_call and not (after_cast or after_as):
            raise _Refused(f"a function call at character {position + 1}: no calls here")


def _string(text: str, start: int, *, backslash: bool) -> int:
    """The index after the string literal opening at `start` ('...', or E'...' when
    `backslash`); `''` is a quote inside it."""
    i, n = start + 1, len(text)
    while i < n:
        ch = text[i]
        if backslash and ch == "\\":
            i += 2
        elif ch == "'":
            if i + 1 < n and text[i + 1] == "'":
                i += 2
            else:
                return i + 1
        else:
            i += 1
    raise _Refused(f"the string opened at character {start + 1} is never closed")


def _quoted_identifier(text: str, start: int) -> int:
    i, n = start + 1, len(text)
    while i < n:
        if text[i] == '"':
            if i + 1 < n and text[i + 1] == '"':
                i += 2
            else:
                if i == start + 1:
                    raise _Refused(f'an empty quoted name "" at character {start + 1}')
                return i + 1
        else:
            i += 1
    raise _Refused(f"the quoted name opened at character {start + 1} is never closed")


def _dollar(text: str, start: int) -> int:
    """`$tag$ ... $tag$` (or `$$ ... $$`); a parameter ($1) or a stray `$` is refused."""
    i, n = start + 1, len(text)
    if i < n and text[i].isdigit():
        raise _Refused(f"a parameter ${text[i]} at character {start + 1}")
    if i < n and _is_ident_start(text[i]):
        while i < n and _is_ident_char(text[i]) and text[i] != "$":
            i += 1
    if i >= n or text[i] != "$":
        raise _Refused(f"a stray '$' at character {start + 1}")
    tag = text[start : i + 1]
    end = text.find(tag, i + 1)
    if end < 0:
        raise _Refused(f"the dollar quote {tag} opened at character {start + 1} is never closed")
    return end + len(tag)
