"""Messages the scheduled jobs send (digests, budget alerts, spike alerts), and who delivers them.

Each job first works out what to say to whom (a :class:`Message`, built without Slack) and then hands it
to an :class:`Outbox`; ``bot.slack.outbox`` is the one that posts to Slack. Claims that a message goes out
only once stay with the job, around the delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.answers.blocks import Block
from bot.usecases.result import ChartFile


@dataclass(frozen=True, slots=True)
class Message:
    """To a channel (``channel``), or privately to a person (``user_id``, or ``email`` when only that is known)."""

    text: str  # notification and screen-reader fallback
    blocks: list[Block] = field(default_factory=list)
    channel: str = ""
    user_id: str = ""
    email: str = ""
    chart: ChartFile | None = None  # uploaded in the message's thread once the message is posted


@dataclass(frozen=True, slots=True)
class Sent:
    ts: str  # the posted message's timestamp
    chart_error: str | None = None  # the message went out, its chart did not


class Undelivered(Exception):
    """The message did not go out. ``error``: the chat service's own error code (``not_in_channel``)."""

    def __init__(self, error: str, *, step: str) -> None:
        super().__init__(f"{step}: {error}")
        self.error = error
        self.step = step  # the call that failed, such as chat.postMessage


class Outbox(Protocol):
    def send(self, message: Message) -> Sent:
        """Deliver ``message``; raises Undelivered."""
        ...
