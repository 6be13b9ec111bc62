"""Storage: schema, migrations and the store. The only place that writes SQL."""
