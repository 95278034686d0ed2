"""Generate the bundled datasets (offline, fixed seed): ``python resources/datasets/make_datasets.py``.

The files are synthetic look-alikes of classic public datasets, small enough to ship:

- ``housing.csv``: California-housing-like regression, 8 features -> MedHouseVal
  (median house value in 100,000 dollars, capped at 5.0 like the original).
- ``flowers.csv``: iris-like multiclass, 4 measurements -> species (3 string labels).
- ``diagnosis.csv``: breast-cancer-like binary, 30 measurements -> diagnosis (B or M).
- ``tags.csv``: multilabel, 20 features -> 5 yes/no labels (0/1 columns).

Running the script again rewrites the same bytes (NumPy's PCG64 generator, fixed seeds).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

#: (latitude, longitude, share of rows, coastal) of the population centres.
CITIES = [
    (34.05, -118.25, 0.34, True),  # Los Angeles
    (37.77, -122.42, 0.16, True),  # San Francisco Bay
    (32.72, -117.16, 0.10, True),  # San Diego
    (38.58, -121.49, 0.08, False),  # Sacramento
    (36.74, -119.78, 0.07, False),  # Fresno
    (37.34, -121.89, 0.08, True),  # San Jose
]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def make_housing(rows: int = 6000, seed: int = 20240601) -> None:
    rng = np.random.default_rng(seed)
    shares = np.array([c[2] for c in CITIES])
    rural = 1.0 - shares.sum()
    choice = rng.choice(len(CITIES) + 1, size=rows, p=[*shares, rural])
    lat = np.empty(rows)
    lon = np.empty(rows)
    coastal = np.zeros(rows)
    for index, (clat, clon, _, is_coastal) in enumerate(CITIES):
        mask = choice == index
        lat[mask] = clat + rng.normal(0, 0.25, mask.sum())
        lon[mask] = clon + rng.normal(0, 0.25, mask.sum())
        coastal[mask] = 1.0 if is_coastal else 0.3
    mask = choice == len(CITIES)
    lat[mask] = rng.uniform(32.6, 41.9, mask.sum())
    lon[mask] = -124.3 + (41.9 - lat[mask]) * 0.55 + rng.uniform(0, 4.0, mask.sum())
    coastal[mask] = 0.1
    lat = np.clip(lat, 32.54, 41.95)
    lon = np.clip(lon, -124.35, -114.31)
    income = np.clip(rng.lognormal(np.log(3.5) + 0.25 * coastal, 0.45), 0.4999, 15.0001)
    age = rng.integers(1, 53, rows).astype(float)
    rooms = np.clip(3.2 + 0.45 * income + rng.normal(0, 0.8, rows), 1.0, 14.0)
    bedrooms = np.clip(0.9 + 0.035 * rooms + rng.normal(0, 0.06, rows), 0.5, 4.0)
    population = np.clip(rng.lognormal(np.log(1150), 0.6, rows), 3, 35682).round()
    occupancy = np.clip(rng.lognormal(np.log(2.9), 0.25, rows) + 0.3 * (1 - coastal), 0.8, 12.0)
    value = (
        0.42 * income
        + 1.25 * coastal
        + 0.006 * age
        - 0.16 * occupancy
        + 0.05 * (rooms - 5.0)
        + 0.12 * np.sin(lat * 3.0)
        + rng.normal(0, 0.35, rows)
    )
    value = np.clip(value, 0.14999, 5.00001)
    table = [
        [f"{a:.4f}", f"{b:.0f}", f"{c:.4f}", f"{d:.4f}", f"{e:.0f}", f"{f:.4f}", f"{g:.2f}", f"{h:.2f}", f"{i:.3f}"]
        for a, b, c, d, e, f, g, h, i in zip(income, age, rooms, bedrooms, population, occupancy, lat, lon, value)
    ]
    header = [
        "MedInc",
        "HouseAge",
        "AveRooms",
        "AveBedrms",
        "Population",
        "AveOccup",
        "Latitude",
        "Longitude",
        "MedHouseVal",
    ]
    _write(HERE / "housing.csv", header, table)


def make_flowers(per_class: int = 200, seed: int = 1936) -> None:
    rng = np.random.default_rng(seed)
    # Class means and standard deviations of the four measurements (cm), iris-like.
    species = {
        "setosa": ([5.01, 3.43, 1.46, 0.25], [0.35, 0.38, 0.17, 0.11]),
        "versicolor": ([5.94, 2.77, 4.26, 1.33], [0.52, 0.31, 0.47, 0.20]),
        "virginica": ([6.59, 2.97, 5.55, 2.03], [0.64, 0.32, 0.55, 0.27]),
    }
    rows = []
    for name, (mean, std) in species.items():
        values = np.clip(rng.normal(mean, std, size=(per_class, 4)), 0.1, None)
        rows += [[*(f"{v:.1f}" for v in row), name] for row in values]
    order = rng.permutation(len(rows))
    _write(
        HERE / "flowers.csv",
        ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"],
        [rows[i] for i in order],
    )


DIAGNOSIS_FEATURES = [
    f"{base}_{kind}"
    for kind in ("mean", "se", "worst")
    for base in (
        "radius",
        "texture",
        "perimeter",
        "area",
        "smoothness",
        "compactness",
        "concavity",
        "concave_points",
        "symmetry",
        "fractal_dimension",
    )
]


def make_diagnosis(benign: int = 357, malignant: int = 212, seed: int = 1995) -> None:
    rng = np.random.default_rng(seed)
    base = np.array([12.1, 17.9, 78.1, 463.0, 0.092, 0.080, 0.046, 0.026, 0.174, 0.063])
    shift = np.array([0.43, 0.18, 0.46, 0.90, 0.11, 0.58, 1.60, 1.75, 0.11, 0.0])
    scale_by_kind = {"mean": 1.0, "se": 0.08, "worst": 1.3}
    labels = np.array(["B"] * benign + ["M"] * malignant)
    severity = np.where(labels == "M", rng.normal(1.0, 0.35, labels.size), rng.normal(0.0, 0.35, labels.size))
    columns = []
    for kind, factor in scale_by_kind.items():
        noise = 0.10 if kind != "se" else 0.35
        for j in range(10):
            value = base[j] * factor * (1 + shift[j] * severity) * rng.lognormal(0, noise, labels.size)
            columns.append(np.abs(value))
    order = rng.permutation(labels.size)
    rows = [[*(f"{c[i]:.5g}" for c in columns), labels[i]] for i in order]
    _write(HERE / "diagnosis.csv", [*DIAGNOSIS_FEATURES, "diagnosis"], rows)


def make_tags(rows: int = 1200, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 20))
    weights = rng.normal(size=(20, 5)) * (rng.random((20, 5)) < 0.3)
    logits = features @ weights + rng.normal(0, 0.5, (rows, 5)) - 0.3
    labels = (logits > 0).astype(int)
    names = ["outdoor", "people", "animal", "vehicle", "night"]
    table = [[*(f"{v:.4f}" for v in f), *(str(v) for v in lab)] for f, lab in zip(features, labels)]
    _write(HERE / "tags.csv", [*(f"f{i:02d}" for i in range(1, 21)), *names], table)


def main() -> None:
    make_housing()
    make_flowers()
    make_diagnosis()
    make_tags()


if __name__ == "__main__":
    main()
