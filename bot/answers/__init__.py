"""Pure Block Kit builders, one module per kind of answer: typed query results in, blocks out."""
