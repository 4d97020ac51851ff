"""Built-in plugins of score2instruct (importable as `s2i_plugins`), registered through the `s2i` entry points."""
