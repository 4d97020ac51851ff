"""Self-validation of the scorers on distortion ladders (`s2i validate`): L, D, P and cross-talk tests."""
