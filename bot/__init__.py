"""The Abacus application: settings, the `abacus` CLI, the Slack app and the scheduler.

The only package that reads the environment or talks to Slack; it hands plain values down to
``providers``, ``storage`` and ``charts``.
"""
