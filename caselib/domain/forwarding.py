"""Forwarding packages: what goes to the police of one country, graded with Europol's codes.

A package holds the tips triaged ``actionable`` that suggest the country and were never
forwarded to it before (:func:`caselib.store.triage.forwardable_tips`). Forwarding them is a
triage decision (status ``forwarded``, ``forwarded_to`` the country) recorded in the audit as
``forward`` with the package's codes and the SHA-256 of its manifest and ZIP, so running it
again forwards nothing new. The files themselves are written by
:mod:`caselib.presentation.forwarding`.

The grading: the **source** (A reliable, B mostly reliable, C not reliable, X cannot be
judged: an anonymous tipster, the default), the **information** (1 known to be true, 2
known personally to the source, 3 not known personally but corroborated, 4 cannot be
judged: the default for a tip), and the **handling** code (H0 to H3, the restrictions the
receiving police are asked to observe; H0 none, the default).
"""

from __future__ import annotations

from dataclasses import dataclass

from caselib.domain.countries import normalise_country
from caselib.errors import CaselibError

__all__ = ["HANDLING", "INFORMATION", "SOURCES", "Codes", "codes", "country_code"]

SOURCES = {
    "A": "reliable",
    "B": "mostly reliable",
    "C": "not reliable",
    "X": "cannot be judged (anonymous tipster)",
}
INFORMATION = {
    "1": "known to be true without reservation",
    "2": "known personally to the source but not to the official passing it on",
    "3": "not known personally to the source but corroborated by other information",
    "4": "cannot be judged",
}
HANDLING = {
    "H0": "no restriction beyond the purpose it is sent for",
    "H1": "not to be used as evidence in court without the sender's permission",
    "H2": "not to be passed on without the sender's permission",
    "H3": "other restrictions, stated in the cover letter",
}


@dataclass(frozen=True)
class Codes:
    source: str = "X"
    information: str = "4"
    handling: str = "H0"

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "information": self.information, "handling": self.handling}

    def lines(self) -> list[tuple[str, str, str]]:
        """(what, code, meaning) for the cover page."""
        return [
            ("Source", self.source, SOURCES[self.source]),
            ("Information", self.information, INFORMATION[self.information]),
            ("Handling", self.handling, HANDLING[self.handling]),
        ]


def codes(source: str | None = None, information: str | int | None = None, handling: str | None = None) -> Codes:
    """The package's grading, each code checked (one line naming the ones allowed)."""
    chosen = Codes(
        source=(source or "X").strip().upper(),
        information=str(information if information is not None else "4").strip(),
        handling=(handling or "H0").strip().upper(),
    )
    for value, allowed, what in ((chosen.source, SOURCES, "source"), (chosen.information, INFORMATION, "information"),
                                 (chosen.handling, HANDLING, "handling")):
        if value not in allowed:
            raise CaselibError(f"unknown {what} code {value!r}; known: {', '.join(allowed)}")
    return chosen


def country_code(value: str) -> str:
    """The alpha-3 code of the country forwarded to, from any spelling the loader recognises."""
    code = normalise_country(value)
    if code is None:
        raise CaselibError(f"{value!r} is not a country this workbench recognises (give an ISO code, e.g. PRT)")
    return code
