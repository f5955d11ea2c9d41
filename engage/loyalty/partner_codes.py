"""A partner's codes as delivered (a CSV file or a JSON list): which are usable, which repeat,
which are not codes at all. Nothing here knows what is already in the pool."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

MAX_LENGTH = 32  # what a redemption's coupon_code holds
# Printable ASCII without spaces: what a member can type at a checkout.
CODE = re.compile(r"^[!-~]{1,%d}$" % MAX_LENGTH)
MAX_CODES = 100_000  # one upload or file; larger pools come in several


@dataclass
class CodeList:
    """`codes`: (line, code) to import, each once; `repeated`: (line, the line it first came on);
    `problems`: (line, why the row is no code)."""

    codes: list[tuple[int, str]] = field(default_factory=list)
    repeated: list[tuple[int, int]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


def problem(text: str) -> str | None:
    """Why `text` cannot be a code, or None."""
    if not text:
        return "empty code"
    if len(text) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    if not CODE.match(text):
        return "only printable ASCII without spaces"
    return None


def check(rows: list[tuple[int, str]]) -> CodeList:
    """Sort numbered codes into usable, repeated (kept once) and bad ones."""
    found, first_line = CodeList(), {}
    for line, text in rows:
        why = problem(text)
        if why:
            found.problems.append((line, why))
        elif text in first_line:
            found.repeated.append((line, first_line[text]))
        else:
            first_line[text] = line
            found.codes.append((line, text))
    if len(found.codes) > MAX_CODES:
        found.problems.append((found.codes[MAX_CODES][0], f"more than {MAX_CODES} codes in one import"))
    return found


def from_list(codes: list[str]) -> CodeList:
    """A JSON list: its positions (from 1) stand for lines."""
    return check([(position, code.strip()) for position, code in enumerate(codes, start=1)])


def from_csv(text: str) -> CodeList:
    """A CSV with a `code` column (other columns are ignored), or one code per line without a
    header; blank lines are skipped."""
    try:
        rows = [(reader_line, row) for reader_line, row in _numbered(text) if any(cell.strip() for cell in row)]
    except csv.Error as error:
        return CodeList(problems=[(0, f"not a CSV file: {error}")])
    if not rows:
        return CodeList(problems=[(0, "no codes in the file")])
    header = [cell.strip().lower() for cell in rows[0][1]]
    if "code" in header:
        column, rows = header.index("code"), rows[1:]
    elif len(header) == 1:
        column = 0
    else:
        return CodeList(problems=[(rows[0][0], "no `code` column in the header")])
    return check([(line, row[column].strip() if column < len(row) else "") for line, row in rows])


def _numbered(text: str):
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for row in reader:
        yield reader.line_num, row
