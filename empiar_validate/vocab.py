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
# ISO 3166-1 alpha-2 -> (name used in the XML, other accepted spellings...). Names follow the
# ISO short name, or its common form where ISO has one ("South Korea", "Taiwan"); the depositor's
# extra codes FX and XK are included. Built from the Debian iso-codes tables (ISO 3166-1).

COUNTRIES: dict[str, tuple[str, ...]] = {
    "AD": ("Andorra", "Principality of Andorra", "AND"),
    "AE": ("United Arab Emirates", "ARE"),
    "AF": ("Afghanistan", "Islamic Republic of Afghanistan", "AFG"),
    "AG": ("Antigua and Barbuda", "ATG"),
    "AI": ("Anguilla", "AIA"),
    "AL": ("Albania", "Republic of Albania", "ALB"),
    "AM": ("Armenia", "Republic of Armenia", "ARM"),
    "AO": ("Angola", "Republic of Angola", "AGO"),
    "AQ": ("Antarctica", "ATA"),
    "AR": ("Argentina", "Argentine Republic", "ARG"),
    "AS": ("American Samoa", "ASM"),
    "AT": ("Austria", "Republic of Austria", "AUT"),
    "AU": ("Australia", "AUS"),
    "AW": ("Aruba", "ABW"),
    "AX": ("Åland Islands", "ALA"),
    "AZ": ("Azerbaijan", "Republic of Azerbaijan", "AZE"),
    "BA": ("Bosnia and Herzegovina", "Republic of Bosnia and Herzegovina", "BIH"),
    "BB": ("Barbados", "BRB"),
    "BD": ("Bangladesh", "People's Republic of Bangladesh", "BGD"),
    "BE": ("Belgium", "Kingdom of Belgium", "BEL"),
    "BF": ("Burkina Faso", "BFA"),
    "BG": ("Bulgaria", "Republic of Bulgaria", "BGR"),
    "BH": ("Bahrain", "Kingdom of Bahrain", "BHR"),
    "BI": ("Burundi", "Republic of Burundi", "BDI"),
    "BJ": ("Benin", "Republic of Benin", "BEN"),
    "BL": ("Saint Barthélemy", "BLM"),
    "BM": ("Bermuda", "BMU"),
    "BN": ("Brunei Darussalam", "BRN"),
    "BO": ("Bolivia", "Bolivia, Plurinational State of", "Plurinational State of Bolivia", "BOL"),
    "BQ": ("Bonaire, Sint Eustatius and Saba", "BES"),
    "BR": ("Brazil", "Federative Republic of Brazil", "BRA"),
    "BS": ("Bahamas", "Commonwealth of the Bahamas", "BHS"),
    "BT": ("Bhutan", "Kingdom of Bhutan", "BTN"),
    "BV": ("Bouvet Island", "BVT"),
    "BW": ("Botswana", "Republic of Botswana", "BWA"),
    "BY": ("Belarus", "Republic of Belarus", "BLR"),
    "BZ": ("Belize", "BLZ"),
    "CA": ("Canada", "CAN"),
    "CC": ("Cocos (Keeling) Islands", "CCK"),
    "CD": ("Congo, The Democratic Republic of the", "COD"),
    "CF": ("Central African Republic", "CAF"),
    "CG": ("Congo", "Republic of the Congo", "COG"),
    "CH": ("Switzerland", "Swiss Confederation", "CHE"),
    "CI": ("Côte d'Ivoire", "Republic of Côte d'Ivoire", "CIV"),
    "CK": ("Cook Islands", "COK"),
    "CL": ("Chile", "Republic of Chile", "CHL"),
    "CM": ("Cameroon", "Republic of Cameroon", "CMR"),
    "CN": ("China", "People's Republic of China", "CHN"),
    "CO": ("Colombia", "Republic of Colombia", "COL"),
    "CR": ("Costa Rica", "Republic of Costa Rica", "CRI"),
    "CU": ("Cuba", "Republic of Cuba", "CUB"),
    "CV": ("Cabo Verde", "Republic of Cabo Verde", "CPV"),
    "CW": ("Curaçao", "CUW"),
    "CX": ("Christmas Island", "CXR"),
    "CY": ("Cyprus", "Republic of Cyprus", "CYP"),
    "CZ": ("Czechia", "Czech Republic", "CZE"),
    "DE": ("Germany", "Federal Republic of Germany", "DEU"),
    "DJ": ("Djibouti", "Republic of Djibouti", "DJI"),
    "DK": ("Denmark", "Kingdom of Denmark", "DNK"),
    "DM": ("Dominica", "Commonwealth of Dominica", "DMA"),
    "DO": ("Dominican Republic", "DOM"),
    "DZ": ("Algeria", "People's Democratic Republic of Algeria", "DZA"),
    "EC": ("Ecuador", "Republic of Ecuador", "ECU"),
    "EE": ("Estonia", "Republic of Estonia", "EST"),
    "EG": ("Egypt", "Arab Republic of Egypt", "EGY"),
    "EH": ("Western Sahara", "ESH"),
    "ER": ("Eritrea", "the State of Eritrea", "ERI"),
    "ES": ("Spain", "Kingdom of Spain", "ESP"),
    "ET": ("Ethiopia", "Federal Democratic Republic of Ethiopia", "ETH"),
    "FI": ("Finland", "Republic of Finland", "FIN"),
    "FJ": ("Fiji", "Republic of Fiji", "FJI"),
    "FK": ("Falkland Islands (Malvinas)", "FLK"),
    "FM": ("Micronesia, Federated States of", "Federated States of Micronesia", "FSM"),
    "FO": ("Faroe Islands", "FRO"),
    "FR": ("France", "French Republic", "FRA"),
    "FX": ("France, Metropolitan", "FXX"),
    "GA": ("Gabon", "Gabonese Republic", "GAB"),
    "GB": ("United Kingdom", "United Kingdom of Great Britain and Northern Ireland", "GBR", "UK",
        "Great Britain"),
    "GD": ("Grenada", "GRD"),
    "GE": ("Georgia", "GEO"),
    "GF": ("French Guiana", "GUF"),
    "GG": ("Guernsey", "GGY"),
    "GH": ("Ghana", "Republic of Ghana", "GHA"),
    "GI": ("Gibraltar", "GIB"),
    "GL": ("Greenland", "GRL"),
    "GM": ("Gambia", "Republic of the Gambia", "GMB"),
    "GN": ("Guinea", "Republic of Guinea", "GIN"),
    "GP": ("Guadeloupe", "GLP"),
    "GQ": ("Equatorial Guinea", "Republic of Equatorial Guinea", "GNQ"),
    "GR": ("Greece", "Hellenic Republic", "GRC"),
    "GS": ("South Georgia and the South Sandwich Islands", "SGS"),
    "GT": ("Guatemala", "Republic of Guatemala", "GTM"),
    "GU": ("Guam", "GUM"),
    "GW": ("Guinea-Bissau", "Republic of Guinea-Bissau", "GNB"),
    "GY": ("Guyana", "Republic of Guyana", "GUY"),
    "HK": ("Hong Kong", "Hong Kong Special Administrative Region of China", "HKG"),
    "HM": ("Heard Island and McDonald Islands", "HMD"),
    "HN": ("Honduras", "Republic of Honduras", "HND"),
    "HR": ("Croatia", "Republic of Croatia", "HRV"),
    "HT": ("Haiti", "Republic of Haiti", "HTI"),
    "HU": ("Hungary", "HUN"),
    "ID": ("Indonesia", "Republic of Indonesia", "IDN"),
    "IE": ("Ireland", "IRL"),
    "IL": ("Israel", "State of Israel", "ISR"),
    "IM": ("Isle of Man", "IMN"),
    "IN": ("India", "Republic of India", "IND"),
    "IO": ("British Indian Ocean Territory", "IOT"),
    "IQ": ("Iraq", "Republic of Iraq", "IRQ"),
    "IR": ("Iran", "Iran, Islamic Republic of", "Islamic Republic of Iran", "IRN"),
    "IS": ("Iceland", "Republic of Iceland", "ISL"),
    "IT": ("Italy", "Italian Republic", "ITA"),
    "JE": ("Jersey", "JEY"),
    "JM": ("Jamaica", "JAM"),
    "JO": ("Jordan", "Hashemite Kingdom of Jordan", "JOR"),
    "JP": ("Japan", "JPN"),
    "KE": ("Kenya", "Republic of Kenya", "KEN"),
    "KG": ("Kyrgyzstan", "Kyrgyz Republic", "KGZ"),
    "KH": ("Cambodia", "Kingdom of Cambodia", "KHM"),
    "KI": ("Kiribati", "Republic of Kiribati", "KIR"),
    "KM": ("Comoros", "Union of the Comoros", "COM"),
    "KN": ("Saint Kitts and Nevis", "KNA"),
    "KP": ("North Korea", "Korea, Democratic People's Republic of",
        "Democratic People's Republic of Korea", "PRK"),
    "KR": ("South Korea", "Korea, Republic of", "KOR"),
    "KW": ("Kuwait", "State of Kuwait", "KWT"),
    "KY": ("Cayman Islands", "CYM"),
    "KZ": ("Kazakhstan", "Republic of Kazakhstan", "KAZ"),
    "LA": ("Laos", "Lao People's Democratic Republic", "LAO"),
    "LB": ("Lebanon", "Lebanese Republic", "LBN"),
    "LC": ("Saint Lucia", "LCA"),
    "LI": ("Liechtenstein", "Principality of Liechtenstein", "LIE"),
    "LK": ("Sri Lanka", "Democratic Socialist Republic of Sri Lanka", "LKA"),
    "LR": ("Liberia", "Republic of Liberia", "LBR"),
    "LS": ("Lesotho", "Kingdom of Lesotho", "LSO"),
    "LT": ("Lithuania", "Republic of Lithuania", "LTU"),
    "LU": ("Luxembourg", "Grand Duchy of Luxembourg", "LUX"),
    "LV": ("Latvia", "Republic of Latvia", "LVA"),
    "LY": ("Libya", "LBY"),
    "MA": ("Morocco", "Kingdom of Morocco", "MAR"),
    "MC": ("Monaco", "Principality of Monaco", "MCO"),
    "MD": ("Moldova", "Moldova, Republic of", "Republic of Moldova", "MDA"),
    "ME": ("Montenegro", "MNE"),
    "MF": ("Saint Martin (French part)", "MAF"),
    "MG": ("Madagascar", "Republic of Madagascar", "MDG"),
    "MH": ("Marshall Islands", "Republic of the Marshall Islands", "MHL"),
    "MK": ("North Macedonia", "Republic of North Macedonia", "MKD"),
    "ML": ("Mali", "Republic of Mali", "MLI"),
    "MM": ("Myanmar", "Republic of Myanmar", "MMR"),
    "MN": ("Mongolia", "MNG"),
    "MO": ("Macao", "Macao Special Administrative Region of China", "MAC"),
    "MP": ("Northern Mariana Islands", "Commonwealth of the Northern Mariana Islands", "MNP"),
    "MQ": ("Martinique", "MTQ"),
    "MR": ("Mauritania", "Islamic Republic of Mauritania", "MRT"),
    "MS": ("Montserrat", "MSR"),
    "MT": ("Malta", "Republic of Malta", "MLT"),
    "MU": ("Mauritius", "Republic of Mauritius", "MUS"),
    "MV": ("Maldives", "Republic of Maldives", "MDV"),
    "MW": ("Malawi", "Republic of Malawi", "MWI"),
    "MX": ("Mexico", "United Mexican States", "MEX"),
    "MY": ("Malaysia", "MYS"),
    "MZ": ("Mozambique", "Republic of Mozambique", "MOZ"),
    "NA": ("Namibia", "Republic of Namibia", "NAM"),
    "NC": ("New Caledonia", "NCL"),
    "NE": ("Niger", "Republic of the Niger", "NER"),
    "NF": ("Norfolk Island", "NFK"),
    "NG": ("Nigeria", "Federal Republic of Nigeria", "NGA"),
    "NI": ("Nicaragua", "Republic of Nicaragua", "NIC"),
    "NL": ("Netherlands", "Kingdom of the Netherlands", "NLD"),
    "NO": ("Norway", "Kingdom of Norway", "NOR"),
    "NP": ("Nepal", "Federal Democratic Republic of Nepal", "NPL"),
    "NR": ("Nauru", "Republic of Nauru", "NRU"),
    "NU": ("Niue", "NIU"),
    "NZ": ("New Zealand", "NZL"),
    "OM": ("Oman", "Sultanate of Oman", "OMN"),
    "PA": ("Panama", "Republic of Panama", "PAN"),
    "PE": ("Peru", "Republic of Peru", "PER"),
    "PF": ("French Polynesia", "PYF"),
    "PG": ("Papua New Guinea", "Independent State of Papua New Guinea", "PNG"),
    "PH": ("Philippines", "Republic of the Philippines", "PHL"),
    "PK": ("Pakistan", "Islamic Republic of Pakistan", "PAK"),
    "PL": ("Poland", "Republic of Poland", "POL"),
    "PM": ("Saint Pierre and Miquelon", "SPM"),
    "PN": ("Pitcairn", "PCN"),
    "PR": ("Puerto Rico", "PRI"),
    "PS": ("Palestine, State of", "the State of Palestine", "PSE"),
    "PT": ("Portugal", "Portuguese Republic", "PRT"),
    "PW": ("Palau", "Republic of Palau", "PLW"),
    "PY": ("Paraguay", "Republic of Paraguay", "PRY"),
    "QA": ("Qatar", "State of Qatar", "QAT"),
    "RE": ("Réunion", "REU"),
    "RO": ("Romania", "ROU"),
    "RS": ("Serbia", "Republic of Serbia", "SRB"),
    "RU": ("Russian Federation", "RUS"),
    "RW": ("Rwanda", "Rwandese Republic", "RWA"),
    "SA": ("Saudi Arabia", "Kingdom of Saudi Arabia", "SAU"),
    "SB": ("Solomon Islands", "SLB"),
    "SC": ("Seychelles", "Republic of Seychelles", "SYC"),
    "SD": ("Sudan", "Republic of the Sudan", "SDN"),
    "SE": ("Sweden", "Kingdom of Sweden", "SWE"),
    "SG": ("Singapore", "Republic of Singapore", "SGP"),
    "SH": ("Saint Helena, Ascension and Tristan da Cunha", "SHN"),
    "SI": ("Slovenia", "Republic of Slovenia", "SVN"),
    "SJ": ("Svalbard and Jan Mayen", "SJM"),
    "SK": ("Slovakia", "Slovak Republic", "SVK"),
    "SL": ("Sierra Leone", "Republic of Sierra Leone", "SLE"),
    "SM": ("San Marino", "Republic of San Marino", "SMR"),
    "SN": ("Senegal", "Republic of Senegal", "SEN"),
    "SO": ("Somalia", "Federal Republic of Somalia", "SOM"),
    "SR": ("Suriname", "Republic of Suriname", "SUR"),
    "SS": ("South Sudan", "Republic of South Sudan", "SSD"),
    "ST": ("Sao Tome and Principe", "Democratic Republic of Sao Tome and Principe", "STP"),
    "SV": ("El Salvador", "Republic of El Salvador", "SLV"),
    "SX": ("Sint Maarten (Dutch part)", "SXM"),
    "SY": ("Syria", "Syrian Arab Republic", "SYR"),
    "SZ": ("Eswatini", "Kingdom of Eswatini", "SWZ"),
    "TC": ("Turks and Caicos Islands", "TCA"),
    "TD": ("Chad", "Republic of Chad", "TCD"),
    "TF": ("French Southern Territories", "ATF"),
    "TG": ("Togo", "Togolese Republic", "TGO"),
    "TH": ("Thailand", "Kingdom of Thailand", "THA"),
    "TJ": ("Tajikistan", "Republic of Tajikistan", "TJK"),
    "TK": ("Tokelau", "TKL"),
    "TL": ("Timor-Leste", "Democratic Republic of Timor-Leste", "TLS"),
    "TM": ("Turkmenistan", "TKM"),
    "TN": ("Tunisia", "Republic of Tunisia", "TUN"),
    "TO": ("Tonga", "Kingdom of Tonga", "TON"),
    "TR": ("Türkiye", "Republic of Türkiye", "TUR"),
    "TT": ("Trinidad and Tobago", "Republic of Trinidad and Tobago", "TTO"),
    "TV": ("Tuvalu", "TUV"),
    "TW": ("Taiwan", "Taiwan, Province of China", "TWN"),
    "TZ": ("Tanzania", "Tanzania, United Republic of", "United Republic of Tanzania", "TZA"),
    "UA": ("Ukraine", "UKR"),
    "UG": ("Uganda", "Republic of Uganda", "UGA"),
    "UM": ("United States Minor Outlying Islands", "UMI"),
    "US": ("United States", "United States of America", "USA"),
    "UY": ("Uruguay", "Eastern Republic of Uruguay", "URY"),
    "UZ": ("Uzbekistan", "Republic of Uzbekistan", "UZB"),
    "VA": ("Holy See (Vatican City State)", "VAT"),
    "VC": ("Saint Vincent and the Grenadines", "VCT"),
    "VE": ("Venezuela", "Venezuela, Bolivarian Republic of", "Bolivarian Republic of Venezuela",
        "VEN"),
    "VG": ("Virgin Islands, British", "British Virgin Islands", "VGB"),
    "VI": ("Virgin Islands, U.S.", "Virgin Islands of the United States", "VIR"),
    "VN": ("Vietnam", "Viet Nam", "Socialist Republic of Viet Nam", "VNM"),
    "VU": ("Vanuatu", "Republic of Vanuatu", "VUT"),
    "WF": ("Wallis and Futuna", "WLF"),
    "WS": ("Samoa", "Independent State of Samoa", "WSM"),
    "XK": ("Kosovo", "XKX"),
    "YE": ("Yemen", "Republic of Yemen", "YEM"),
    "YT": ("Mayotte", "MYT"),
    "ZA": ("South Africa", "Republic of South Africa", "ZAF"),
    "ZM": ("Zambia", "Republic of Zambia", "ZMB"),
    "ZW": ("Zimbabwe", "Republic of Zimbabwe", "ZWE"),
}

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
