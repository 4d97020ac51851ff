"""Built-in lmms plugins."""
