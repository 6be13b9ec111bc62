"""Running it: start checks, the dry run, database upkeep, the offline demo."""
