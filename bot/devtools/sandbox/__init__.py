"""A fake Telegram Bot API server, validated against the official spec, for tests."""
