"""Training catalog: measured utilisation (MFU/HFU), managed fine-tuning prices, published runs, storage.

Every row carries ``source``, ``url`` and ``as_of``. Loaded once per process. GPU instances,
accelerators and the open-weight model registry come from the self-hosted catalog; the model
shapes a training plan needs (hidden size, heads, head dim) are read from the same registry file.
"""

import csv
from dataclasses import dataclass
from functools import cache
from statistics import median

from costplan.catalog.selfhosted import DATA
from costplan.core.training import RECOMPUTE_FACTOR

SCALES = ("single", "node", "cluster", "large")
NODES_PER_CLUSTER_MAX = 128  # above this many nodes a run counts as "large" (thousands of GPUs)
ACCELERATOR_FAMILY = {"h100-sxm": "h100", "h100-pcie": "h100", "h100-nvl": "h100", "h200": "h100",
                      "a100-40gb": "a100", "a100-80gb": "a100", "a100-80gb-pcie": "a100"}
INFERENCE_ONLY = {"inferentia2"}
SINGLE_POINT_BAND = 0.25  # the sensitivity band when one published figure stands alone


def _rows(name: str) -> list[dict]:
    with (DATA / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _opt(value: str) -> float | None:
    return float(value) if value not in (None, "") else None


@dataclass(frozen=True)
class MfuPoint:
    row_id: str
    family: str
    precision: str
    scale: str
    gpus: int
    model: str
    hfu: float  # hardware-FLOPs utilisation: published MFU x 4/3 where the run recomputed activations
    source: str
    url: str
    as_of: str


@dataclass(frozen=True)
class Utilisation:
    """The hardware utilisation a configuration is planned at, with its band and basis."""

    hfu: float
    low: float
    high: float
    points: tuple[MfuPoint, ...]
    borrowed: str | None  # why the figure comes from other hardware/scale, or None when it matches

    @property
    def basis(self) -> str:
        ids = ", ".join(p.row_id for p in self.points)
        return f"median of {len(self.points)} published run(s) [{ids}]" + (f"; {self.borrowed}" if self.borrowed else "")


@dataclass(frozen=True)
class ManagedOffer:
    provider: str
    base_model: str  # canonical id, or "*" for a size bracket
    min_params_b: float | None
    max_params_b: float | None
    methods: tuple[str, ...]
    training_usd_per_1m: float
    minimum_usd: float
    serving: str  # fine_tuned_price | base_model_price | provisioned_throughput
    ft_input_per_1m: float | None
    ft_output_per_1m: float | None
    model_unit_usd_per_hour: float | None
    min_model_units: int | None
    source: str
    url: str
    as_of: str


@dataclass(frozen=True)
class PublishedRun:
    run_id: str
    name: str
    params: float
    active_params: float
    layers: int
    hidden: int
    vocab: int
    seq_len: int
    tokens: float
    accelerator_id: str
    gpus: int
    reported_basis: str  # tokens_per_gpu_s | mfu | hfu
    reported_value: float
    recompute: bool
    reported_gpu_hours: float
    source: str
    url: str


@dataclass(frozen=True)
class ModelSpec:
    model_id: str
    name: str
    params: float
    active_params: float
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    source: str
    as_of: str


@dataclass(frozen=True)
class StoragePrice:
    usd_per_gb_month: float
    source: str
    url: str
    as_of: str


@dataclass(frozen=True, eq=False)
class TrainingCatalog:
    mfu: tuple[MfuPoint, ...]
    managed: tuple[ManagedOffer, ...]
    runs: tuple[PublishedRun, ...]
    models: dict[str, ModelSpec]
    storage: StoragePrice

    def utilisation(self, accelerator_id: str, precision: str, scale: str) -> Utilisation:
        """The published utilisation for this hardware, precision and scale, borrowing when none matches.

        Order: same family, precision and scale; same family and precision at the nearest scale;
        any family at this precision and scale (a different accelerator, so flagged); every point.
        """
        family = ACCELERATOR_FAMILY.get(accelerator_id)

        def nearest(pts: list[MfuPoint]) -> list[MfuPoint]:
            if not pts:
                return []
            gap = min(abs(SCALES.index(p.scale) - SCALES.index(scale)) for p in pts)
            return [p for p in pts if abs(SCALES.index(p.scale) - SCALES.index(scale)) == gap]

        same = [p for p in self.mfu if p.family == family and p.precision == precision]
        other = [p for p in self.mfu if p.precision == precision]
        tiers = [
            ([p for p in same if p.scale == scale], None),
            (nearest(same), f"no published {family} {precision} run at '{scale}' scale; the nearest scale is used"),
            (nearest(other), f"no published {precision} run on {accelerator_id}; runs on other GPUs at the nearest "
                             f"scale to '{scale}' are used"),
            (nearest(list(self.mfu)), f"no published run on {accelerator_id} at {precision}; every published run "
                                      f"at the nearest scale is used"),
        ]
        for chosen, why in tiers:
            if chosen:
                vals = sorted(p.hfu for p in chosen)
                mid = float(median(vals))
                low, high = (vals[0], vals[-1]) if len(vals) > 1 else (mid * (1 - SINGLE_POINT_BAND),
                                                                       mid * (1 + SINGLE_POINT_BAND))
                return Utilisation(mid, low, high, tuple(sorted(chosen, key=lambda p: p.row_id)), why)
        raise LookupError("training_mfu.csv is empty")


def _mfu() -> tuple[MfuPoint, ...]:
    out = []
    for r in _rows("training_mfu.csv"):
        u = float(r["utilisation"])
        hfu = u * RECOMPUTE_FACTOR if r["basis"] == "mfu" and r["activation_recompute"] == "true" else u
        out.append(MfuPoint(r["row_id"], r["accelerator_family"], r["precision"], r["scale"], int(r["gpus"]),
                            r["model"], hfu, r["source"], r["url"], r["as_of"]))
    return tuple(sorted(out, key=lambda p: p.row_id))


def _managed() -> tuple[ManagedOffer, ...]:
    return tuple(ManagedOffer(
        provider=r["provider"], base_model=r["base_model"], min_params_b=_opt(r["min_params_b"]),
        max_params_b=_opt(r["max_params_b"]), methods=tuple(r["methods"].split("|")),
        training_usd_per_1m=float(r["training_usd_per_1m_tokens"]), minimum_usd=float(r["minimum_usd"] or 0),
        serving=r["serving"], ft_input_per_1m=_opt(r["ft_input_usd_per_1m"]),
        ft_output_per_1m=_opt(r["ft_output_usd_per_1m"]), model_unit_usd_per_hour=_opt(r["model_unit_usd_per_hour"]),
        min_model_units=int(r["min_model_units"]) if r["min_model_units"] else None,
        source=r["source"], url=r["url"], as_of=r["as_of"],
    ) for r in _rows("managed_finetuning.csv"))


def _runs() -> tuple[PublishedRun, ...]:
    return tuple(PublishedRun(
        run_id=r["run_id"], name=r["name"], params=float(r["params"]), active_params=float(r["active_params"]),
        layers=int(r["layers"]), hidden=int(r["hidden"]), vocab=int(r["vocab"]), seq_len=int(r["seq_len"]),
        tokens=float(r["tokens"]), accelerator_id=r["accelerator_id"], gpus=int(r["gpus"]),
        reported_basis=r["reported_basis"], reported_value=float(r["reported_value"]),
        recompute=r["activation_recompute"] == "true", reported_gpu_hours=float(r["reported_gpu_hours"]),
        source=r["source"], url=r["url"],
    ) for r in _rows("training_runs.csv"))


def _models() -> dict[str, ModelSpec]:
    out = {}
    for r in _rows("open_weight_models.csv"):
        heads, hidden = int(r["attention_heads"]), int(r["hidden_size"])
        out[r["model_id"]] = ModelSpec(
            model_id=r["model_id"], name=r["name"], params=float(r["total_params_b"]) * 1e9,
            active_params=float(r["active_params_b"]) * 1e9, layers=int(r["layers"]), hidden=hidden, heads=heads,
            kv_heads=int(r["kv_heads"]), head_dim=int(r["head_dim"] or hidden // heads),
            source=r["source"], as_of=r["as_of"])
    return out


def _storage() -> StoragePrice:
    r = next(r for r in _rows("storage_prices.csv") if r["storage_class"] == "s3_standard")
    return StoragePrice(float(r["usd_per_gb_month"]), r["source"], r["url"], r["as_of"])


@cache
def get_training_catalog() -> TrainingCatalog:
    return TrainingCatalog(_mfu(), _managed(), _runs(), _models(), _storage())


def scale_of(gpus: int, nodes: int) -> str:
    if gpus == 1:
        return "single"
    if nodes == 1:
        return "node"
    return "cluster" if nodes <= NODES_PER_CLUSTER_MAX else "large"
