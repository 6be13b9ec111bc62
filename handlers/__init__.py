"""Thin Telegram handlers: parse a command, call the core, reply."""
