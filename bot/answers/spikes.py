"""Spike alert messages (pure block builders): the person hears it first and privately, framed as
information about their own usage, never as blame; the admins' summary is one message per run."""

from __future__ import annotations

from collections.abc import Sequence

from bot.answers.blocks import Block, context, escape, section
from bot.answers.common import money, short_day
from storage.analytics.unusual import UnusualSpend


def spike_dm_blocks(spike: UnusualSpend, *, factor: float) -> list[Block]:
    return [
        section(
            f"Heads-up: your AI coding usage on {short_day(spike.date)} came to *{money(spike.cost_usd)}*, "
            f"{spike.ratio:g}× your usual day ({money(spike.usual_cost_usd)}, the median of your active days "
            "in the four weeks before)."
        ),
        context(
            f"Only you get this note (days above {factor:g}× your usual and above a floor). "
            "If it was a big task, all good; `/abacus me 7d` shows the detail."
        ),
    ]


def spike_summary_blocks(spikes: Sequence[UnusualSpend], *, named: bool) -> list[Block]:
    if not named:
        return [section(f"{len(spikes)} people had a day well above their usual spend; each was told privately.")]
    lines = [
        f"{escape(s.email.split('@')[0])} {money(s.cost_usd)} on {short_day(s.date)} ({s.ratio:g}× usual)"
        for s in spikes[:30]
    ]
    return [section("*Spend spikes* (each person was told privately)\n" + "\n".join(lines))]
