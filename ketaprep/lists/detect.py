"""What kind of list a file is (CSV, XLSX or FHIR JSON), by its content first and then by its name."""

from __future__ import annotations

import codecs
from pathlib import Path

from ketaprep.errors import UsageError
from ketaprep.lists.row import Kind

MAX_LIST_BYTES = 50 * 1024 * 1024


ODS_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
NOT_A_LIST = "not a list ketaprep can read; give a CSV, a workbook (.xlsx, .xls, .ods) or a FHIR JSON Bundle"


def detect_kind(path: Path) -> Kind:
    """CSV, a workbook (.xlsx, legacy .xls, LibreOffice .ods) or FHIR JSON (a Bundle, a resource,
    or NDJSON), by content first and then by name."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(4096)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a folder; give the list file (CSV, XLSX, XLS, ODS or FHIR JSON)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    if size > MAX_LIST_BYTES:
        raise UsageError(f"{path}: the list is larger than {MAX_LIST_BYTES // (1024 * 1024)} MB; split it by day")
    if head.startswith(b"PK\x03\x04"):
        if ODS_MIMETYPE in head[:200] or path.suffix.lower() == ".ods":
            return "ods"
        if path.suffix.lower() in (".numbers", ".docx", ".pptx", ".zip", ".odt"):
            raise UsageError(f"{path}: {NOT_A_LIST}; save a Numbers or other file as .xlsx or .csv")
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # an OLE2 file: Excel 97-2003 (.xls), as OSCAR exports
        if path.suffix.lower() in (".doc", ".ppt", ".msg"):
            raise UsageError(f"{path}: {NOT_A_LIST}")
        return "xls"
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"{"):
        return "fhir"
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UsageError(f"{path}: {NOT_A_LIST}")
    if path.suffix.lower() in (".pdf", ".docx", ".doc", ".xls", ".xlsx", ".ods", ".zip"):
        raise UsageError(f"{path}: {NOT_A_LIST}")
    return "csv"
