"""The one table a fault run prints, and what makes it fail."""

from __future__ import annotations

from dataclasses import dataclass, field

COLUMNS = ("scenario", "messages", "sent once", "duplicates", "lost", "unknown left", "kills", "seconds",
           "reconciled", "bad answers")


@dataclass
class Row:
    scenario: str
    messages: int  # outbox messages, or writes (purchases and inbound SMS) for the outage
    sent_once: int
    duplicates: int
    lost: int
    unknown_left: int
    kills: int
    seconds: float
    reconciled: int = 0  # ambiguous attempts settled with the provider
    bad_answers: int = 0  # outage: HTTP answers other than 2xx or 503
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.lost or self.unknown_left or self.bad_answers or self.problems
                    or self.sent_once != self.messages)

    def cells(self) -> list[str]:
        return [self.scenario, str(self.messages), str(self.sent_once), str(self.duplicates), str(self.lost),
                str(self.unknown_left), str(self.kills), f"{self.seconds:.1f}", str(self.reconciled),
                str(self.bad_answers)]


def table(rows: list[Row]) -> str:
    cells = [list(COLUMNS)] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths)))
             for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for row in rows:
        lines += [f"{row.scenario}: {problem}" for problem in row.problems]
    return "\n".join(lines)
