"""Usage providers: one module per provider (HTTP client, payload -> rows, CSV import), plus the shared
sync engine. Providers write through ``storage`` and take their settings as plain arguments."""
