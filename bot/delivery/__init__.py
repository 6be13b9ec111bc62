"""Taking outbox rows to the platforms: one worker per target, and the wake-up jobs."""
