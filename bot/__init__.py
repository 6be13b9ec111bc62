"""weeklybot core: config, domain types, parser, sources, scheduling, wiring, CLI."""
