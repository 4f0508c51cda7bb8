"""Telegram-free domain services: the rules, exercised by unit tests without a bot."""
