"""The invoice rule set, once: declarative rules over FOCUS-named columns, compiled to SQL.

Every input format is first mapped onto FOCUS column names (``MAPPINGS``); the rules below then
decide, per row, the provider, usage kind, token unit scale, charge category, billing period,
effective cost, batch use and whether the row is rejected (and why). ``aggregate_sql`` compiles
them into one GROUP BY query in DuckDB's dialect; ``export_sql`` transpiles the same query to
Trino for Amazon Athena (sqlglot). Both engines' aggregate rows then go through the same Python
(``aggregates.analyze_aggregates``), which adds the one rule that needs the catalog: resolving
model names (and from them GPU hours and recognised/unrecognised status) over the distinct
model texts of the aggregate, never per row.
"""

import csv
import re
from dataclasses import dataclass
from functools import cache

from costplan.catalog.billing import DATA, cur_patterns, focus_columns
from costplan_contracts.enums import ChargeCategory, UsageKind

ROW = "x_RowNumber"  # 1-based data row; NULL where the engine cannot number rows (Athena)
ERROR_COLUMN, ERROR_REASON = "x_ErrorColumn", "x_ErrorReason"  # set by a format mapping that already rejected the row
TOKEN_KINDS = (UsageKind.INPUT_TOKENS.value, UsageKind.OUTPUT_TOKENS.value, UsageKind.CACHED_INPUT_TOKENS.value,
               UsageKind.CACHE_WRITE_TOKENS.value)
HOUR_KINDS = (UsageKind.GPU_HOURS.value, UsageKind.INSTANCE_HOURS.value)
EVIDENCE_ROWS = 20
NULL_TEXT = "NULL"  # FOCUS CSV exports (the official sample among them) spell a null cell NULL

# -- the rules -------------------------------------------------------------------------------------------------

PROVIDER_RULES = (("amazon", "aws"), ("aws", "aws"), ("microsoft", "azure"), ("azure", "azure"),
                  ("google", "google"), ("openai", "openai"), ("anthropic", "anthropic"), ("mistral", "mistral"),
                  ("cohere", "cohere"))  # (substring of ProviderName, provider id); first match wins
CATEGORY_RULES = ((("credit",), ChargeCategory.CREDIT), (("refund",), ChargeCategory.REFUND),
                  (("tax",), ChargeCategory.TAX), (("adjust", "correction"), ChargeCategory.ADJUSTMENT),
                  (("purchase", "fee", "upfront"), ChargeCategory.PURCHASE))  # over "ChargeCategory ChargeClass"
DEFAULT_CATEGORY = ChargeCategory.USAGE
TOKENISH = ("token",)  # ... or the word "tok"


@dataclass(frozen=True)
class KindRule:
    kind: UsageKind
    any_of: tuple[str, ...]  # one of these substrings
    and_any: tuple[str, ...] = ()  # and one of these (empty: no second condition)
    tokens: bool = False  # only for text that talks about tokens


USAGE_KIND_RULES = (  # over lower-cased text; first match wins
    KindRule(UsageKind.CACHE_WRITE_TOKENS, ("cache",), ("write", "creation"), tokens=True),
    KindRule(UsageKind.CACHED_INPUT_TOKENS, ("cache",), tokens=True),
    KindRule(UsageKind.OUTPUT_TOKENS, ("output", "completion"), tokens=True),
    KindRule(UsageKind.INPUT_TOKENS, ("input", "prompt"), tokens=True),
    KindRule(UsageKind.INSTANCE_HOURS, ("hour", "hrs", "boxusage", "hosting")),
    KindRule(UsageKind.IMAGES, ("image",)),
    KindRule(UsageKind.AUDIO_MINUTES, ("minute", "audio")),
    KindRule(UsageKind.CHARACTERS, ("character",)),
    KindRule(UsageKind.REQUESTS, ("request",)),
)
USAGE_COLUMNS = ("x_UsageKind", "ConsumedUnit", "PricingUnit", "SkuMeter", "ChargeDescription")  # first that classifies
UNIT_SCALE_RULES = ((r"^(1k|k|thousand)([^a-z0-9]|$)", 1e3), (r"^(1m|m|million)([^a-z0-9]|$)", 1e6))
UNIT_COLUMNS = ("ConsumedUnit", "PricingUnit")
BATCH_COLUMNS = ("ChargeDescription", "SkuMeter")  # "batch" in either: the provider's batch API was used
# Model texts, in order: the catalog resolves the first one that names a model or a GPU instance (after the
# aggregate, once per distinct text). Resource ids and names are left out: they are per-resource (tens of
# thousands of distinct values) and name an instance or deployment, not the model or SKU billed.
MODEL_COLUMNS = ("x_Model", "x_ModelId", "x_InstanceType", "SkuMeter", "ChargeDescription", "SkuPriceDetails")
TEXT_COLUMNS = ("ProviderName", "ServiceName", "BillingCurrency", "ChargeCategory", "ChargeClass", "ChargeDescription",
                "SkuMeter", "ConsumedUnit", "PricingUnit", "x_UsageKind", "x_Model", "x_ModelId", "x_InstanceType",
                "SkuPriceDetails", ERROR_COLUMN, ERROR_REASON)  # the group key: rows are classified per distinct key


@dataclass(frozen=True)
class NumberRule:
    column: str
    required: bool  # FOCUS forbids NULL here: a NULL is a rejected row


@cache
def number_rules() -> tuple[NumberRule, ...]:
    """BilledCost may never be NULL (FOCUS: allows_nulls False); ConsumedQuantity may (it is NULL on credits and
    other non-usage rows). EffectiveCost is lenient: a NULL falls back to BilledCost (CUR without net costs)."""
    nullable = _nullable()
    return (NumberRule("BilledCost", not nullable["BilledCost"]), NumberRule("EffectiveCost", False),
            NumberRule("ConsumedQuantity", not nullable["ConsumedQuantity"]))


PERIOD_COLUMN = "ChargePeriodStart"  # required; trimmed, then YYYY-MM from an ISO date or timestamp
PERIOD_PATTERN = r"^[0-9]{4}-[0-9]{2}"


@cache
def _nullable() -> dict[str, bool]:
    with (DATA / "focus_columns.csv").open(newline="", encoding="utf-8") as f:
        return {r["column_id"]: r.get("allows_nulls", "True") == "True" for r in csv.DictReader(f)}


# -- the format mappings: every input onto FOCUS names ---------------------------------------------------------

FOCUS_SOURCES = {"ConsumedQuantity": ("ConsumedQuantity", "PricingQuantity"), "x_Model": ("x_Model", "x_model")}
CUR_SOURCES = {  # CUR 2.0 column -> FOCUS column
    "BilledCost": "line_item_unblended_cost", "EffectiveCost": "line_item_net_unblended_cost",
    "ConsumedQuantity": "line_item_usage_amount", "ChargePeriodStart": "line_item_usage_start_date",
    "ServiceName": "line_item_product_code", "BillingCurrency": "line_item_currency_code",
    "ChargeCategory": "line_item_line_item_type", "ChargeDescription": "line_item_line_item_description",
    "SkuMeter": "line_item_usage_type", "x_Model": "product_model", "x_InstanceType": "product_instance_type",
    "ConsumedUnit": "pricing_unit",
}
CUR_OPTIONAL = ("line_item_net_unblended_cost", "product_model")  # not in every CUR 2.0 table
CUR_REQUIRED = ("line_item_usage_type", "line_item_usage_amount", "line_item_unblended_cost",
                "line_item_usage_start_date")


def cur_name(name: str) -> str:
    """'lineItem/UsageType' (legacy CUR) -> 'line_item_usage_type' (CUR 2.0)."""
    name = name.strip().lstrip("\ufeff").replace("/", "_")
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _re2(pattern: str) -> tuple[str, tuple[str, ...]]:
    """A CUR usage-type pattern without lookaheads (RE2, DuckDB's engine, has none), plus substrings it must not
    contain. ``(?!.*X)`` becomes "does not contain X"; the instance-family lookaheads are dropped because the GPU
    rule before them (first match wins) already took those usage types."""
    excluded = tuple(re.findall(r"\(\?!\.\*([^()]*)\)", pattern))
    out = re.sub(r"\(\?!\.\*[^()]*\)", "", pattern)
    out = re.sub(r"\(\?!\(\?:(?:[^()]|\([^()]*\))*\)[^()]*\)", "", out)
    return out, excluded


# -- SQL -------------------------------------------------------------------------------------------------------

def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _text(expr: str) -> str:
    """Trimmed text; empty and NULL cells are NULL (one rule for every column, so ' 2026-10-01' is 2026-10)."""
    return f"NULLIF(NULLIF(TRIM(CAST({expr} AS VARCHAR)), ''), {_lit(NULL_TEXT)})"


def _contains(col: str, needles) -> str:
    return "(" + " OR ".join(f"STRPOS({col}, {_lit(n)}) > 0" for n in needles) + ")"


def _kind_of(col: str) -> str:
    """The usage kind a text names, or NULL."""
    low = f"LOWER({col})"
    tokenish = f"({_contains(low, TOKENISH)} OR REGEXP_MATCHES({low}, '(^|\\s)tok(\\s|$)'))"
    whens = []
    for r in USAGE_KIND_RULES:
        cond = _contains(low, r.any_of)
        if r.and_any:
            cond += " AND " + _contains(low, r.and_any)
        if r.tokens:
            cond = f"{tokenish} AND {cond}"
        whens.append(f"WHEN {cond} THEN {_lit(r.kind.value)}")
    return f"CASE {' '.join(whens)} END"


def _cur_case(col: str, field: str) -> str:
    whens = []
    for p in cur_patterns():
        value = getattr(p, field)
        if field == "usage_kind" and value == "other":
            value = None
        pattern, excluded = _re2(p.pattern.pattern)
        cond = f"REGEXP_MATCHES({col}, {_lit(pattern)})" + "".join(
            f" AND STRPOS({col}, {_lit(x)}) = 0" for x in excluded)
        whens.append(f"WHEN {cond} THEN {'NULL' if value is None else _lit(value)}")
    return f"CASE {' '.join(whens)} END"


NUMBER_TYPES = ("number",)
KIND_TEXT, KIND_NUMBER, KIND_TIME = "text", "number", "time"


def _mapping(fmt: str, columns: dict[str, str]) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """(select list of the mapping CTE, the FOCUS column -> its value kind, FOCUS column -> source name for errors)."""
    targets = {n.column for n in number_rules()} | {PERIOD_COLUMN} | set(TEXT_COLUMNS)
    select, kinds, names = [f"{_q(ROW)} AS {_q(ROW)}" if ROW in columns else f"CAST(NULL AS BIGINT) AS {_q(ROW)}"], {}, {}
    for target in sorted(targets):
        if fmt == "cur":
            src = CUR_SOURCES.get(target)
            sources = (src,) if src else ()
        else:
            sources = FOCUS_SOURCES.get(target, (target,))
        present = [s for s in sources if s in columns]
        if fmt == "cur" and target == "ProviderName":
            expr, kind, name = _lit("AWS"), KIND_TEXT, target
        elif fmt == "cur" and target == "x_UsageKind" and "line_item_usage_type" in columns:
            expr, kind, name = _cur_case(_text(_q("line_item_usage_type")), "usage_kind"), KIND_TEXT, target
        elif fmt == "cur" and target == "PricingUnit" and "line_item_usage_type" in columns:  # after pricing_unit
            expr, kind, name = _cur_case(_text(_q("line_item_usage_type")), "unit"), KIND_TEXT, target
        elif present:
            expr, kind, name = _q(present[0]), columns[present[0]], present[0]
        else:
            expr, kind, name = "CAST(NULL AS VARCHAR)", KIND_TEXT, target
        if target in (ERROR_COLUMN, ERROR_REASON) and not present:
            expr = "CAST(NULL AS VARCHAR)"
        select.append(f"{expr} AS {_q(target)}")
        kinds[target], names[target] = kind, name
    return select, kinds, names


def _checks(kinds: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """Per-row work, in two layers: ``num`` parses each number once (and keeps its text), ``chk`` derives the
    value, a rejected flag and the reason. The period is kept as its first 7 characters (or its month, for a
    typed timestamp): they alone decide it, so it is checked after the GROUP BY, once per distinct value."""
    num, chk, errors = [], [], []
    quote = _lit("'")
    for rule in number_rules():
        c, x = _q(rule.column), rule.column
        if kinds[x] == KIND_TEXT:
            num += [f"TRY_CAST({_text(c)} AS DOUBLE) AS {_q('n_' + x)}", f"({_text(c)} IS NOT NULL) AS {_q('p_' + x)}",
                    f"SUBSTR({_text(c)}, 1, 40) AS {_q('s_' + x)}"]
        else:
            num += [f"CAST({c} AS DOUBLE) AS {_q('n_' + x)}", f"({c} IS NOT NULL) AS {_q('p_' + x)}",
                    f"CAST({c} AS VARCHAR) AS {_q('s_' + x)}"]
        n, present, shown = _q("n_" + x), _q("p_" + x), _q("s_" + x)
        bad = f"({n} IS NULL OR {n} - {n} <> 0)"
        chk.append(f"CASE WHEN {n} - {n} = 0 THEN {n} END AS {_q('v_' + x)}")
        chk.append(f"CASE WHEN NOT {present} THEN {'TRUE' if rule.required else 'FALSE'} ELSE {bad} END "
                   f"AS {_q('b_' + x)}")
        chk.append(f"CASE WHEN NOT {present} THEN {_lit('empty') if rule.required else 'NULL'} WHEN {bad} THEN "
                   f"{_lit('not a finite number: ' + chr(39))} || {shown} || {quote} END AS {_q('e_' + x)}")
        errors.append(x)
    p = _q(PERIOD_COLUMN)
    if kinds[PERIOD_COLUMN] == KIND_TIME:
        num += [f"DATE_TRUNC('month', {p}) AS per", f"CAST({p} AS VARCHAR) AS pt"]
    else:
        num += [f"SUBSTR({_text(p)}, 1, 7) AS per", f"{_text(p)} AS pt"]
    chk += ["per", f"CASE WHEN pt IS NULL THEN 'empty' WHEN NOT REGEXP_MATCHES(pt, {_lit(PERIOD_PATTERN)}) "
                   f"THEN {_lit('not an ISO date: ' + chr(39))} || SUBSTR(pt, 1, 40) || {quote} END "
                   f"AS {_q('e_' + PERIOD_COLUMN)}"]
    errors.append(PERIOD_COLUMN)
    return num, chk, errors


def _classified() -> list[str]:
    t = {c: _text(_q(c)) for c in TEXT_COLUMNS}
    prov = f"LOWER({t['ProviderName']})"
    provider = ("CASE " + " ".join(f"WHEN STRPOS({prov}, {_lit(n)}) > 0 THEN {_lit(pid)}" for n, pid in PROVIDER_RULES)
                + f" ELSE COALESCE({prov}, '') END")
    cat_text = f"LOWER(COALESCE({t['ChargeCategory']}, '') || ' ' || COALESCE({t['ChargeClass']}, ''))"
    category = ("CASE " + " ".join(f"WHEN {_contains(cat_text, needles)} THEN {_lit(c.value)}"
                                   for needles, c in CATEGORY_RULES) + f" ELSE {_lit(DEFAULT_CATEGORY.value)} END")
    stated = t["x_UsageKind"]
    kinds = [f"CASE WHEN {stated} IN ({', '.join(_lit(k.value) for k in UsageKind)}) THEN {stated} END"]
    kinds += [_kind_of(t[c]) for c in USAGE_COLUMNS]
    unit = f"LOWER(COALESCE({', '.join(t[c] for c in UNIT_COLUMNS)}, ''))"
    scale = ("CASE " + " ".join(f"WHEN REGEXP_MATCHES({unit}, {_lit(p)}) THEN {s!r}" for p, s in UNIT_SCALE_RULES)
             + " ELSE 1.0 END")
    batch = " OR ".join(f"STRPOS(LOWER(COALESCE({t[c]}, '')), 'batch') > 0" for c in BATCH_COLUMNS)
    models = [f"COALESCE({t[c]}, '') AS m{i}" for i, c in enumerate(MODEL_COLUMNS)]
    return [f"{provider} AS provider", f"COALESCE({t['ServiceName']}, '') AS service",
            f"COALESCE({', '.join(kinds)}, '') AS kind", f"{scale} AS unit_scale",
            f"UPPER(COALESCE({t['BillingCurrency']}, 'USD')) AS currency", f"{category} AS category",
            f"({batch}) AS batch", *models]


def _checked_cte(relation: str, fmt: str, columns: dict[str, str]) -> tuple[str, list[str], dict[str, str]]:
    """Per row only what must be per row: numbers, the period and their errors; the text columns pass through."""
    mapped, kinds, names = _mapping(fmt, columns)
    num, chk, errors = _checks(kinds)
    text = ", ".join(_q(c) for c in TEXT_COLUMNS)
    return (f"WITH src AS (SELECT {', '.join(mapped)} FROM {relation}),\n"
            f"num AS (SELECT {_q(ROW)} AS row_no, {', '.join(num)}, {text} FROM src),\n"
            f"chk AS (SELECT row_no, {', '.join(chk)}, {text} FROM num)", errors, names)


OUTPUT_COLUMNS = ("rejected", "provider", "service", "kind", "currency", "category", "period", "batch",
                  *(f"m{i}" for i in range(len(MODEL_COLUMNS))), "row_count", "billed_cost", "effective_cost",
                  "quantity", "rows_without_cost", "evidence_rows")


# Money and quantities are summed as DECIMAL: a float SUM split across DuckDB's threads (or Athena's workers)
# depends on the split, and the same file must give a byte-identical analysis. 10 decimals per row, exact sums.
SUM_DECIMAL = "DECIMAL(38, 10)"


def _exact_sum(expr: str) -> str:
    return f"CAST(SUM(CAST({expr} AS {SUM_DECIMAL})) AS DOUBLE)"


def aggregate_sql(relation: str, fmt: str, columns: dict[str, str]) -> str:
    """The aggregate query (DuckDB dialect) over ``relation`` whose columns have the given value kinds.

    Rows are summed per distinct raw key first (numbers parsed per row); the classification rules then run
    once per key, not once per row. Output: ``OUTPUT_COLUMNS``, one row per key (the caller merges)."""
    cte, errors, _ = _checked_cte(relation, fmt, columns)
    bad = " OR ".join(_q("b_" + r.column) for r in number_rules())
    keys = [f"({bad}) AS bad_number", "per", *(_q(c) for c in TEXT_COLUMNS)]
    tokens = ", ".join(_lit(k) for k in TOKEN_KINDS)
    per = "SUBSTR(CAST(per AS VARCHAR), 1, 7)"
    valid = f"COALESCE(REGEXP_MATCHES({per}, {_lit(PERIOD_PATTERN)}), FALSE)"
    billed = _q("v_BilledCost")
    effective = f"COALESCE({_q('v_EffectiveCost')}, {billed})"
    return (f"{cte},\n"
            f"grp AS (SELECT {', '.join(keys)}, COUNT(*) AS row_count, {_exact_sum(billed)} AS billed_cost, "
            f"{_exact_sum(effective)} AS effective_cost, "
            f"{_exact_sum(_q('v_ConsumedQuantity'))} AS raw_quantity, "
            f"COUNT(*) FILTER (WHERE {_q('v_BilledCost')} IS NULL) AS rows_without_cost, "
            f"MIN(row_no, {EVIDENCE_ROWS}) AS evidence_rows "
            f"FROM chk GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}),\n"
            f"cls AS (SELECT grp.*, (bad_number OR {_q(ERROR_COLUMN)} IS NOT NULL OR NOT {valid}) AS rejected, "
            f"CASE WHEN {valid} THEN {per} ELSE '' END AS period, {', '.join(_classified())} FROM grp)\n"
            f"SELECT rejected, provider, service, kind, currency, category, period, batch, "
            f"{', '.join(f'm{i}' for i in range(len(MODEL_COLUMNS)))}, row_count, billed_cost, effective_cost, "
            f"raw_quantity * CASE WHEN kind IN ({tokens}) THEN unit_scale ELSE 1.0 END AS quantity, "
            f"rows_without_cost, evidence_rows FROM cls")


def errors_sql(relation: str, fmt: str, columns: dict[str, str], limit: int) -> str:
    """Rejected rows' (row, column, reason, total errors), the first ``limit`` by row and column (DuckDB dialect)."""
    cte, errors, names = _checked_cte(relation, fmt, columns)
    pre_col, pre_reason = _q(ERROR_COLUMN), _q(ERROR_REASON)
    parts = [f"SELECT row_no, {_lit(names[c])} AS column_name, {_q('e_' + c)} AS reason FROM chk "
             f"WHERE {_q('e_' + c)} IS NOT NULL AND {pre_col} IS NULL" for c in errors]
    parts.append(f"SELECT row_no, {pre_col} AS column_name, {pre_reason} AS reason FROM chk WHERE {pre_col} IS NOT NULL")
    return (f"{cte}\nSELECT row_no, column_name, reason, COUNT(*) OVER () AS total "
            f"FROM ({' UNION ALL '.join(parts)}) AS e ORDER BY row_no, column_name, reason LIMIT {int(limit)}")


@cache
def export_columns(fmt: str = "focus") -> dict[str, str]:
    """The value kinds of an AWS Data Exports table in Parquet (Glue types): FOCUS 1.2 or CUR 2.0."""
    if fmt == "cur":  # net costs (line_item_net_*) exist only with discounts; the model is in the product map
        kinds = {c: KIND_TEXT for c in CUR_SOURCES.values() if c not in CUR_OPTIONAL}
        kinds.update({CUR_SOURCES[c]: KIND_NUMBER for c in ("BilledCost", "ConsumedQuantity")})
        kinds[CUR_SOURCES["ChargePeriodStart"]] = KIND_TIME
        return kinds
    kinds = {c: KIND_TEXT for c in focus_columns("1.2")}
    kinds.update({c: KIND_NUMBER for c in ("BilledCost", "EffectiveCost", "ConsumedQuantity", "PricingQuantity")})
    kinds[PERIOD_COLUMN] = KIND_TIME
    return kinds


# The rule SQL keeps to functions DuckDB and Trino share (TRY_CAST, STRPOS, SUBSTR, DATE_TRUNC, MIN(x, n),
# COUNT(*) FILTER, ||), except one name. Trino is emitted directly, so the Lambda layers need no SQL
# transpiler; the tests parse it with sqlglot and run it back in DuckDB (tests/unit/test_invoice_sql.py).
DIALECT_NAMES = {"trino": {"REGEXP_MATCHES": "REGEXP_LIKE"}, "athena": {"REGEXP_MATCHES": "REGEXP_LIKE"}}


def export_sql(relation: str, dialect: str = "duckdb", fmt: str = "focus", columns: dict[str, str] | None = None) -> str:
    """The aggregate query for an export table ``relation``, in ``dialect`` ("duckdb", or "trino" for Athena).

    ``columns`` maps the table's column names to "text", "number" or "time"; by default the AWS Data Exports
    Parquet schema of ``fmt`` ("focus" or "cur"). Feed its rows to ``analyze_aggregates``. Any other dialect is
    transpiled from DuckDB's by sqlglot (a development dependency, not in the Lambda layers)."""
    sql = aggregate_sql(relation, fmt, dict(columns or export_columns(fmt)))
    if dialect == "duckdb":
        return sql
    if dialect in DIALECT_NAMES:
        for name, theirs in DIALECT_NAMES[dialect].items():
            sql = re.sub(rf"\b{name}\(", f"{theirs}(", sql)
        return sql
    # lazy: cold start, sqlglot (tens of ms to import) only when an export's aggregate SQL is generated
    import sqlglot
    from sqlglot.errors import ErrorLevel

    return sqlglot.transpile(sql, read="duckdb", write=dialect, unsupported_level=ErrorLevel.IGNORE)[0]
