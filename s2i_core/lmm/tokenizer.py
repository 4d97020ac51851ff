"""A small byte-level BPE tokenizer built offline, for tiny test/bench models that never touch a hub.

It carries the special tokens a model family needs (video/image placeholders, chat markers) and the family's
chat template (each family module owns its template; ChatML, which several families share, is built here), so
the same code path (template -> tokens -> labels) runs for tiny and real models.
"""

from __future__ import annotations

from s2i_core.dimensions import DIMENSIONS, LEVELS

_ROLES = ("user", "assistant", "system")


def _corpus() -> list[str]:
    lines = [
        f"The {d.name.replace('_', ' ')} of this video is {lv}: {d.definition}."
        for d in DIMENSIONS
        for lv in LEVELS
    ]
    lines += [f"How would you rate the overall quality of this video? The quality is {lv}." for lv in LEVELS]
    lines += [
        "You are a helpful assistant. Frame seconds technical aesthetic overall rating because therefore",
        "Is the video free of noise? Yes. No. Which option best describes the video? A B C D",
        "0 1 2 3 4 5 6 7 8 9 . , : ; ? ! ( ) < > \n",
    ]
    return lines


def build_tiny_tokenizer(
    special_tokens: list[str],
    chat_template: str,
    *,
    vocab_size: int = 480,
    eos: str,
    pad: str | None = None,
    bos: str | None = None,
    named: dict[str, str] | None = None,
):
    """A PreTrainedTokenizerFast trained on a few hundred quality sentences; specials are single tokens.
    `named` gives some of them attribute names, as real checkpoints do (InternVL's `tokenizer.start_image_token`)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=eos,
        pad_token=pad or eos,
        bos_token=bos,
        additional_special_tokens=[t for t in special_tokens if t not in (eos, pad, bos)],
        **({"extra_special_tokens": named} if named else {}),
    )
    fast.chat_template = chat_template
    return fast


# ChatML, as Qwen2-VL / LLaVA-OneVision / InternVL write it; `video_marker` is what a video item renders to.
def chatml_template(video_marker: str, default_system: str | None = "You are a helpful assistant.") -> str:
    system = (
        (
            "{% if messages[0]['role'] != 'system' %}<|im_start|>system\n"
            + default_system
            + "<|im_end|>\n{% endif %}"
        )
        if default_system
        else ""
    )
    return (
        system + "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
        "{% if message['content'] is string %}{{ message['content'] }}"
        "{% else %}{% for item in message['content'] %}"
        "{% if item['type'] == 'video' %}"
        + video_marker
        + "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}"
        "<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
