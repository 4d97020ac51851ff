"""Video LMMs: adapters (one per model family), preprocessing, progressive tuning and inference.

Entry points: `s2i_core.lmm.trainer.train(cfg, output_dir, registry)` and
`s2i_core.lmm.inference.load_scorer(path, registry)`.
Heavy libraries (torch, transformers, peft, deepspeed) are imported inside functions.
"""
