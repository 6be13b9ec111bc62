"""Publishers for the Telegram channel and X, their formatters and platform limits."""
