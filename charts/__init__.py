"""Chart rendering: plain numbers in, PNG bytes (with alt text) out.

Imports nothing else of Abacus. Every renderer builds its own ``matplotlib.figure.Figure`` on an Agg canvas
(never pyplot, whose global state is not thread-safe), so Slack listeners and the scheduler can render at
the same time; fonts, sizes and PNG metadata are fixed, so the same data always gives the same bytes.
"""
