"""`s2i generate` on the built-in samples writes the same bytes as the release did: a refactor that changes a
score, a level, a phrase or the order of anything shows up here.

The hashes were taken with the code before the registry, the scoring path, the model adapters and the shared
helpers were reorganised, and held through all of it; they were regenerated since for the retuned
sharpness, noise, motion-blur, fluency, colour-cast and composition scorers and for the aesthetic group's Minkowski pooling
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
    "records.jsonl": "2142eff8aa5bc335fc7251c62e826e05ae783d38cfed3b46326052ef0afa80ad",
    "errors.jsonl": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "records.parquet": "6f426a2ff61d6d67b36f4291a4f60728882752a085ab6e80913f116d472f2676",
    "report.html": "e7095d251e52cedd725f45321246981de8916db78030b099fbd4078e3dd38d67",
    "instructions/stage1.jsonl": "b49a9167e530246845b3057288b46bfdb73b4ea375ac51f659f2e1757951e281",
    "instructions/stage2.jsonl": "5dbf4462b00f2f46599679b970c6873a8c28f87e60128a4f949ea178f92c9302",
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
