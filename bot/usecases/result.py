"""What a use case hands back: an answer (text, blocks, charts, files), ready for any delivery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.answers.blocks import Block, escape, problem_blocks, section
from charts.data import Chart


class ChartFile:
    """A chart of an answer, drawn when it is first needed.

    Drawing a chart takes longer than the query behind it (150-270 ms for a 30-day overview), so the
    answer carries what to draw and the Slack delivery shows the numbers first; the CLI and `abacus ask`
    draw it only when asked for the picture.
    """

    __slots__ = ("_chart", "_draw", "filename", "title")

    def __init__(self, draw: Callable[[], Chart], filename: str, title: str) -> None:
        self._draw: Callable[[], Chart] | None = draw
        self._chart: Chart | None = None
        self.filename = filename
        self.title = title

    @property
    def chart(self) -> Chart:
        if self._chart is None:
            assert self._draw is not None
            self._chart, self._draw = self._draw(), None
        return self._chart

    @property
    def png(self) -> bytes:
        return self.chart.png

    @property
    def alt_text(self) -> str:
        return self.chart.alt_text


@dataclass(frozen=True, slots=True)
class ExportFile:
    """A file for the asker's DM (a CSV export): private data never goes to a channel."""

    content: bytes
    filename: str
    title: str


@dataclass(frozen=True, slots=True)
class Answer:
    text: str  # notification and screen-reader fallback
    blocks: list[Block]
    charts: list[ChartFile] = field(default_factory=list)
    public: bool = False
    files: list[ExportFile] = field(default_factory=list)
    # A form to open instead of a message (Slack opens it as a modal; `abacus ask` prints it as text).
    modal: dict[str, Any] | None = None


def say(markdown: str) -> Answer:
    """``markdown``: with every outside string in it escaped. The text fallback is the section's own text,
    so it is within Slack's limits and escaped too."""
    block = section(markdown)
    return Answer(block["text"]["text"], [block])


def problems(found: tuple[str, ...] | list[str], usage: str) -> Answer:
    return Answer(escape(" ".join(found), limit=1_000), problem_blocks(found, usage))
