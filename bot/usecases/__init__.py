"""The use cases: one module per feature, each answering one `/abacus` command (and its CLI counterpart).

A use case takes a typed request and a :class:`~bot.usecases.context.Context` (settings, database, clock, who
is asking, and what Slack can be asked, if anything) and returns an :class:`~bot.usecases.result.Answer`:
numbers turned into pure blocks and text, charts to draw and files to send. It never holds a Slack client or
click: the Slack listeners, `abacus ask`, `abacus report`, the digest job and App Home call the same
functions, and ``bot.usecases.dispatch`` maps a parsed command to its use case in one explicit table.
"""
