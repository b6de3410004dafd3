"""Work the bot does of its own accord, outside any chat: planning reminders and digests and
releasing scheduled announcements. The worker (bot/worker.py) runs it; it writes deliveries,
which the dispatcher sends."""
