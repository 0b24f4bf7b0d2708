"""Every edge of newsdesk: settings, CLI, HTTP API and Telegram bot."""
