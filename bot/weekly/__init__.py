"""Watching the weekly: sources, ingest, previews and decisions, planning, the alarm."""
