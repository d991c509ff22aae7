"""CSV text built column-wise: byte for byte what ``DataFrame.to_csv`` writes, several times faster.

Arrow compute kernels join the fields of every row; text cells are quoted where Python's csv
module quotes them (QUOTE_MINIMAL: a comma, a quote, CR or LF), floats spelt as pandas spells
them, missing cells empty. Cell types it does not know go to ``to_csv``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["csv_fields", "encode_csv_rows", "join_csv_fields", "quote_csv"]


def encode_csv_rows(frame: pd.DataFrame) -> bytes:
    """The rows of ``frame`` (no header) as UTF-8 CSV, byte for byte what ``to_csv`` writes.

    Built column-wise with Arrow compute kernels (several times faster than ``to_csv``): text
    cells are quoted where Python's csv module quotes them (QUOTE_MINIMAL: a comma, a quote, CR
    or LF), floats spelt as pandas spells them, missing cells empty. Frames with other cell
    types (or a single column, where csv quotes an empty cell) go to ``to_csv``.
    """
    fields = [csv_fields(frame.iloc[:, k]) for k in range(frame.shape[1])]
    if len(fields) < 2 or any(f is None for f in fields):
        return frame.to_csv(index=False, header=False).encode("utf-8")
    return join_csv_fields(fields)


def join_csv_fields(fields: list) -> bytes:
    """Join Arrow string arrays of CSV fields (null: empty) into UTF-8 lines ending in LF."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lines = pc.binary_join_element_wise(*fields, ",", null_handling="replace",
                                        null_replacement="")
    lines = pc.binary_join_element_wise(lines, "", "\n")
    # the lines lie back to back in the array's data buffer: its bytes are the CSV rows
    _, offsets, data = lines.buffers()
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    bounds = np.frombuffer(offsets, dtype=width)[lines.offset:lines.offset + len(lines) + 1]
    return data.to_pybytes()[int(bounds[0]):int(bounds[-1])] if len(lines) else b""


def csv_fields(column: pd.Series):
    """One column as an Arrow string array of CSV fields (null: empty), None if unsupported."""
    import pyarrow as pa

    values = column.to_numpy()
    kind = values.dtype.kind
    if kind == "f":
        return _float_cells(values.astype(float))
    if kind in "iu":
        return pa.array(values.astype(str), type=pa.string())
    if kind != "O":
        return None
    if _looks_floating(values):  # e.g. lon/lat with None: nearly every value distinct
        return _float_cells(np.asarray(values, dtype=float))  # None becomes NaN
    # distinct values are few in most columns: convert and quote each once, then take
    codes, uniques = pd.factorize(values)
    uniques = np.asarray(uniques, dtype=object)
    inferred = pd.api.types.infer_dtype(uniques, skipna=False) if len(uniques) else "string"
    if inferred == "string":
        words = quote_csv(pa.array(uniques, type=pa.string()))
        return words.take(pa.array(codes, mask=codes < 0))
    if inferred == "floating":  # python floats in an object column: to_csv writes str(v)
        return _float_cells(np.asarray(values, dtype=float))  # None becomes NaN
    return None  # e.g. numbers mixed with text: let to_csv decide


def quote_csv(cells):
    """Quote the Arrow strings that Python's csv module quotes (a comma, a quote, CR or LF)."""
    import pyarrow.compute as pc

    special = pc.match_substring_regex(cells, '[,"\r\n]')
    if not pc.any(special).as_py():
        return cells
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(cells, '"', '""'), '"', "")
    return pc.if_else(special, quoted, cells)


def _looks_floating(values: np.ndarray) -> bool:
    """True for an object column of Python floats and None/NaN only.

    The first cells decide whether the whole column is scanned, so text columns pay nothing.
    """
    head = {type(v) for v in values[:64].tolist()} - {type(None)}
    return head == {float} and pd.api.types.infer_dtype(values, skipna=True) == "floating"


def _float_cells(values: np.ndarray):
    """``_float_text`` once per distinct value when values repeat (a confidence, an area)."""
    import pyarrow as pa

    sample = values[:1024]
    if len(pd.unique(sample)) * 4 > len(sample):  # mostly distinct (coordinates): no factorize
        return _float_text(values)
    codes, uniques = pd.factorize(values)  # NaN gets -1, a null after the take
    return _float_text(np.asarray(uniques, dtype=float)).take(pa.array(codes, mask=codes < 0))


def _float_text(values: np.ndarray):
    """Floats spelt as numpy's ``astype(str)`` spells them (what ``to_csv`` writes), NaN null.

    Arrow's cast gives the same shortest round-trip digits 7x faster, but writes 1 for 1.0 and
    0.00005 for 5e-05: integral values get ".0", and the rare values numpy writes in
    scientific notation are spelt by numpy.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    with np.errstate(invalid="ignore"):
        size = np.abs(values)
        # numpy switches to scientific notation below 1e-4 and at 1e16, arrow elsewhere too
        odd = ((size > 0) & (size < 1e-4)) | (size >= 1e9) | np.isinf(values)
        integral = (values == np.trunc(values)) & ~odd
    text = pc.cast(pa.array(values, mask=np.isnan(values)), pa.string())
    if integral.any():
        text = pc.if_else(pa.array(integral), pc.binary_join_element_wise(text, ".0", ""), text)
    if odd.any():
        cells = text.to_numpy(zero_copy_only=False)
        cells[odd] = values[odd].astype(str)
        text = pa.array(cells, type=pa.string(), from_pandas=True)
    return text
