"""One module per `abacus` command or command group."""
