"""Prediction tables -> Predictions: W&B table JSON (a `.table.json` file, or a downloaded
run_table artifact folder `<key>.table.json` + `media/images/...`) and CSV/Parquet files.

Column mapping (ColumnMap overrides any of it):
- ids from `id` (stringified), else the row number;
- truth from `truth`, else `label`, `target` or `y`;
- guess from `guess`, else `pred` or `prediction` (optional);
- scores from `score_<class>`, else `prob_<class>` or `p_<class>`; the suffixes name the
  classes unless the user gives a class list. Scores that are not probabilities are turned
  into them (softmax of logits, or rows divided by their sum), noted in meta. Columns under
  two of these prefixes naming different classes (score_0..3 with prob_4) are refused, as is
  a column name used twice.
When a table has scores and a guess column, the scores win: the guess is the argmax of the
scores, so accuracy, confidence, curves and calibration all describe the same predictions;
rows whose logged guess differs are counted in a warning (meta["warnings"]).
A table without score columns gets one-hot scores from its guess and
meta["scores_are_onehot"] = True: accuracy, F1, confusion and the per-example views work;
calibration, ROC/PR curves and confidence views have nothing real to show.
Image paths in a table resolve inside the table's folder only.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from PIL import UnidentifiedImageError

from core.datasets import read_image
from core.errors import VersusError
from core.predictions import Predictions

TRUTH_NAMES = ("truth", "label", "target", "y")
GUESS_NAMES = ("guess", "pred", "prediction")
SCORE_PREFIXES = ("score_", "prob_", "p_")
IMAGE_COLUMNS = ("image", "image_path")
TABLE_SUFFIX = ".table.json"
FILE_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass(frozen=True)
class ColumnMap:
    """Which columns hold what; None means found by the default names."""

    id: str | None = None
    truth: str | None = None
    guess: str | None = None
    score_prefix: str | None = None
    class_names: tuple[str, ...] | None = None

    def key(self) -> dict[str, Any]:
        """A JSON-able form for cache keys."""
        return {"id": self.id, "truth": self.truth, "guess": self.guess,
                "score_prefix": self.score_prefix,
                "class_names": list(self.class_names) if self.class_names else None}


@dataclass
class TableColumns:
    """The columns chosen for each role."""

    id: str | None
    truth: str
    guess: str | None
    scores: list[str]
    suffixes: list[str]
    image: str | None
    notes: tuple[str, ...] = ()  # sentences for the warnings: columns left out


def _pick(columns: Sequence[str], given: str | None, defaults: Sequence[str], role: str,
          source: str) -> str | None:
    if given:
        if given not in columns:
            raise VersusError(f"{source} has no {role} column {given!r} (columns: {', '.join(columns)}).")
        return given
    lower = {c.lower(): c for c in columns}
    return next((lower[d] for d in defaults if d in lower), None)


def _suffix_order(suffixes: list[str]) -> list[int]:
    if all(s.isdigit() for s in suffixes):
        return sorted(range(len(suffixes)), key=lambda k: int(suffixes[k]))
    return list(range(len(suffixes)))


def refuse_duplicate_names(columns: Sequence[str], source: str) -> None:
    """Refused when a column name appears more than once: which column holds the values would
    be a guess."""
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            raise VersusError(f"{source} has two columns named {c!r}; rename one so each column "
                              "name appears once.")
        seen.add(c)


def _prefixed(columns: Sequence[str], prefix: str) -> list[str]:
    return [c for c in columns if c.startswith(prefix) and len(c) > len(prefix)]


def _stray_prefixes(columns: Sequence[str], prefix: str, scores: list[str], source: str) -> list[str]:
    """Columns under another default score prefix naming classes the chosen prefix lacks. One
    that reads like a class of the chosen ones (score_0..3 with prob_4: both numbers) is refused,
    or a class would be dropped without a word; another (prob_threshold beside score_0..3) is
    left out, and the sentence returned says so."""
    chosen = {c[len(prefix):] for c in scores}
    numeric = all(s.isdigit() for s in chosen)
    notes = []
    for other in SCORE_PREFIXES:
        if other == prefix:
            continue
        stray = [c for c in _prefixed(columns, other) if c[len(other):] not in chosen]
        like_classes = [c for c in stray if c[len(other):].isdigit() == numeric]
        if like_classes:
            raise VersusError(
                f"{source} mixes score column prefixes: {prefix} ({', '.join(scores[:4])}"
                f"{', ...' if len(scores) > 4 else ''}) and {other} ({', '.join(like_classes[:4])}"
                f"{', ...' if len(like_classes) > 4 else ''}); give every class's score column the same prefix.")
        if stray:
            notes.append(f"{source}: the column{'s' if len(stray) > 1 else ''} {', '.join(stray[:4])} "
                         f"{'were' if len(stray) > 1 else 'was'} not read as scores (the score columns are "
                         f"{prefix}*).")
    return notes


def resolve_columns(columns: Sequence[str], m: ColumnMap, source: str) -> TableColumns:
    """The id, truth, guess, score and image columns of a table, by the mapping and defaults."""
    columns = [str(c) for c in columns]
    refuse_duplicate_names(columns, source)
    truth = _pick(columns, m.truth, TRUTH_NAMES, "truth", source)
    if truth is None:
        raise VersusError(f"{source} has no truth column (looked for {', '.join(TRUTH_NAMES)}; "
                          f"columns: {', '.join(columns)}); map it under Columns.")
    guess = _pick(columns, m.guess, GUESS_NAMES, "guess", source)
    prefixes = (m.score_prefix,) if m.score_prefix else SCORE_PREFIXES
    scores: list[str] = []
    prefix = ""
    for prefix in prefixes:
        scores = _prefixed(columns, prefix)
        if scores:
            break
    notes = _stray_prefixes(columns, prefix, scores, source) if scores and not m.score_prefix else []
    suffixes = [c[len(prefix):] for c in scores]
    order = _suffix_order(suffixes)
    scores, suffixes = [scores[k] for k in order], [suffixes[k] for k in order]
    if not scores and guess is None:
        raise VersusError(f"{source} has neither score columns ({', '.join(p + '*' for p in prefixes)}) "
                          "nor a guess column; map them under Columns.")
    image = next((c for c in columns if c.lower() in IMAGE_COLUMNS), None)
    return TableColumns(_pick(columns, m.id, ("id",), "id", source), truth, guess, scores,
                        suffixes, image, tuple(notes))


def _labels(values: Sequence[Any], class_names: list[str], role: str, source: str,
            aliases: Sequence[str] = ()) -> np.ndarray:
    """Class indices of label values given as indices, class names or aliases (the score
    column suffixes when the user renamed the classes)."""
    arr = np.asarray(values) if len(values) else np.zeros(0, np.int64)
    if arr.dtype.kind in "iu" and (arr.size == 0 or (arr.min() >= 0 and arr.max() < len(class_names))):
        return arr.astype(np.int64)
    index = {name: k for k, name in enumerate(class_names)}
    for k, name in enumerate(aliases):
        index.setdefault(name, k)
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)) or v is None or (isinstance(v, float) and not v.is_integer()):
            k = None
        elif isinstance(v, (int, np.integer, float, np.floating)):
            k = int(v)
        elif str(v) in index:
            k = index[str(v)]
        else:
            k = int(str(v)) if str(v).lstrip("-").isdigit() else None
        if k is None or not 0 <= k < len(class_names):
            raise VersusError(f"{source}: the {role} {v!r} in row {i} is not one of the "
                              f"{len(class_names)} classes ({', '.join(class_names[:10])}"
                              f"{', ...' if len(class_names) > 10 else ''}).")
        out[i] = k
    return out


def _inferred_classes(truth: Sequence[Any], guess: Sequence[Any] | None) -> list[str]:
    values = list(truth) + (list(guess) if guess is not None else [])
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return [str(k) for k in range(max(values) + 1)] if values else []
    return sorted({str(v) for v in values})


FLOAT32_MAX = float(np.finfo(np.float32).max)


def score_column(values: Sequence[Any], name: str, source: str) -> np.ndarray:
    """One score column as float32; a cell that is not a number, empty, infinite or beyond
    float32's range is refused with its column and row."""
    try:
        col = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        col = None
    if col is None or col.ndim != 1:  # a text cell, or lists in every cell
        row = next((i for i, v in enumerate(values) if not _is_number(v)), 0)
        raise VersusError(f"{source}: the score {values[row]!r} in column {name!r}, row {row} "
                          "is not a number.")
    bad = ~np.isfinite(col)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise VersusError(f"{source} has an empty or infinite score ({col[row]}) in column {name!r}, "
                          f"row {row}.")
    big = np.abs(col) > FLOAT32_MAX
    if big.any():
        row = int(np.flatnonzero(big)[0])
        raise VersusError(f"{source}: the score {col[row]:.3g} in column {name!r}, row {row} is too "
                          f"large for float32 (at most {FLOAT32_MAX:.3g}).")
    return col.astype(np.float32)


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _probabilities(raw: np.ndarray, source: str, names: Sequence[str] = ()) -> tuple[np.ndarray, str | None]:
    """Rows of finite float32 scores as probabilities, and a sentence saying how they were made
    so (None when they already were)."""
    sums = raw.sum(axis=1, dtype=np.float64)  # float32 sums of scores near its limit would overflow
    if raw.min(initial=0.0) >= 0 and np.allclose(sums, 1.0, atol=1e-3):
        return raw, None
    if raw.min(initial=0.0) < 0:
        negative = raw < 0
        row, col = (int(v[0]) for v in np.nonzero(negative))
        column = names[col] if col < len(names) else f"column {col}"
        with np.errstate(over="ignore"):  # a logit beyond float32's range below its row's top is -inf: probability 0
            e = np.exp(raw - raw.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True), (
            f"{source}: {int(negative.sum()):,} score cell(s) are negative (first: row {row}, {column}), so "
            "its scores were read as logits and turned into probabilities with a softmax.")
    if np.any(sums <= 0):
        raise VersusError(f"{source} has a row whose scores are all zero.")
    rows = np.divide(raw, sums[:, None], out=np.empty_like(raw), casting="unsafe")  # no float64 copy
    return rows, (f"{source}: its score rows do not sum to 1, so each was divided by its sum to make "
                  "probabilities.")


def build_predictions(columns: dict[str, Sequence[Any]], n: int, cols: TableColumns, m: ColumnMap,
                      source: str, meta: dict[str, Any], samples: Any = None) -> Predictions:
    """Predictions from column values picked out by cols (see the module docstring)."""
    if n == 0:
        raise VersusError(f"{source} has no rows; there is nothing to compare.")
    truth_values = columns[cols.truth]
    guess_values = columns[cols.guess] if cols.guess else None
    if m.class_names:
        class_names = list(m.class_names)
        if cols.scores and len(class_names) != len(cols.scores):
            raise VersusError(f"{len(class_names)} class names were given but {source} has "
                              f"{len(cols.scores)} score columns.")
    elif cols.scores:
        class_names = cols.suffixes
    else:
        class_names = _inferred_classes(truth_values, guess_values)
    truth = _labels(truth_values, class_names, "truth", source, cols.suffixes)
    guess = _labels(guess_values, class_names, "guess", source, cols.suffixes) if guess_values is not None else None
    meta = dict(meta, scores_are_onehot=not cols.scores, scores_note=None)
    warnings = list(meta.get("warnings", [])) + list(cols.notes)
    if cols.scores:
        raw = np.empty((n, len(cols.scores)), np.float32)  # filled in place: no list of columns beside it
        for j, c in enumerate(cols.scores):
            raw[:, j] = score_column(columns[c], c, source)
        scores, meta["scores_note"] = _probabilities(raw, source, cols.scores)
        if meta["scores_note"]:
            warnings.append(meta["scores_note"])
    else:
        scores = np.zeros((n, len(class_names)), dtype=np.float32)
        scores[np.arange(n), guess] = 1.0
        warnings.append(f"{source} has no score columns: its guesses count as one-hot scores, so its "
                        "calibration, curves and confidences carry no information.")
    meta["warnings"] = warnings
    ids = _ids(columns[cols.id], source) if cols.id else [str(i) for i in range(n)]
    pred = Predictions(ids, truth, scores, class_names, samples=samples, meta=meta,
                       guess_override=guess if guess is not None and not cols.scores else None,
                       extra=extra_columns(columns, cols))
    if guess is not None and cols.scores:  # the scores' argmax, computed once, is pred.guess
        warnings.extend(_guess_disagreement(guess, pred.guess, cols.guess or "", source))
    return pred


def _guess_disagreement(guess: np.ndarray, top: np.ndarray, column: str, source: str) -> list[str]:
    """A warning when a logged guess column differs from the top-scoring class (which versus
    uses) on any row; none when they agree everywhere."""
    differ = np.flatnonzero(guess != top)
    if not len(differ):
        return []
    return [f"{source}: its logged {column!r} column differs from the top-scoring class on "
            f"{len(differ):,} of {len(guess):,} rows (first: row {int(differ[0])}); versus uses the "
            "top-scoring class, so accuracy and every view follow the scores, not the logged guesses."]


def extra_columns(columns: dict[str, Sequence[Any]], cols: TableColumns) -> pd.DataFrame | None:
    """The table's columns that play no role (not id, truth, guess, scores or image), e.g. a
    logged camera or split; None when there are none. Cells that are not plain values are dropped."""
    used = {cols.id, cols.truth, cols.guess, cols.image, *cols.scores}
    keep = {}
    for name, values in columns.items():
        if name in used or not all(v is None or isinstance(v, (str, int, float, bool)) for v in values):
            continue
        keep[name] = list(values)
    return pd.DataFrame(keep) if keep else None


def _ids(values: Sequence[Any], source: str) -> list[str]:
    """Ids as strings; an empty id (null, NaN) is refused with its row, so it is never confused
    with the text "None"."""
    out = []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and v != v):
            raise VersusError(f"{source}: row {i} has no id (the id cell is empty).")
        out.append(str(v))
    return out


# ---- safe image paths -------------------------------------------------------------------------

_LEAVES = re.compile(r"(?:^|[/\\])\.\.(?:[/\\]|$)|^[/\\]|^.:|^[/\\.]*$")


def check_relative(rel: str, source: str) -> str:
    """rel as a POSIX path when it stays inside its folder; refused when absolute or with '..'."""
    parts = [p for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
    if rel.startswith(("/", "\\")) or rel[1:2] == ":" or ".." in parts or not parts:
        raise VersusError(f"{source} refers to the image {rel!r}, a path that leaves the table's "
                          "folder; refused.")
    return "/".join(parts)


def resolve_inside(root: Path, rel: str, source: str) -> Path:
    """root/rel, refused when it (or a link on the way) leads outside root."""
    base = root.resolve()
    target = (base / check_relative(rel, source)).resolve()
    if not target.is_relative_to(base):
        raise VersusError(f"{source} refers to the image {rel!r}, which links outside the table's "
                          "folder; refused.")
    return target


def decode_image(data: bytes | Path) -> np.ndarray:
    """An image file's pixels as uint8 HxW (gray) or HxWx3 (RGB)."""
    try:
        return read_image(io.BytesIO(data) if isinstance(data, bytes) else data)
    except (UnidentifiedImageError, OSError) as exc:
        raise VersusError(f"An image of the table cannot be read ({exc}).") from None


class FolderImages:
    """Images of a table read on demand from files inside one folder."""

    def __init__(self, root: Path, paths: Sequence[str | None], fingerprint: str, source: str) -> None:
        self.root, self.paths, self.fingerprint, self.source = Path(root), list(paths), fingerprint, source

    def image(self, i: int) -> np.ndarray:
        """Image of row i."""
        rel = self.paths[int(i)]
        if rel is None:
            raise VersusError(f"Row {i} of {self.source} has no image.")
        return decode_image(resolve_inside(self.root, rel, self.source))


class FetchedImages:
    """Images of a table fetched on demand by path (from an artifact or a staging folder)."""

    def __init__(self, paths: Sequence[str | None], fetch: Callable[[str], Path], fingerprint: str,
                 source: str) -> None:
        self.paths, self.fetch, self.fingerprint, self.source = list(paths), fetch, fingerprint, source

    def image(self, i: int) -> np.ndarray:
        """Image of row i."""
        rel = self.paths[int(i)]
        if rel is None:
            raise VersusError(f"Row {i} of {self.source} has no image.")
        return decode_image(self.fetch(rel))


def image_paths(values: Sequence[Any] | None, source: str) -> list[str | None] | None:
    """Relative paths of an image column (W&B image-file dicts or plain strings); a path that
    would leave the folder is refused here (and each path is checked again when read)."""
    if values is None:
        return None
    out: list[str | None] = []
    for v in values:
        path = v.get("path") if isinstance(v, dict) else v if isinstance(v, str) else None
        if path and path != "Image" and _LEAVES.search(path):
            check_relative(path, source)  # raises with the message
        out.append(path if path and path != "Image" else None)
    return out if any(p is not None for p in out) else None


# ---- W&B table JSON ---------------------------------------------------------------------------

@dataclass
class ParsedTable:
    """A table's columns (by name), row count and content digest."""

    names: list[str]
    columns: dict[str, Sequence[Any]]
    n: int
    sha256: str


def parse_table_json(raw: bytes, source: str) -> ParsedTable:
    """The columns of a W&B table JSON document (the layout of wandb.Table.to_json)."""
    try:
        doc = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise VersusError(f"{source} is not UTF-8 text (invalid byte at offset {exc.start:,}); a W&B "
                          "table is JSON in UTF-8.") from None
    except json.JSONDecodeError as exc:
        if exc.pos >= len(raw.rstrip()):
            raise VersusError(f"{source} is not complete JSON (it breaks off at byte {exc.pos:,} of "
                              f"{len(raw):,}); fetch the table again.") from None
        raise VersusError(f"{source} is not valid JSON ({exc.msg} at byte {exc.pos:,} of "
                          f"{len(raw):,}); fetch or export the table again.") from None
    except RecursionError:
        raise VersusError(f"{source} nests its JSON far deeper than a W&B table does; refused.") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("columns"), list) \
            or not isinstance(doc.get("data"), list):
        kind = doc.get("_type") if isinstance(doc, dict) else None
        extra = f" (it is a {kind!r})" if kind and kind != "table" else ""
        raise VersusError(f"{source} is not a W&B table with columns and data{extra}.")
    names = [str(c) for c in doc["columns"]]
    data = doc["data"]
    if any(not isinstance(row, list) or len(row) != len(names) for row in data):
        raise VersusError(f"{source} has a row whose length differs from its {len(names)} columns.")
    cols = list(zip(*data)) if data else [()] * len(names)
    return ParsedTable(names, dict(zip(names, cols)), len(data), hashlib.sha256(raw).hexdigest())


def table_meta(source: str, fmt: str, sha256: str, m: ColumnMap, **extra: Any) -> dict[str, Any]:
    """The meta of a table's Predictions (what the Overview's Models section shows)."""
    return {"source": source, "format": fmt, "table_sha256": sha256, "mapping": m.key(),
            "arch_note": "none (logged predictions, no model run)", "preprocessing": "n/a",
            "epoch": None, **extra}


def table_predictions(raw: bytes, m: ColumnMap, source: str, fmt: str,
                      images: Callable[[list[str | None], str], Any] | None,
                      **meta: Any) -> Predictions:
    """Predictions from table JSON bytes; images(paths, fingerprint) makes the lazy samples."""
    t = parse_table_json(raw, source)
    cols = resolve_columns(t.names, m, source)
    paths = image_paths(t.columns.get(cols.image), source) if cols.image else None
    samples = images(paths, t.sha256) if images is not None and paths is not None else None
    return build_predictions(t.columns, t.n, cols, m, source,
                             table_meta(source, fmt, t.sha256, m, **meta), samples)


def find_table_file(path: str | Path, key: str | None = None) -> Path:
    """The `.table.json` file a path names: the file itself, or the one (or `<key>`) in a folder."""
    p = Path(path).expanduser()
    if p.is_file():
        return p
    if not p.is_dir():
        raise VersusError(f"{path} {'is neither a file nor a folder' if p.exists() else 'does not exist'}.")
    found = sorted(p.glob(f"*{TABLE_SUFFIX}"))
    if key is not None:
        found = [f for f in found if f.name == f"{key}{TABLE_SUFFIX}"]
    if not found:
        want = f"{key}{TABLE_SUFFIX}" if key else f"*{TABLE_SUFFIX}"
        raise VersusError(f"{path} holds no {want} file.")
    if len(found) > 1:
        raise VersusError(f"{path} holds several tables ({', '.join(f.name for f in found)}); "
                          "name the file.")
    return found[0]


def load_table_file(path: str | Path, m: ColumnMap = ColumnMap(), key: str | None = None) -> Predictions:
    """Predictions from a `.table.json` file or a run_table artifact folder; images are read
    from the table's folder, on demand."""
    f = find_table_file(path, key)
    try:
        raw = f.read_bytes()
    except OSError as exc:
        raise VersusError(f"{f} cannot be read ({exc.strerror}).") from None
    root = f.parent
    return table_predictions(raw, m, f.name, "W&B table file",
                             lambda paths, fp: FolderImages(root, paths, f"table:{fp}", f.name),
                             path=str(f))


def csv_header(raw: bytes) -> list[str]:
    """The named columns of a CSV file as written in its first row (pandas renames repeats;
    blank names, which pandas calls 'Unnamed: k', are left out)."""
    first = pd.read_csv(io.BytesIO(raw), header=None, nrows=1, dtype=str, keep_default_na=False)
    return [str(v) for v in first.iloc[0].tolist() if str(v)] if len(first) else []


def load_predictions_file(path: str | Path, m: ColumnMap = ColumnMap()) -> Predictions:
    """Predictions from a CSV or Parquet file (id, truth, score_*); an `image`/`image_path`
    column of paths relative to the file's folder gives the images."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise VersusError(f"{path} {'is not a regular file' if p.exists() else 'does not exist'}.")
    try:
        raw = p.read_bytes()
        if p.suffix.lower() == ".csv":
            frame, fmt = pd.read_csv(io.BytesIO(raw)), "CSV predictions"
            # pandas renames a repeated header (score_0, score_0.1): the header as written is checked
            refuse_duplicate_names(csv_header(raw), p.name)
        else:
            frame, fmt = pd.read_parquet(io.BytesIO(raw)), "Parquet predictions"
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise VersusError(f"{p.name} cannot be read as {p.suffix.lstrip('.').upper()} "
                          f"({str(exc).splitlines()[0][:120]}).") from None
    sha = hashlib.sha256(raw).hexdigest()
    cols = resolve_columns(list(frame.columns), m, p.name)
    # Score columns stay numpy arrays: a Python float per cell costs gigabytes at 1,000 classes.
    columns = {c: frame[c].to_numpy() if c in cols.scores else frame[c].tolist() for c in frame.columns}
    n = len(frame)
    del frame
    paths = image_paths(columns.get(cols.image), p.name) if cols.image else None
    samples = FolderImages(p.parent, paths, f"file:{sha}", p.name) if paths else None
    return build_predictions(columns, n, cols, m, p.name,
                             table_meta(p.name, fmt, sha, m, path=str(p)), samples)
