"""Watched sources of new issues: the git repository (canonical) and RSS/Atom feeds."""
