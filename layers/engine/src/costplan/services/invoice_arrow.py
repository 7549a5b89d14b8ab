"""The fast path for FOCUS CSV: Arrow's multithreaded reader, only the columns analysis needs, and
classification over each column's distinct values (dictionary encoding) instead of row by row.

A file with rows of the wrong width takes the exact row-by-row path instead (``invoice_parse``),
which can name every bad row.
"""

import io

import numpy as np

from costplan.services.invoice_lines import (
    TOKEN_KINDS,
    Lines,
    _gpu_instances,
    category_of,
    finite,
    provider_id,
    resolve_model,
    unit_scale,
    usage_kind_of,
)
from costplan_contracts.enums import LineStatus, UsageKind

REJECTED = 2


def _arrow():
    import pyarrow as pa  # the invoice functions only: other endpoints never pay for this import
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    return pa, pc, pacsv


def read(data: bytes, header: list[str], wanted: list[str]):
    """{column: pyarrow array of strings} for ``wanted``, or None when the exact path must take the file
    (a row of the wrong width, a blank line, no data rows, or anything else Arrow cannot read)."""
    pa, pc, pacsv = _arrow()
    invalid = []

    def handler(row):
        invalid.append(row)
        return "skip"

    if b"\n\n" in data or b"\n\r\n" in data:
        return None  # Arrow skips blank lines; the exact path numbers rows as the file does
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),  # the stripped header names
            parse_options=pacsv.ParseOptions(invalid_row_handler=handler, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in wanted},
                                                 include_columns=wanted, strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowKeyError):
        return None
    if invalid or table.num_rows == 0:
        return None
    return {c: table.column(c).combine_chunks() for c in wanted}


def _coded(array) -> tuple[np.ndarray, list[str]]:
    """(per-row codes, distinct values) of a string column."""
    enc = array.dictionary_encode()
    return enc.indices.to_numpy(zero_copy_only=False), enc.dictionary.to_pylist()


def _map(array, fn, dtype=object) -> np.ndarray:
    codes, values = _coded(array)
    return np.array([fn(v) for v in values], dtype=dtype)[codes] if values else np.zeros(len(array), dtype)


def floats(array, name: str, errors: list, required: bool) -> tuple[np.ndarray, np.ndarray]:
    """A float column and its bad-row mask; errors get (row, column, reason)."""
    pa, pc, _ = _arrow()
    empty = pc.equal(array, "").to_numpy(zero_copy_only=False)
    try:
        values = pc.cast(pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array), pa.float64())
        out = values.to_numpy(zero_copy_only=False).astype(float)
        bad = np.zeros(len(array), bool)
        if np.isinf(out).any() or (np.isnan(out) & ~empty).any():
            raise pa.ArrowInvalid("non-finite values")  # "nan", "inf", "1e999": the slow path names each row
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out, bad = np.full(len(array), np.nan), np.zeros(len(array), bool)
        for i, v in enumerate(array.to_pylist()):
            if v == "":
                continue
            try:
                out[i] = finite(v)
            except ValueError:
                bad[i] = True
                errors.append((i + 1, name, f"not a finite number: {v[:40]!r}"))
    if required and empty.any():
        for i in np.flatnonzero(empty):
            errors.append((int(i) + 1, name, "empty"))
        bad |= empty
    return out, bad


def periods(array, name: str, errors: list) -> tuple[np.ndarray, np.ndarray]:
    codes, values = _coded(array)
    ok = np.array([len(v) >= 7 and v[:4].isdigit() and v[4] == "-" and v[5:7].isdigit() for v in values], bool)
    period = np.array([v[:7] if good else "" for v, good in zip(values, ok)], dtype=object)
    bad = ~ok[codes] if values else np.zeros(len(array), bool)
    for i in np.flatnonzero(bad):
        errors.append((int(i) + 1, name, f"not an ISO date: {values[codes[i]][:40]!r}"))
    return (period[codes] if values else np.zeros(len(array), object)), bad


def first_resolved(columns: list, fn) -> np.ndarray:
    """Per row, ``fn`` of the first column whose value ``fn`` resolves (non-empty), else ""."""
    out = None
    for col in columns:
        mapped = _map(col, fn)
        out = mapped if out is None else np.where(out == "", mapped, out)
    return out if out is not None else np.array([], dtype=object)


def lines(cols: dict, model_cols: list[str], usage_cols: list[str], qty_col: str, unit_col: str,
          rejected: np.ndarray, billed: np.ndarray, effective: np.ndarray, quantity: np.ndarray,
          period: np.ndarray) -> Lines:
    n = len(billed)
    model = first_resolved([cols[c] for c in model_cols], resolve_model) if model_cols else np.full(n, "", object)
    kind = first_resolved([cols[c] for c in usage_cols], usage_kind_of) if usage_cols else np.full(n, "", object)
    gpus = _gpu_instances()
    is_gpu = np.array([m in gpus for m in model], dtype=bool) if n else np.zeros(0, bool)
    kind = np.where((kind == UsageKind.INSTANCE_HOURS.value) & is_gpu, UsageKind.GPU_HOURS.value, kind)
    scale = _map(cols[unit_col], unit_scale, float) if unit_col else np.ones(n)
    quantity = np.where(np.isin(kind, list(TOKEN_KINDS)), quantity * scale, quantity)
    status = np.zeros(n, np.int8)
    status[(kind == "") | (model == "")] = 1
    status[rejected] = REJECTED
    desc = cols.get("ChargeDescription")
    category = cols["ChargeCategory"]
    if "ChargeClass" in cols:
        import pyarrow.compute as pc

        category = pc.binary_join_element_wise(category, cols["ChargeClass"], " ")
    return Lines(
        row=np.arange(1, n + 1), status=status, provider=_map(cols["ProviderName"], provider_id),
        service=_map(cols["ServiceName"], str), model=model, kind=kind.astype(object), quantity=quantity,
        unit=_map(cols[unit_col], str) if unit_col else np.full(n, "", object), billed=billed,
        effective=np.where(np.isnan(effective), billed, effective),
        currency=_map(cols["BillingCurrency"], lambda x: (x or "USD").upper()),
        category=_map(category, category_of), period=period,
        batch=_map(desc, lambda d: "batch" in d.lower(), bool) if desc is not None else np.zeros(n, bool),
    )


assert LineStatus.REJECTED  # status codes: 0 recognised, 1 unrecognised, 2 rejected (invoice_lines.STATUS_CODE)
