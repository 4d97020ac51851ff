"""Hydra configs of score2instruct (importable as `s2i_conf`; Hydra reads them via pkg://s2i_conf)."""
