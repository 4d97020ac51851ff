"""`s2i generate` on the built-in samples writes the same bytes as the release did: a refactor that changes a
score, a level, a phrase or the order of anything shows up here.

The hashes were taken with the code before the registry and the scoring path were reorganised. Where a file
names the sample folder (absolute `videos` paths, the report), that folder is replaced by `<samples>` first, so
the hashes do not depend on where the package is installed. `manifest.json` is left out: it names the output
folder and the library versions; the files it lists are all here. When a change is *meant* to change
outputs (a scorer is retuned), regenerate the table with `expected_hashes(out)` and say why in the commit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import run_s2i

HASHED = ("records.jsonl", "errors.jsonl", "records.parquet", "report.html",
          "instructions/stage1.jsonl", "instructions/stage2.jsonl", "instructions/dataset_info.json")

EXPECTED = {
    "records.jsonl": "85068983c29f370a2fe5a64079acf9ae361c762c5a61261e56bf497ecde57b92",
    "errors.jsonl": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "records.parquet": "cb3b35da297466f6aca8a85400b3137874bfb01faf1d6ca579fa499fc54c9bab",
    "report.html": "34c8453566243cf2dd9e9d083eccb3930b0a8270b94a7fb5b6cbf68e3e2a9c7b",
    "instructions/stage1.jsonl": "e41b22c7e373162f4426f1fb0355c389ba78a2c175bfdf93456b7a40a0aee91b",
    "instructions/stage2.jsonl": "e81667b46d22f69dc03fd1a621c6f1df4a1d275b16e7afa779a024f3eb8c3f39",
    "instructions/dataset_info.json": "2bf394764751a21ed61fbc32bdd900438781439210a918ed3f58ee994bcd05ba",
}


def expected_hashes(out: Path, samples: str) -> dict[str, str]:
    hashes = {}
    for name in HASHED:
        data = (out / name).read_bytes().replace(samples.encode(), b"<samples>")
        hashes[name] = hashlib.sha256(data).hexdigest()
    return hashes


def test_generate_on_the_samples_writes_the_same_bytes(tmp_path):
    from s2i_core.hydra_bridge import samples_dir

    out = tmp_path / "demo"
    run_s2i("generate", f"output={out}", check=True)
    assert expected_hashes(out, str(Path(samples_dir()).resolve())) == EXPECTED
