"""Built-in judges plugins."""
