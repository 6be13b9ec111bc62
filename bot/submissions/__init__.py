"""Links sent by readers: the safe link preview (validation lives in `bot.domain.urls`)."""
