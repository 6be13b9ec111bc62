"""Strict local fakes of the Telegram Bot API and the X API, for tests and the demo."""
