"""The bot's own HTTP side (issue 16): Telegram webhook mode, GitHub's push hook,
/healthz and /metrics. See ARCHITECTURE.md, "Webhooks, health and metrics"."""
