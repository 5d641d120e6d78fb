"""Pure Block Kit builders, one module per kind of answer: typed query results in, blocks out. No Slack
library: the use cases build these, and ``bot.slack`` only delivers them."""
