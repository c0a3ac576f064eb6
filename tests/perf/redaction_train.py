"""Train the plate verifier of reports.plates (issue 15) on composed street scenes.

    .venv/bin/python tests/perf/redaction_train.py   # reports/redaction_data/plate_verifier.npz

The candidates reports.plates finds in scenes composed by redaction_scenes.py from the seeds
TRAIN_SEEDS, which the evaluation set (seeds 1-50) and the tuning scenes (1000-1039, where
the engine's threshold is chosen) do not use, are labelled by their overlap with the
scenes' plates: at least 0.5 intersection over union is a plate, under 0.2 is not, in
between is left out (and of the others, a quarter is kept). One logistic regression per
layout (one line, two lines) over the candidates' HOG features, with L2 regularisation
and the classes weighted equally, fitted by gradient descent from zeros: the same seeds
give the same weights.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from redaction_scenes import compose_scene  # noqa: E402

from reports import plates  # noqa: E402
from reports.detection import PLATE, WORKING_SIDE, Region  # noqa: E402

TRAIN_SEEDS = range(2000, 2300)
# Of the many candidates that are not plates, this share (drawn from a fixed seed) is kept.
NEGATIVE_SHARE = 0.25
POSITIVE, NEGATIVE = 0.5, 0.2
L2 = 1e-3
STEPS = 3000
RATE = 0.5


def log(message: str) -> None:
    print(message, flush=True)  # noqa: T201


def samples(seeds: range) -> dict[str, tuple[list[np.ndarray], list[int]]]:
    data: dict[str, tuple[list[np.ndarray], list[int]]] = {
        layout: ([], []) for layout in plates.PATCH
    }
    keep = np.random.default_rng(0)
    for seed in seeds:
        scene = compose_scene(seed)
        assert max(scene.image.shape[:2]) <= WORKING_SIDE
        gray = np.asarray(Image.fromarray(scene.image).convert("L"))
        labels = [
            Region(PLATE, lb.x, lb.y, lb.width, lb.height, 1.0)
            for lb in scene.labels
            if lb.kind == PLATE
        ]
        for candidate in plates.candidates(gray):
            box = Region(
                PLATE,
                round(candidate.x),
                round(candidate.y),
                round(candidate.width),
                round(candidate.height),
                1.0,
            )
            overlap = max((box.iou(label) for label in labels), default=0.0)
            if NEGATIVE <= overlap < POSITIVE:
                continue
            if overlap < NEGATIVE and keep.random() > NEGATIVE_SHARE:
                continue
            vectors, targets = data[candidate.layout]
            vectors.append(plates.features(gray, candidate))
            targets.append(int(overlap >= POSITIVE))
    return data


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression, classes weighted equally, by full-batch gradient descent."""
    weight = np.where(y == 1, 0.5 / max(1, y.sum()), 0.5 / max(1, (1 - y).sum()))
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(STEPS):
        p = 1 / (1 + np.exp(-np.clip(x @ w + b, -30, 30)))
        error = (p - y) * weight
        w -= RATE * (x.T @ error + L2 * w)
        b -= RATE * error.sum()
    return w, b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=plates.VERIFIER)
    args = parser.parse_args()
    start = time.perf_counter()
    data = samples(TRAIN_SEEDS)
    weights, bias = {}, {}
    for layout, (vectors, targets) in data.items():
        x, y = np.stack(vectors).astype(np.float64), np.array(targets, dtype=np.float64)
        w, b = fit(x, y)
        p = 1 / (1 + np.exp(-(x @ w + b)))
        log(
            f"{layout}: {int(y.sum())} plates, {int((1 - y).sum())} others; on the training "
            f"candidates at 0.5: {((p >= 0.5) & (y == 1)).sum() / max(1, y.sum()):.3f} of "
            f"plates kept, {((p >= 0.5) & (y == 0)).sum() / max(1, (1 - y).sum()):.3f} of "
            "others kept"
        )
        weights[layout], bias[layout] = w, b
    plates.Verifier(weights, bias).save(args.out)
    log(f"wrote {args.out} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
