"""EMPIAR's vocabularies in both spellings: deposition-API codes and entry-XML strings.

The deposition JSON that EMBL-EBI's ``empiar-depositor`` sends says ``('T2', '')`` where the XML
says ``micrographs - multiframe``, ``3`` where it says ``EMDB``, ``US`` where it says
``United States`` and ``('Smith', 'JW')`` where it says ``Smith JW``. ``scan`` reads the first
spelling and writes the second; ``package`` goes back. Keeping every table here, next to its
inverse, means the two directions cannot drift apart.

Public API (all pure functions, no I/O):

- :func:`decode_code` / :func:`encode_code`: category, header/data format and voxel type codes
  (``kind`` is one of :data:`CODE_KINDS`).
- :func:`experiment_type_name` / :func:`experiment_type_code`.
- :func:`country_name` / :func:`country_code` (ISO 3166-1 alpha-2 <-> name).
- :func:`author_name` / :func:`author_tuple` (``('Smith', 'JW')`` <-> ``Smith JW``).
- :data:`RELEASE_CODES`: the deposition's release instructions.

Every decoder raises :class:`VocabError` (a ``ValueError``) with a message fit for a finding.
"""

from __future__ import annotations

import re

from empiar_validate.countries import COUNTRIES

# --------------------------------------------------------------------------- T-code tables
# Deposition codes T1.. per empiar-depositor's empiar_deposition.schema.json (2023).

CATEGORY_CODES: dict[str, str] = {
    "T1": "micrographs - single frame",
    "T2": "micrographs - multiframe",
    "T3": "micrographs - focal pairs - unprocessed",
    "T4": "micrographs - focal pairs - contrast inverted",
    "T5": "picked particles - single frame - unprocessed",
    "T6": "picked particles - multiframe - unprocessed",
    "T7": "picked particles - single frame - processed",
    "T8": "picked particles - multiframe - processed",
    "T9": "tilt series",
    "T10": "class averages",
    "T11": "stitched maps",
    "T12": "diffraction images",
    "T13": "reconstructed volumes",
    "T14": "subtomograms",
}

HEADER_FORMAT_CODES: dict[str, str] = {
    "T1": "MRC", "T2": "MRCS", "T3": "TIFF", "T4": "IMAGIC", "T5": "DM3", "T6": "DM4",
    "T7": "SPIDER", "T8": "XML", "T9": "EER", "T10": "PNG", "T11": "JPEG", "T12": "SMV",
    "T13": "EM", "T14": "TPX3",
}

DATA_FORMAT_CODES: dict[str, str] = {
    **HEADER_FORMAT_CODES,
    "T8": "BIG DATA VIEWER HDF5",
}

VOXEL_TYPE_CODES: dict[str, str] = {
    "T1": "UNSIGNED BYTE",
    "T2": "SIGNED BYTE",
    "T3": "UNSIGNED 16 BIT INTEGER",
    "T4": "SIGNED 16 BIT INTEGER",
    "T5": "UNSIGNED 32 BIT INTEGER",
    "T6": "SIGNED 32 BIT INTEGER",
    "T7": "32 BIT FLOAT",
    "T8": "BIT",
    "T9": "4 BIT INTEGER",
}

# Values EMPIAR has published for released entries (its API records, 2026-11) that no deposition
# code names. The schema accepts them (empiar.sch S127 warns); a deposition gives them as 'OT'.
PUBLISHED_VALUES: dict[str, frozenset[str]] = {
    "category": frozenset({
        "micrographs - single frame - non-dose-weighted",
        "micrographs - single frame - no-doseweighted",
        "micrographs - focal pairs - processed",
        "Other",
    }),
    "voxel_type": frozenset({"16 BIT FLOAT", "Other"}),
}

CODE_TABLES: dict[str, dict[str, str]] = {
    "category": CATEGORY_CODES,
    "header_format": HEADER_FORMAT_CODES,
    "data_format": DATA_FORMAT_CODES,
    "voxel_type": VOXEL_TYPE_CODES,
}
CODE_KINDS = tuple(CODE_TABLES)

# What the deposition allows after 'OT' (other): free text for categories, upper-case words for
# formats and voxel types.
_OTHER_TEXT = {
    "category": re.compile(r"[^\x00]+"),
    "header_format": re.compile(r"[A-Z0-9 ]+"),
    "data_format": re.compile(r"[A-Z0-9 ]+"),
    "voxel_type": re.compile(r"[A-Z0-9 ]+"),
}

# --------------------------------------------------------------------------- experiment types
# Deposition integer -> XML string. 12 and 13 have no known XML string; these are the ones our
# schemas/empiar.xsd chose. 10 (staff-only 'Exception') is not accepted by the deposition API.

EXPERIMENT_TYPES: dict[int, str] = {
    1: "SXT",
    2: "INSILICO",
    3: "EMDB",
    4: "SBF-SEM",
    5: "FIB-SEM",
    6: "IHM",
    7: "CLEM",
    8: "CLXM",
    9: "MicroED",
    11: "ATUM-SEM",
    12: "X-RAY MICROCT",
    13: "SSET",
}
_EXPERIMENT_ALIASES = {"3VIEW": 4}  # the 0.48 label for Gatan 3View data, now SBF-SEM

# --------------------------------------------------------------------------- release codes

RELEASE_CODES: dict[str, str] = {
    "RE": "release directly after the submission has been processed",
    "EP": "release after the related EMDB entry has been released",
    "HP": "release after the primary citation has been published",
    "HO": "hold for one year from the deposition date",
}

# --------------------------------------------------------------------------- countries
# The table lives in empiar_validate/countries.py (ISO 3166-1, from Debian's iso-codes).

_COUNTRY_BY_NAME: dict[str, str] = {
    spelling.casefold(): code
    for code, names in COUNTRIES.items()
    for spelling in (code, *names)
}


class VocabError(ValueError):
    """A value that is not in the vocabulary (or not in the expected shape)."""


# --------------------------------------------------------------------------- code pairs

_PAIR = re.compile(r"""^\(\s*'(.*)'\s*,\s*'(.*)'\s*\)$""", re.DOTALL)


def parse_code_pair(value: object) -> tuple[str, str]:
    """``"('T2', '')"`` (the deposition's spelling) or a 2-item list -> ``('T2', '')``."""
    if isinstance(value, list | tuple) and len(value) == 2 and all(
        isinstance(v, str) for v in value
    ):
        return str(value[0]), str(value[1])
    if isinstance(value, str):
        m = _PAIR.match(value.strip())
        if m:
            return m.group(1), m.group(2)
    raise VocabError(f"{value!r} is not a code pair like \"('T1', '')\"")


def format_code_pair(code: str, other: str = "") -> str:
    """``('T2', '')`` -> ``"('T2', '')"``, the deposition's spelling."""
    return f"('{code}', '{other}')"


def decode_code(kind: str, value: object) -> str:
    """The XML string for a deposition code of ``kind`` (``category``, ``header_format``,
    ``data_format``, ``voxel_type``): ``"('T2', '')"`` -> ``micrographs - multiframe``;
    ``"('OT', 'HDF5')"`` -> ``HDF5``."""
    table = CODE_TABLES[kind]
    code, other = parse_code_pair(value)
    if code == "OT":
        if not other or not _OTHER_TEXT[kind].fullmatch(other):
            raise VocabError(
                f"{format_code_pair(code, other)}: 'OT' needs the {kind.replace('_', ' ')} "
                "spelled out in the second element"
                + (" in capital letters" if kind != "category" else "")
            )
        return other
    if code not in table:
        raise VocabError(
            f"{format_code_pair(code, other)} is not a {kind.replace('_', ' ')} code "
            f"(T1..T{len(table)} or OT)"
        )
    return table[code]


def encode_code(kind: str, name: str) -> str:
    """The deposition spelling of an XML string: ``micrographs - multiframe`` ->
    ``"('T2', '')"``; a string with no T code becomes ``('OT', name)``."""
    for code, known in CODE_TABLES[kind].items():
        if known == name:
            return format_code_pair(code)
    return format_code_pair("OT", name)


# --------------------------------------------------------------------------- experiment types


def experiment_type_name(code: object) -> str:
    """``3`` -> ``EMDB``. Accepts an int or a string of digits (YAML users write both)."""
    if isinstance(code, bool) or not isinstance(code, int | str):
        raise VocabError(f"experiment_type {code!r} is not an integer code")
    try:
        number = int(code)
    except ValueError:
        raise VocabError(f"experiment_type {code!r} is not an integer code") from None
    if number not in EXPERIMENT_TYPES:
        known = ", ".join(f"{k} {v}" for k, v in EXPERIMENT_TYPES.items())
        raise VocabError(f"experiment_type {code!r} is not a deposition code ({known})")
    return EXPERIMENT_TYPES[number]


def experiment_type_code(name: str) -> int:
    """``EMDB`` -> ``3`` (``3VIEW`` -> ``4``). Raises for ``Exception``, which only EMPIAR staff
    can set."""
    for code, known in EXPERIMENT_TYPES.items():
        if known == name:
            return code
    if name in _EXPERIMENT_ALIASES:
        return _EXPERIMENT_ALIASES[name]
    raise VocabError(f"experiment type {name!r} has no deposition code")


# --------------------------------------------------------------------------- countries


def country_name(code: object) -> str:
    """``US`` -> ``United States``, ``GB`` -> ``United Kingdom`` (case-insensitive)."""
    if not isinstance(code, str) or code.upper() not in COUNTRIES:
        raise VocabError(f"country {code!r} is not an ISO 3166-1 alpha-2 code (e.g. GB, US)")
    return COUNTRIES[code.upper()][0]


def country_code(name: str) -> str:
    """``United Kingdom`` (or ``UK``, ``GBR``, ``GB``...) -> ``GB``; the inverse of
    :func:`country_name`, tolerant of the spellings found in legacy headers."""
    code = _COUNTRY_BY_NAME.get(name.strip().casefold())
    if code is None:
        raise VocabError(f"country {name!r} is not a known country name")
    return code


# --------------------------------------------------------------------------- author names


def author_name(value: object) -> str:
    """``"('Smith', 'JW')"`` (or ``['Smith', 'JW']``) -> ``Smith JW``, the XML spelling."""
    try:
        surname, initials = parse_code_pair(value)
    except VocabError:
        raise VocabError(
            f"author name {value!r} is not in the deposition form \"('Surname', 'INITIALS')\""
        ) from None
    surname, initials = surname.strip(), initials.strip()
    if not surname or not initials:
        raise VocabError(f"author name {value!r} needs both a surname and initials")
    return f"{surname} {initials}"


def author_tuple(name: str) -> str:
    """``Smith JW`` -> ``"('Smith', 'JW')"``: the last word is the initials (``De Biasio A``
    -> ``('De Biasio', 'A')``)."""
    surname, _, initials = name.strip().rpartition(" ")
    if not surname or not initials:
        raise VocabError(f"author {name!r} is not 'Surname Initials'")
    return format_code_pair(surname, initials)
