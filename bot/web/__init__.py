"""The bot's own HTTP server (aiohttp): the calendar feeds, and Telegram's webhook when the
bot runs in webhook mode. Handlers here are thin: they call a service and write its answer."""
