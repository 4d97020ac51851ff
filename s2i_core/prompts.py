"""The level-token scoring prompt: the stage-I "overall" item that `s2i generate` writes and that a tuned model
is scored with. Training and scoring must use the same words, so the level word's position is known without
generating (Q-Align style): the question, then an answer that starts with SCORE_ANSWER_PREFIX and ends on the
level word."""

SCORE_QUESTION = "How is the overall quality of this video?"
SCORE_ANSWER_PREFIX = "The overall quality of this video is"


def score_answer(level: str) -> str:
    """The trained answer of the overall item: the prefix, the level word, a full stop."""
    return f"{SCORE_ANSWER_PREFIX} {level}."
