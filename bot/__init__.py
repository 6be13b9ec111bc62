"""weeklybot: wiring, CLI and settings at the top; one subpackage per capability."""
