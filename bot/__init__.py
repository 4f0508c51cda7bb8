"""NextStep: the Telegram assistant for B2B account managers."""
