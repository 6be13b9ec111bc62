"""Keyword alerts: a reader follows words, and hears once when a new issue or an
extra-edition post has items that match them (`match` is the pure rule, `service` the
triggers and the messages, `data.alerts` the readers' words)."""
