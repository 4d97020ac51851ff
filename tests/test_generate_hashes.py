"""`s2i generate` on the built-in samples writes the same bytes as the release did: a refactor that changes a
score, a level, a phrase or the order of anything shows up here.

The hashes were taken with the code before the registry, the scoring path, the model adapters and the shared
helpers were reorganised, and held through all of it; they were regenerated since for the retuned
sharpness, noise, motion-blur, fluency and colour-cast scorers and for the aesthetic group's Minkowski pooling
(changes meant to change scores), and once when records began to store `raw` to 6 significant digits (the last bits
of a float measurement differ between CPUs). Where a file
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
    "records.jsonl": "99975db9a735d15ea7dd2992c25cdf31d2fc5f5339a329260adb76d645032566",
    "errors.jsonl": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "records.parquet": "1a95689a5421abdd05b820b599de959bb3ea3b5e03ef48d4c285a8a3bb911ef1",
    "report.html": "ac434e148b61f0097c2ac5b82162dd1571305fe807ac8bf6544d5340789f7432",
    "instructions/stage1.jsonl": "bd96ed33f9041ab27452816ffd1b3be7b1e77c7b38762e1ee8e256d946a7ae6c",
    "instructions/stage2.jsonl": "5ff4dbd703f50370e1e56bbef36ec874d3ef20a160efd80a453143b3a08a2def",
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
