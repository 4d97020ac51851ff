"""Where the scoring benchmark's scalar per video comes from (`source=`):

- `sig`: the SIG overall score, the same aggregation of the selected scorers that `s2i generate` writes;
- `scorer`: one scorer plugin's score (`scorer=<name>`), e.g. a learned scorer that loads local weights;
- `lmm`: a tuned video LMM (`model=<checkpoint dir>`), softmax-weighted over the five level tokens.
"""

from __future__ import annotations

from pathlib import Path

from s2i_core.errors import ConfigError, VideoError
from s2i_core.scoring import score_video

SOURCES = ("sig", "scorer", "lmm")


def dimension_scores(path, scorers) -> dict[str, float]:
    """{dimension: score} of one video, scored as `s2i generate` scores it; a video that cannot be scored
    raises VideoError with the kind and message its errors.jsonl row would carry."""
    row = score_video(path, scorers)
    if not row["ok"]:
        raise VideoError(str(path), row["error"], row["message"].removeprefix(f"{path}: "))
    return {dim: node["score"] for dim, node in row["scores"].items()}


def sig_overall(path, scorers, aggregation) -> float:
    return aggregation.overall_score(aggregation.group_scores(dimension_scores(path, scorers)))


def build_predictor(cfg, registry):
    """A callable: list of video paths -> list of scalar predictions (higher is better)."""
    source = cfg.source
    if source == "sig":
        from s2i_core.sig.aggregation import Aggregation

        scorers = [registry.build("scorer", node) for node in cfg.scorers.values()]
        if not scorers:
            raise ConfigError("source=sig needs scorers: use scorers=default or scorers=[name,...]")
        aggregation = Aggregation.from_config(cfg.aggregation)
        return lambda paths: [sig_overall(p, scorers, aggregation) for p in paths]
    if source == "scorer":
        if not cfg.scorer:
            installed = ", ".join(registry.names("scorer"))
            raise ConfigError(f"source=scorer needs scorer=<name>; installed: {installed}")
        node = cfg.scorers.get(cfg.scorer, cfg.scorer)  # the selected node (with its options), else the name
        scorer = registry.build("scorer", node)
        return lambda paths: [dimension_scores(p, [scorer])[scorer.dimension] for p in paths]
    if source == "lmm":
        if not cfg.model:
            raise ConfigError("source=lmm needs model=<directory written by s2i train>")
        if not Path(cfg.model).exists():
            raise ConfigError(f"model {cfg.model!r} does not exist")
        return lmm_predictor(cfg.model, registry)
    raise ConfigError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")


def lmm_predictor(path_or_cfg, registry, **options):
    """Level-token scoring with a video LMM: a model folder written by `s2i train`, or an `lmm` config node
    (an untrained model built from config: the reproduction's baseline).

    The question and the answer prefix are those of the overall item that `s2i generate` trains on (stage I),
    so the level-word probabilities are read exactly where the tuned model learned to put the level.
    """
    from s2i_core.lmm.inference import load_scorer
    from s2i_core.prompts import SCORE_ANSWER_PREFIX, SCORE_QUESTION

    options = {"question": SCORE_QUESTION, "answer_prefix": SCORE_ANSWER_PREFIX, **options}
    scorer = load_scorer(path_or_cfg, registry, **options)
    return lambda paths: [float(v) for v in scorer.score([str(p) for p in paths])]
