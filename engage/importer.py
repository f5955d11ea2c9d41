"""`engage members import FILE.csv`: enrol each row like the API would, one transaction per row.

A bad row is reported with its line number and does not stop the others; a member whose
external_id already exists is skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from marshmallow import ValidationError

from engage.db import Database
from engage.errors import Conflict, EngageError

COLUMNS = ("external_id", "first_name", "last_name", "email", "phone", "locale", "timezone",
           "sms_consent", "email_consent")
REQUIRED = ("external_id", "first_name")
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": False}


class ImportFileError(Exception):
    """The file cannot be read as a members CSV at all (one line saying why)."""


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]
    problem: str | None = None  # the row cannot even be read as a member


@dataclass
class ImportReport:
    imported: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def read(path: Path) -> list[Row]:
    """The rows of a members CSV, each with the line it starts on."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            return list(_rows(file))
    except UnicodeDecodeError:
        raise ImportFileError(f"{path} is not UTF-8 text") from None
    except csv.Error as error:
        raise ImportFileError(f"{path}: {error}") from None


def _rows(file) -> Iterator[Row]:
    reader = csv.reader(file)
    header = [name.strip().lower() for name in next(reader, [])]
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing:
        problem = f"unknown columns {unknown}" if unknown else f"missing columns {missing}"
        raise ImportFileError(f"{problem}; the header may hold {', '.join(COLUMNS)}")
    start = reader.line_num + 1
    for cells in reader:
        if len(cells) != len(header) and any(cell.strip() for cell in cells):
            yield Row(start, {}, f"expected {len(header)} fields, found {len(cells)}")
        elif any(cell.strip() for cell in cells):
            yield Row(start, dict(zip(header, (cell.strip() for cell in cells))))
        start = reader.line_num + 1


def member_data(values: dict[str, str]) -> dict:
    """The API's member-create payload for one row (ValidationError when a value is wrong)."""
    from engage.api.schemas import MemberCreateSchema

    consent = {channel: _boolean(f"{channel}_consent", values.get(f"{channel}_consent", ""))
               for channel in ("sms", "email")}
    payload = {name: values.get(name) or None for name in COLUMNS[:7] if name in values}
    return MemberCreateSchema().load({**payload, "consent": consent})


def _boolean(name: str, value: str) -> bool:
    if value.lower() not in BOOLEANS:
        raise ValidationError({name: [f"expected true/false/1/0/yes/no, got {value!r}"]})
    return BOOLEANS[value.lower()]


def _reason(error: ValidationError) -> str:
    messages = error.messages if isinstance(error.messages, dict) else {"row": error.messages}
    return "; ".join(f"{name}: {' '.join(_flat(text))}" for name, text in messages.items())


def _flat(messages) -> list[str]:
    if isinstance(messages, dict):
        return [f"{key}: {' '.join(_flat(value))}" for key, value in messages.items()]
    return [str(message) for message in messages] if isinstance(messages, list) else [str(messages)]


def import_members(database: Database, rows: list[Row], now: datetime,
                   progress: Callable[[int], None] | None = None) -> ImportReport:
    """Enrol each row through the members service; report what was imported, skipped, failed."""
    from engage.services.members import enrol

    report = ImportReport()
    with database.session() as session:
        for row in rows:
            try:
                if row.problem:
                    raise EngageError(row.problem)
                enrol(session, member_data(row.values), now)
                report.imported += 1
            except Conflict as error:
                report.skipped.append((row.line, error.message))
            except ValidationError as error:
                report.failed.append((row.line, _reason(error)))
            except EngageError as error:
                report.failed.append((row.line, error.message))
            if progress:
                progress(1)
    return report
