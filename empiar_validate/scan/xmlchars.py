"""Characters XML 1.0 cannot carry at all (lxml refuses them).

Shared by the metadata check, which reports them (M103), and the XML writer, which replaces
them; neither imports the other.
"""

from __future__ import annotations

import re

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
