"""The Sunday roundup: other Python newsletters' issues of the week, posted to the channel."""
