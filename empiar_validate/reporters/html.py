"""One self-contained HTML page: the image sets as a table, findings grouped by image set.

No network and no external assets (inline CSS, thumbnails as ``data:`` URIs), so the file can
be attached to a ticket or opened from a CI artefact as it is. Everything shown comes from the
:class:`~empiar_validate.reporting.Report` (its ``data``, findings and thumbnails); the reporter
reads no file. Output is byte-identical for identical reports.
"""

from __future__ import annotations

from html import escape
from typing import Any, TextIO

from empiar_validate.findings import Finding
from empiar_validate.reporting import Report, counts, image_set_of, location

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24;max-width:80em}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
.ok{color:#1a7f37}.failed{color:#cf222e}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right}
.error{color:#cf222e;font-weight:600}.warning{color:#9a6700;font-weight:600}.info{color:#57606a}
.fix{color:#57606a;margin-left:1.5em}.loc{font-family:ui-monospace,monospace;font-size:.9em}
img.thumb{image-rendering:pixelated;border:1px solid #d0d7de;max-width:256px}
ul.findings{list-style:none;padding-left:0}ul.findings li{margin:.35em 0}
"""

_COLUMNS = (
    ("Directory", "directory"), ("Category", "category"), ("Count", "count"),
    ("Frames", "frames"), ("Dimensions", "dimensions"), ("Pixel size (Å)", "pixel"),
    ("Voxel type", "voxel"), ("Size on disk", "size"), ("Evidence for the category", "evidence"),
)


def _text(value: object) -> str:
    if value is None or value == "":
        return "?"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _size(value: object) -> str:
    if not isinstance(value, int):
        return "?"
    size = float(value)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{value} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)  # pragma: no cover


def _evidence(s: dict[str, Any]) -> str:
    """The category's evidence as the report states it (``category_evidence`` when the scan
    gives it), else what the category was derived from: formats, companions, derived fields."""
    given = s.get("category_evidence", s.get("evidence"))
    if isinstance(given, list):
        return "; ".join(_text(g) if not isinstance(g, dict) else
                         ", ".join(f"{k}: {_text(v)}" for k, v in g.items()) for g in given)
    if isinstance(given, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in given.items())
    if given:
        return str(given)
    parts = []
    derived = s.get("derived_from_headers")
    if isinstance(derived, list) and s.get("category"):
        parts.append("derived from the files" if "category" in derived
                     else "given in the metadata")
    if s.get("dataFormat"):
        parts.append(f"format {s.get('dataFormat')}")
    if s.get("companions"):
        parts.append("companions " + ", ".join(map(str, s["companions"])))
    if s.get("status"):
        parts.append(f"status {s['status']}")
    return "; ".join(parts) or "?"


def _row(s: dict[str, Any]) -> dict[str, str]:
    width, height = s.get("imageWidth"), s.get("imageHeight")
    pw, ph = s.get("pixelWidth"), s.get("pixelHeight")
    pixel = _text(pw) if pw == ph or ph is None else f"{_text(pw)} x {_text(ph)}"
    return {
        "directory": _text(s.get("directory")),
        "category": _text(s.get("category")),
        "count": _text(s.get("numImagesOrTiltSeries", s.get("files"))),
        "frames": _text(s.get("framesPerImage")),
        "dimensions": "?" if width is None and height is None
        else f"{_text(width)} x {_text(height)}",
        "pixel": pixel,
        "voxel": _text(s.get("voxelType")),
        "size": _size(s.get("bytes")),
        "evidence": _evidence(s),
    }


def _finding(f: Finding) -> str:
    where = f" <span class=loc>[at {escape(f.xpath)}]</span>" if f.xpath else ""
    fix = f'<div class=fix>fix: {escape(f.fix)}</div>' if f.fix else ""
    return (f"<li><span class={f.severity}>{f.severity} {escape(f.rule)}</span> "
            f"<span class=loc>{escape(location(f))}</span>: {escape(f.message)}{where}{fix}</li>")


def _set_of(f: Finding, sets: list[dict[str, Any]]) -> int | None:
    """Index of the image set a finding is about (by XML position, name, or directory)."""
    key = image_set_of(f)
    if key.startswith("imageSet["):
        n = int(key[len("imageSet["):key.index("]")]) - 1
        return n if 0 <= n < len(sets) else None
    for i, s in enumerate(sets):
        if f.image_set and f.image_set in (s.get("name"), s.get("directory")):
            return i
    path = f.file or ""
    best, best_len = None, -1
    for i, s in enumerate(sets):
        rel = str(s.get("directory") or "").removeprefix("/data").strip("/")
        if rel and (f"/{rel}/" in f"/{path}" or path.endswith(f"/{rel}") or path == rel) \
                and len(rel) > best_len:
            best, best_len = i, len(rel)
    return best


def render(report: Report, out: TextIO) -> None:
    """The whole page; thumbnails appear only when the command was asked for them."""
    c = counts(report.findings)
    verdict = "FAILED" if report.has_errors else "OK"
    title = f"empiar-validate {report.command}: {verdict}"
    sets = [s for s in report.data.get("image_sets") or [] if isinstance(s, dict)]
    w = out.write
    w("<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n")
    w(f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n")
    w(f'<h1>empiar-validate {escape(report.command)}: '
      f'<span class={verdict.lower()} id=verdict>{verdict}</span></h1>\n')
    w(f"<p id=counts>{len(report.checked)} checked, {c['error']} error(s), "
      f"{c['warning']} warning(s), {c['info']} info</p>\n")
    for key in ("dataset", "xml", "output"):
        if report.data.get(key):
            w(f"<p>{key}: <span class=loc>{escape(str(report.data[key]))}</span></p>\n")
    by_set: dict[int | None, list[Finding]] = {}
    for f in report.sorted_findings():
        by_set.setdefault(_set_of(f, sets) if sets else None, []).append(f)
    if sets:
        w("<h2>Image sets</h2>\n<table id=image-sets>\n<tr>")
        w("".join(f"<th>{escape(h)}</th>" for h, _ in _COLUMNS) + "<th>Thumbnail</th></tr>\n")
        for s in sets:
            row = _row(s)
            w("<tr class=image-set>" + "".join(
                f"<td{' class=num' if k in ('count', 'frames') else ''}>{escape(row[k])}</td>"
                for _, k in _COLUMNS))
            thumb = report.thumbnails.get(str(s.get("directory")))
            w(f'<td><img class=thumb alt="{escape(row["directory"])}" src="{thumb}"></td>'
              if thumb else "<td>-</td>")
            w("</tr>\n")
        w("</table>\n")
        for i, s in enumerate(sets):
            found = by_set.get(i)
            if found:
                w(f"<h2>{escape(_text(s.get('directory')))}: {escape(_text(s.get('name')))}</h2>"
                  "\n<ul class=findings>\n" + "".join(_finding(f) + "\n" for f in found)
                  + "</ul>\n")
    # inspect's "files" is a list of records; package's is a count (its plan's total)
    listed = report.data.get("files")
    files = [f for f in listed if isinstance(f, dict)] if isinstance(listed, list) else []
    if files and not sets:
        w("<h2>Files</h2>\n<table id=files>\n<tr><th>Path</th><th>Format</th><th>Voxel type"
          "</th><th>Dimensions</th><th>Pixel size (Å)</th><th>Size on disk</th></tr>\n")
        for f in files:
            dims = "x".join(_text(f.get(k)) for k in ("width", "height", "depth"))
            w(f"<tr><td class=loc>{escape(_text(f.get('path')))}</td>"
              f"<td>{escape(_text(f.get('format')))}</td>"
              f"<td>{escape(_text(f.get('voxel_type')))}</td><td>{escape(dims)}</td>"
              f"<td>{escape(_text(f.get('pixel_width')))}</td>"
              f"<td>{escape(_size(f.get('size')))}</td></tr>\n")
        w("</table>\n")
    rest = by_set.get(None, [])
    if rest:
        heading = "Other findings" if sets else "Findings"
        w(f"<h2>{heading}</h2>\n<ul class=findings>\n"
          + "".join(_finding(f) + "\n" for f in rest) + "</ul>\n")
    if not report.findings:
        w("<p>No findings.</p>\n")
    w("</body>\n</html>\n")

