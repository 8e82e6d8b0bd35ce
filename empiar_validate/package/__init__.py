"""Everything a deposition needs beside the data: checksums, deposition JSON, advice, a plan.

``checksums`` digests the dataset, ``deposition`` writes empiar-depositor's JSON, ``advice``
finds layout problems and gaps the EMPIAR FAQ warns about, ``plan`` writes the human summary
with the transfer commands. ``empiar-validate package`` wires them together.
"""
