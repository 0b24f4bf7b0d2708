"""The Telegram edge: the python-telegram-bot application, its handlers, chat formatting and
rate limits."""
