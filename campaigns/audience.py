"""A campaign's audience from the file an administrator uploads (CSV or XLSX): numbers normalised to E.164,
bad rows reported (never sent), the same number listed twice kept once.

Columns are found by their header in any of the three languages (number / numéro / número / msisdn / phone,
name / nom / nombre, language / langue / idioma, segment); a file without a header is numbers in its first column.
"""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

from common import phone
from common.language import normalise_language_name
from common.text import fold

HEADERS = {
    "msisdn": {"msisdn", "number", "numero", "phone", "telephone", "tel", "celular", "movil", "mobile", "whatsapp"},
    "name": {"name", "nom", "nombre", "first name", "prenom"},
    "language": {"language", "langue", "idioma", "lang"},
    "segment": {"segment", "segmento", "type", "tipo"},
}


@dataclass
class Audience:
    rows: List[Dict[str, str]] = field(default_factory=list)  # {"msisdn", "name", "language", "segment"}
    rejected: List[Dict[str, str]] = field(default_factory=list)  # {"line", "value", "reason"}
    duplicates: int = 0


def read_file(path: Path, regions: Optional[Sequence[str]] = None) -> Audience:
    """The audience in a .csv or .xlsx file."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_rows(_xlsx_rows(path), regions)
    return read_rows(_csv_rows(path.read_bytes()), regions)


def read_rows(rows: Iterable[Sequence[object]], regions: Optional[Sequence[str]] = None) -> Audience:
    audience = Audience()
    columns: Optional[Dict[str, int]] = None
    seen = set()
    for line, raw in enumerate(rows, start=1):
        cells = ["" if cell is None else str(cell).strip() for cell in raw]
        if not any(cells):
            continue
        if columns is None:
            columns = _header(cells)
            if columns is not None:
                continue
            columns = {"msisdn": 0}
        value = _cell(cells, columns.get("msisdn"))
        language = normalise_language_name(_cell(cells, columns.get("language"))) or None
        # 5512 3456 is a Guatemalan number and an old Beninese one: the row's language says which market
        numbers = phone.candidates(_as_digits(value), regions or phone.regions_for_language(language))
        if not numbers:
            audience.rejected.append({"line": str(line), "value": value, "reason": "not a valid mobile number"})
            continue
        if numbers[0] in seen:
            audience.duplicates += 1
            continue
        seen.add(numbers[0])
        audience.rows.append(
            {
                "msisdn": numbers[0],
                "name": _cell(cells, columns.get("name")),
                "language": language if language in ("fr", "es", "en") else "",
                "segment": _cell(cells, columns.get("segment")),
            }
        )
    return audience


def _header(cells: List[str]) -> Optional[Dict[str, int]]:
    """The columns named by a header row; None when the row is data (it holds a number, not names)."""
    found = {}
    for index, cell in enumerate(cells):
        label = fold(cell).replace("_", " ").replace("-", " ").strip()
        for column, names in HEADERS.items():
            if label in names and column not in found:
                found[column] = index
    return found if "msisdn" in found else None


def _cell(cells: List[str], index: Optional[int]) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def _as_digits(value: str) -> str:
    """Spreadsheets turn 22997000001 into 22997000001.0 or 2.2997E+10: a number cell back to its digits."""
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() and "e" not in value.lower() and "." in value else value


def _csv_rows(data: bytes) -> Iterable[List[str]]:
    text = data.decode("utf-8-sig", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(io.StringIO(text), dialect))


def _xlsx_rows(path: Path) -> Iterable[Sequence[object]]:
    from openpyxl import load_workbook  # only for .xlsx uploads

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
