"""Everything that talks to Slack: the Bolt app and listeners, the user directory, delivery of answers and of
the scheduled jobs' messages, user groups, the mapping form and the doctor's Slack checks. Data is reached
only through ``bot.usecases``."""
