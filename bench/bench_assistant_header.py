"""Level-token scoring after the generation prompt vs after the header training saw.

LLaVA-OneVision's official chat template trains on `<|im_start|>assistant \\n<answer>` but its generation prompt
is `<|im_start|>assistant\\n`. The scorer reads the level word after the generation prompt plus the answer
prefix; this script scores the same clips both ways with a tuned model and prints how far the level
probabilities and the scores move.

    python bench/bench_assistant_header.py MODEL_DIR VIDEO [VIDEO ...]

MODEL_DIR: a `s2i train` output's `model/` folder (any family; for the Qwen families both headers are equal).
"""

from __future__ import annotations

import sys
from pathlib import Path


def training_header_ids(scorer) -> list[int]:
    """The prompt tokens exactly as training tokenized them: everything before the answer segment."""
    from s2i_core.lmm import data as D

    messages = D.to_messages([{"from": "human", "value": "<video>" + scorer.question},
                              {"from": "gpt", "value": f"{scorer.answer_prefix} bad"}])
    before = "".join(text for text, is_answer in D.render_segments(scorer.tokenizer, messages) if not is_answer)
    return scorer.tokenizer(before, add_special_tokens=False)["input_ids"]


def probabilities_after(scorer, videos, header: list[int]) -> list[list[float]]:
    import torch

    from s2i_core.lmm import data as D

    rows = []
    for video in videos:
        marker = scorer.adapter.marker_ids(scorer.tokenizer)
        ids, _ = D.splice(header, [D.IGNORE] * len(header), marker, video.tokens)
        example = {"input_ids": ids + scorer.prefix_ids, "video": video}
        batch = D.collate(scorer.adapter, scorer.tokenizer, [example], left_pad=True)
        batch.pop("labels")
        with torch.no_grad():
            logits = scorer.model(**{k: v.to(scorer.device) for k, v in batch.items()}, logits_to_keep=1).logits
        rows.append(torch.softmax(logits[0, -1, scorer.level_ids].float(), dim=-1).tolist())
    return rows


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    from s2i_core.dimensions import LEVELS
    from s2i_core.lmm.inference import LEVEL_WEIGHTS, load_scorer
    from s2i_core.registry import load_registry

    scorer = load_scorer(argv[0], load_registry(), device="cpu", batch_size=1)
    videos = scorer._videos(argv[1:])
    generation = scorer.probabilities(argv[1:])
    trained = [dict(zip(LEVELS, p)) for p in probabilities_after(scorer, videos, training_header_ids(scorer))]
    score = lambda p: sum(w * p[lv] for w, lv in zip(LEVEL_WEIGHTS, LEVELS))  # noqa: E731
    print(f"{'video':<40} {'score (generation prompt)':>26} {'score (training header)':>24} {'max |dp|':>9} "
          "same top")
    deltas, agree = [], 0
    for path, g, t in zip(argv[1:], generation, trained):
        dp = max(abs(g[lv] - t[lv]) for lv in LEVELS)
        same = max(g, key=g.get) == max(t, key=t.get)
        deltas.append(abs(score(g) - score(t)))
        agree += same
        name = "/".join(Path(path).parts[-2:])
        print(f"{name:<40} {score(g):>26.3f} {score(t):>24.3f} {dp:>9.3f} {'yes' if same else 'no'}")
    print(f"mean |score difference| {sum(deltas) / len(deltas):.3f}, max {max(deltas):.3f}; "
          f"most likely level the same for {agree}/{len(deltas)} clips")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
