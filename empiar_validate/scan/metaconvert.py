"""Convert the metadata to the XML's vocabulary: entry header, people, contacts, citations.

Conversion (author tuples, ISO country codes, T-codes, experiment-type integers, release codes)
happens here and only here, through :mod:`empiar_validate.vocab`, with a finding for every bad
value and every required item missing, so the report says exactly what to add. Types were
checked before (:mod:`scan.metaspec`): a value of the wrong type is skipped here, not reported
again.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from empiar_validate import vocab
from empiar_validate.empiar import ACCESSION_CODE, parse_date
from empiar_validate.findings import Finding, Severity, rule
from empiar_validate.model import Citation, Contact, EntryHeader, Person
from empiar_validate.scan.metadata import Key, Metadata
from empiar_validate.scan.metaspec import M_BAD_VALUE, dotted_key, wrong_type

M_MISSING = rule(
    "M104", Severity.ERROR, "EMPIAR requires a value the metadata does not give",
    "Add it to the metadata file (docs/metadata.md shows every key with an example).",
)
M_RECOMMENDED = rule(
    "M105", Severity.WARNING, "recommended metadata missing",
    "Add it to the metadata file; EMPIAR's deposition asks for it.",
)
M_NOT_ASSIGNED = rule(
    "M115", Severity.WARNING, "accession code or deposition date not given (EMPIAR assigns them)",
    "Nothing to do before deposition: the XML is a valid private header without them. Once "
    "EMPIAR has assigned them, add accession_code (EMPIAR-NNNNN) and deposition_date "
    "(YYYY-MM-DD) to the metadata file, or pass --accession-code and --deposition-date.",
)
M_ORDER = rule(
    "M113", Severity.WARNING, "author order_id values are not 0, 1, 2, ...",
    "Number authors from 0 in citation order without gaps or repeats; they were renumbered in "
    "that order.",
)
M_WORKFLOW = rule(
    "M114", Severity.WARNING, "workflow file named in the metadata is not in the dataset",
    "Put the file in the dataset (the path is relative to the entry root, e.g. "
    "data/workflow.json) or correct workflow_file.path.",
)

ACCESSION = ACCESSION_CODE


def _get(data: Any, *key: str | int) -> Any:
    for k in key:
        if isinstance(k, int):
            if not isinstance(data, list) or k >= len(data):
                return None
        elif not isinstance(data, dict):
            return None
        data = data[k] if isinstance(k, int) else data.get(k)
    return data


def _text(value: Any) -> str | None:
    """A non-empty string, stripped, or ``None``."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


# --------------------------------------------------------------------------- entry header


@dataclass(slots=True)
class HeaderOptions:
    """Values the command line may give instead of (and over) the metadata file."""

    accession_code: str | None = None
    deposition_date: str | None = None


def entry_header(
    meta: Metadata | None, options: HeaderOptions, *, present: Callable[[str], bool]
) -> tuple[EntryHeader, list[Finding]]:
    """Convert the entry-level metadata to :class:`EntryHeader`, with a finding for every bad
    value and every required item missing (so the report says exactly what to add).

    ``present`` tells whether a path relative to the dataset root is one of the files the
    read stage found (the workflow file must be one); nothing is read from disk here."""
    h = EntryHeader()
    out: list[Finding] = []
    data: dict[str, Any] = meta.data if meta else {}

    def missing(text: str, *key: str | int, r: Any = M_MISSING) -> None:
        if key and wrong_type(data, str(key[0])):
            return  # present with the wrong type: M103 from check_structure says so
        if meta:
            out.append(meta.finding(r, text, *key))
        else:
            out.append(Finding.of(r, text + " (no --metadata file was given)"))

    def bad(text: str, *key: str | int) -> None:
        out.append(meta.finding(M_BAD_VALUE, text, *key) if meta
                   else Finding.of(M_BAD_VALUE, text))

    # accession code and deposition date: command line first, then the extension keys
    code = options.accession_code or _text(data.get("accession_code"))
    if code and not ACCESSION.fullmatch(code):
        bad(f"accession code {code!r} is not EMPIAR-NNNNN (five digits)", "accession_code")
        code = None
    h.accession_code = code
    # Both are assigned by EMPIAR at deposition, so a pre-deposition scan (a depositor, a lab's CI
    # gate) legitimately lacks them: a warning (M115), not an error; the XML stays valid.
    if code is None and not (data.get("accession_code") or options.accession_code):
        missing('accession code not given yet: the XML has no entry/@accessionCode and no '
                'entryDOI; once EMPIAR has assigned it, add "accession_code": "EMPIAR-NNNNN" '
                "(or pass --accession-code)", r=M_NOT_ASSIGNED)
    raw_date = options.deposition_date or data.get("deposition_date")
    if isinstance(raw_date, datetime.date):
        raw_date = raw_date.isoformat()
    if raw_date is not None:
        parsed = parse_date(str(raw_date))
        if parsed is not None:
            h.deposition_date = parsed.isoformat()
        else:
            bad(f"deposition date {raw_date!r} is not YYYY-MM-DD", "deposition_date")
    else:
        missing('deposition date not given yet: the XML has no keyDates/depositionDate; once '
                'EMPIAR has set it, add "deposition_date": "YYYY-MM-DD" (or pass '
                "--deposition-date)", r=M_NOT_ASSIGNED)

    title = _text(data.get("title"))
    if title is None:
        missing('title: add "title" (10 to 255 characters)', "title")
    elif not 10 <= len(title) <= 255:
        bad(f"title has {len(title)} characters; EMPIAR asks for 10 to 255", "title")
        h.title = title
    else:
        h.title = title

    release = data.get("release_date")
    if not isinstance(release, str | None):
        pass  # M103 from check_structure
    elif release is None:
        missing('release instruction: add "release_date": one of RE, EP, HP, HO '
                "(docs/metadata.md)", "release_date")
    elif release not in vocab.RELEASE_CODES:
        bad(f"release_date {release!r} is not one of {', '.join(vocab.RELEASE_CODES)}",
            "release_date")
    elif release == "HO" and h.deposition_date:
        h.release_date = _plus_one_year(h.deposition_date)

    if wrong_type(data, "experiment_type"):
        pass  # M103 from check_structure
    elif "experiment_type" in data:
        try:
            h.experiment_type = vocab.experiment_type_name(data["experiment_type"])
        except vocab.VocabError as exc:
            bad(str(exc), "experiment_type")
    else:
        missing('experiment type: add "experiment_type" (3 for data behind an EMDB map; '
                "docs/metadata.md lists all)", "experiment_type")

    for key, attr in (("cross_references", "emdb_entries"),
                      ("biostudies_references", "biostudies_entries"),
                      ("idr_references", "idr_entries"), ("empiar_references", "empiar_entries")):
        refs = data.get(key)
        if isinstance(refs, list):
            names = [_text(_get(r, "name")) for r in refs]
            setattr(h, attr, [n for n in names if n])
    if h.experiment_type == "EMDB" and not h.emdb_entries:
        missing('EMDB reference: experiment_type 3 (EMDB) needs "cross_references": '
                '[{"name": "EMD-NNNNN"}]', "cross_references")

    authors = data.get("authors")
    h.authors = _people(meta, authors, ("authors",), out) if isinstance(authors, list) else []
    if not h.authors:
        missing('authors: add "authors": [{"name": "(\'Surname\', \'INITIALS\')", '
                '"order_id": 0}, ...]', "authors")

    ca = data.get("corresponding_author")
    if isinstance(ca, dict):
        h.corresponding_author = _contact(meta, ca, ("corresponding_author",), out)
    else:
        missing('corresponding author: add "corresponding_author" with first_name, last_name, '
                "email, organization, town_or_city and country", "corresponding_author")
    pis = data.get("principal_investigator")
    if isinstance(pis, list) and pis:
        h.principal_investigators = [
            _contact(meta, p, ("principal_investigator", i), out)
            for i, p in enumerate(pis) if isinstance(p, dict)
        ]
    else:
        missing('principal investigator: add "principal_investigator": [ {...} ] with at least '
                "one person (same keys as corresponding_author)", "principal_investigator")

    wf = _text(_get(data, "workflow_file", "path"))
    if wf:
        h.workflow_file = wf
        rel = wf[len("data/"):] if wf.startswith("data/") else wf
        if not present(rel) and meta:
            out.append(meta.finding(M_WORKFLOW, f"workflow file {wf!r} not found under the "
                                    "dataset directory", "workflow_file", "path"))

    cites = data.get("citation")
    if isinstance(cites, list) and cites:
        h.citations = [c for i, raw in enumerate(cites) if isinstance(raw, dict)
                       for c in [_citation(meta, raw, ("citation", i), out)] if c]
    else:
        missing('citation: add "citation": [{...}] for the publication (published: false while '
                "in preparation)", "citation", r=M_RECOMMENDED)
    return h, out


def _plus_one_year(iso: str) -> str:
    d = datetime.date.fromisoformat(iso)
    try:
        return d.replace(year=d.year + 1).isoformat()
    except ValueError:  # 29 February
        return d.replace(year=d.year + 1, day=28).isoformat()


def _people(meta: Metadata | None, items: list[Any], key: Key, out: list[Finding]) -> list[Person]:
    """Authors or editors, sorted by ``order_id`` and renumbered 1..n (M113 if they were not
    0..n-1)."""
    people: list[tuple[int, int, Person]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        try:
            name = vocab.author_name(item.get("name"))
        except vocab.VocabError as exc:
            if meta:
                out.append(meta.finding(M_BAD_VALUE, f"{dotted_key((*key, i, 'name'))}: {exc}",
                                        *key, i, "name"))
            continue
        order = item.get("order_id")
        order = order if isinstance(order, int) and not isinstance(order, bool) else i
        people.append((order, i, Person(name, _text(item.get("author_orcid")))))
    orders = [o for o, _, _ in people]
    if meta and orders and sorted(orders) != list(range(len(orders))):
        out.append(meta.finding(
            M_ORDER, f"{dotted_key(key)} order_id values are {sorted(orders)}", *key,
        ))
    people.sort(key=lambda t: (t[0], t[1]))
    result = []
    for n, (_, _, p) in enumerate(people, start=1):
        p.order = n
        result.append(p)
    return result


def _country(meta: Metadata | None, value: Any, key: Key, out: list[Finding]) -> str | None:
    if value is None:
        return None
    try:
        return vocab.country_name(value)
    except vocab.VocabError as exc:
        if meta and isinstance(value, str):  # other types: M103 from check_structure
            out.append(meta.finding(M_BAD_VALUE, f"{dotted_key(key)}: {exc}", *key))
        return None


def _contact(meta: Metadata | None, raw: dict[str, Any], key: Key,
             out: list[Finding]) -> Contact:
    c = Contact(
        first_name=_text(raw.get("first_name")), last_name=_text(raw.get("last_name")),
        organization=_text(raw.get("organization")),
        country=_country(meta, raw.get("country"), (*key, "country"), out),
        email=_text(raw.get("email")), orcid=_text(raw.get("author_orcid")),
        middle_name=_text(raw.get("middle_name")), street=_text(raw.get("street")),
        town_or_city=_text(raw.get("town_or_city")),
        state_or_province=_text(raw.get("state_or_province")),
        post_or_zip=_text(raw.get("post_or_zip")), telephone=_text(raw.get("telephone")),
        fax=_text(raw.get("fax")),
    )
    for name in ("first_name", "last_name", "organization", "email", "town_or_city", "country"):
        given_but_bad = name == "country" and raw.get("country")
        if meta and getattr(c, name) is None and not given_but_bad:
            out.append(meta.finding(M_MISSING, f"{dotted_key(key)} has no {name}; add \"{name}\"",
                                    *key))
    return c


def _citation(meta: Metadata | None, raw: dict[str, Any], key: Key,
              out: list[Finding]) -> Citation | None:
    journal = raw.get("j_or_nj_citation", True)
    title = _text(raw.get("title"))
    if title is None:
        if meta:
            out.append(meta.finding(M_MISSING, f"{dotted_key(key)} has no title; add \"title\"",
                                    *key))
        return None
    year = raw.get("year")
    c = Citation(
        journal=journal is not False, published=raw.get("published") is True, title=title,
        preprint=raw["preprint"] if isinstance(raw.get("preprint"), bool) else None,
        authors=_people(meta, raw.get("authors") or [], (*key, "authors"), out)
        if isinstance(raw.get("authors"), list) else [],
        editors=_people(meta, raw.get("editors") or [], (*key, "editors"), out)
        if isinstance(raw.get("editors"), list) else [],
        journal_name=_text(raw.get("journal")),
        journal_abbreviation=_text(raw.get("journal_abbreviation")),
        country=_country(meta, raw.get("country"), (*key, "country"), out),
        issue=_text(raw.get("issue")), volume=_text(raw.get("volume")),
        first_page=_text(raw.get("first_page")), last_page=_text(raw.get("last_page")),
        year=year if isinstance(year, int) and not isinstance(year, bool) else None,
        language=_text(raw.get("language")), doi=_text(raw.get("doi")),
        pubmed=_text(raw.get("pubmedid")), details=_text(raw.get("details")),
        book_chapter_title=_text(raw.get("book_chapter_title")),
        publisher=_text(raw.get("publisher")),
        publication_location=_text(raw.get("publication_location")),
    )
    if "published" not in raw and meta:
        out.append(meta.finding(M_MISSING, f"{dotted_key(key)} has no \"published\" (true or "
                                "false)", *key))
    return c
