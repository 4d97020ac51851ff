"""Where training runs: one CPU/GPU process, torchrun/accelerate DDP, or a DeepSpeed ZeRO-2/3 engine.

`deepspeed=zero2|zero3|<path.json>` selects DeepSpeed; its JSON may say "auto" for batch sizes, clipping
and precision, filled from the training config. On CPU it runs over gloo with world size 1 (tests).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from s2i_core.errors import ConfigError


@dataclass
class Env:
    device: str
    rank: int = 0
    world: int = 1
    deepspeed: dict | None = None
    dtype: Any = None  # compute dtype (torch.float32 / bfloat16 / float16), from lmm.dtype on this device
    scaler: Any = None  # float16 without DeepSpeed: a GradScaler (fp16 gradients underflow without one)


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def setup(cfg) -> Env:
    import torch

    from s2i_core.lmm.adapter import resolve_dtype

    want = cfg.device
    cuda = torch.cuda.is_available() and want != "cpu"
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = f"cuda:{local}" if cuda else "cpu"
    if cuda:
        torch.cuda.set_device(local)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    dtype = resolve_dtype(cfg.lmm.dtype, device)
    ds = deepspeed_config(cfg, dtype) if cfg.deepspeed else None
    if ds is not None:
        import deepspeed

        if "TORCHELASTIC_RUN_ID" not in os.environ and world == 1:
            # one process, no launcher: its own free port. Values inherited from a parent that ran DeepSpeed
            # in-process (a notebook, a test session) would point at that parent's still-open store.
            os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()), RANK="0", LOCAL_RANK="0",
                              WORLD_SIZE="1")
        deepspeed.init_distributed(dist_backend="nccl" if cuda else "gloo")
    elif world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if cuda else "gloo")
    rank = int(os.environ.get("RANK", "0"))
    scaler = None
    if ds is None and dtype == torch.float16:
        scaler = torch.amp.GradScaler("cuda" if cuda else "cpu")
    return Env(device, rank, world, ds, dtype, scaler)


def deepspeed_config(cfg, dtype) -> dict:
    import torch

    name = str(cfg.deepspeed)
    path = name if name.endswith(".json") else str(files("s2i_conf") / "ds" / f"{name}.json")
    if not os.path.exists(path):
        raise ConfigError(f"deepspeed={name}: no such config (zero2, zero3 or a path to a .json file)")
    with open(path, encoding="utf-8") as fh:
        config = json.load(fh)
    fill = {
        "train_micro_batch_size_per_gpu": cfg.batch_size,
        "gradient_accumulation_steps": cfg.grad_accum,
        "gradient_clipping": cfg.max_grad_norm,
    }
    for key, value in fill.items():
        if config.get(key, "auto") == "auto":
            config[key] = value
    config.pop("train_batch_size", None)
    # DeepSpeed keeps the fp32 master weights itself when bf16/fp16 is on; "auto" follows lmm.dtype
    names = {"bf16": torch.bfloat16, "fp16": torch.float16}
    for section, wanted in names.items():
        enabled = config.get(section, {}).get("enabled", "auto")  # a missing section is "auto" too
        if enabled == "auto":
            config.setdefault(section, {})["enabled"] = dtype == wanted
        elif bool(enabled) != (dtype == wanted):
            raise ConfigError(
                f"deepspeed={name}: {section}.enabled is {enabled} but lmm.dtype resolves to "
                f"{str(dtype).removeprefix('torch.')}; set {section}.enabled to \"auto\" or change lmm.dtype"
            )
    return config


def wrap(cfg, model, optimizer, env: Env):
    """The callable that runs forward: the model, a DDP wrapper, or a DeepSpeed engine."""
    if env.deepspeed is not None:
        import deepspeed

        engine, *_ = deepspeed.initialize(model=model, optimizer=optimizer, config=env.deepspeed)
        return engine
    if env.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        # every trainable parameter reaches the loss (set_trainable freezes what the video path skips), so
        # DDP's per-step search of the graph for unused ones is not needed
        return DistributedDataParallel(model, find_unused_parameters=False)
    return model


def master_weights(model, env: Env) -> None:
    """fp32 master weights without DeepSpeed: trainable parameters are kept in float32 (the optimizer updates
    them there, so updates far below a bf16 ulp still add up) while frozen ones stay in the compute dtype, and
    forward runs under autocast. DeepSpeed's bf16/fp16 optimizer keeps its own fp32 copies: nothing to do."""
    import torch

    if env.deepspeed is not None:
        return
    compute = env.dtype or torch.float32
    for p in model.parameters():
        want = torch.float32 if p.requires_grad else compute
        if p.dtype != want and p.is_floating_point():
            p.data = p.data.to(want)


def autocast(env: Env):
    """Matmuls in the compute dtype over fp32 masters (a no-op for float32 and under DeepSpeed, whose engine
    casts the module itself)."""
    import torch

    if env.deepspeed is not None or env.dtype in (None, torch.float32):
        return contextlib.nullcontext()
    return torch.autocast(env.device.split(":")[0], dtype=env.dtype)


def backward(engine, loss, env: Env, accum: int) -> None:
    """Backward for one micro-batch. DeepSpeed scales by its accumulation steps and steps the optimizer itself
    at the boundary (it expects `step()` after every micro-batch)."""
    if env.deepspeed is not None:
        engine.backward(loss)
        engine.step()
    elif env.scaler is not None:
        env.scaler.scale(loss / accum).backward()
    else:
        (loss / accum).backward()


def step(engine, optimizer, params, max_grad_norm: float, env: Env) -> None:
    if env.deepspeed is not None:
        return  # done in backward()
    import torch

    if env.scaler is not None:
        env.scaler.unscale_(optimizer)  # clip the true gradients
    if max_grad_norm > 0:
        torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
    if env.scaler is not None:
        env.scaler.step(optimizer)  # skipped when the scaled gradients overflowed
        env.scaler.update()
    else:
        optimizer.step()


def reset_peak_memory(env: Env) -> None:
    import torch

    if env.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()


def peak_memory_mb(env: Env) -> float | None:
    import torch

    if env.device.startswith("cuda"):
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    try:
        import resource

        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # process RSS high-water
    except ImportError:
        return None


# ---- ZeRO-3: parameters live in shards; a rank's `param.data` is an empty (0,) tensor outside a gather ----


def is_partitioned(model) -> bool:
    return any(hasattr(p, "ds_id") for p in model.parameters())


@contextlib.contextmanager
def gathered(params, *, modify: bool = False):
    """Inside the block, ZeRO-3 partitioned `params` hold their full tensors (a no-op for plain parameters).
    Collective: every rank must enter. With `modify`, what rank 0 writes is scattered back to the shards."""
    sharded = [p for p in params if hasattr(p, "ds_id")]
    if not sharded:
        yield
        return
    import deepspeed

    with deepspeed.zero.GatheredParameters(sharded, modifier_rank=0 if modify else None):
        yield


def gathered_state(model, *, only_trainable: bool = False, keep: bool = True) -> dict:
    """name -> full CPU tensor, gathered one module at a time so no rank ever holds more than one layer in
    full beyond the copies it keeps. Names and order are `model.named_parameters()`'s (shared tensors once).
    Collective under ZeRO-3; `keep=False` ranks take part in the gathers but return {}."""
    state: dict = {}
    seen: set[int] = set()
    for prefix, module in model.named_modules():
        own = [
            (name, p)
            for name, p in module.named_parameters(recurse=False)
            if id(p) not in seen and (p.requires_grad or not only_trainable)
        ]
        seen.update(id(p) for _, p in own)
        with gathered([p for _, p in own]):
            if keep:
                for name, p in own:
                    state[f"{prefix}.{name}" if prefix else name] = p.detach().to("cpu").clone().contiguous()
    return state


def consolidated(model, adapter, env: Env):
    """The model as one plain module with full weights, for saving and merging LoRA: the model itself unless
    ZeRO-3 partitioned it; then every rank gathers layer by layer and rank 0 gets a copy rebuilt on the meta
    device and filled with the gathered tensors (None on the other ranks). Collective under ZeRO-3."""
    if not is_partitioned(model):
        return model
    import torch
    import transformers

    state = gathered_state(model, keep=env.rank == 0)
    if env.rank != 0:
        return None
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    with torch.device("meta"):
        plain = getattr(transformers, adapter.model_class)._from_config(base.config)
    if hasattr(model, "peft_config"):
        import copy

        from peft import get_peft_model

        plain = get_peft_model(plain, copy.deepcopy(model.peft_config["default"]))
    _, unexpected = plain.load_state_dict(state, strict=False, assign=True)
    for name, buf in model.named_buffers():  # ZeRO-3 leaves buffers whole on every rank
        owner, _, leaf = name.rpartition(".")
        plain.get_submodule(owner)._buffers[leaf] = buf.detach().to("cpu").clone()
    plain.tie_weights()
    left = [n for n, p in plain.named_parameters() if p.is_meta]
    if unexpected or left:
        raise RuntimeError(
            f"ZeRO-3 consolidation: {len(unexpected)} gathered tensors fit no parameter, {len(left)} parameters "
            f"were not gathered (first: {(unexpected or left)[0]!r})"
        )
    return plain
