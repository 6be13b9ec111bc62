"""What the editors see: the cards that ask for a decision, and the notices."""
