"""One rule for an email address, from the sign-up form to the SMTP envelope.

The form, ``subscribers add``, CSV import, ``test-send`` and the message builder all call
:func:`canonical_address`, so an address the form accepts is one the builder can send to, and
the stored form is exactly what goes on the envelope.

The rule: what email-validator accepts without SMTPUTF8. A non-ASCII part before the @
(``josé@...``) is refused with a clear reason: sending it needs SMTPUTF8 at every relay on the
way, which we cannot promise, and the failure would otherwise show only as a confirmation email
that never arrives. International domains are fine and are kept in their ASCII (IDNA) form
everywhere (``a@bücher.example`` is stored and sent as ``a@xn--bcher-kva.example``). Addresses
are compared lower-cased, as they always were here.

email-validator costs about 80 µs an address; an edition re-checks every recipient, so an address
already in the canonical form (plain lower-case dot-atom at an LDH domain, the form this function
returns) is recognised by one regular expression. ``tests/test_addresses.py`` checks that this
shortcut never accepts what the library would refuse or change.
"""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from newsletter.errors import InvalidInput

_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
CANONICAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[a-z]{{2,63}}")
_SPECIAL = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def is_canonical(text: str) -> bool:
    """Already in the form :func:`canonical_address` returns, for certain. Left to the library:
    special-use names, and any label with two hyphens (IDNA ``xn--`` labels, and the reserved
    ``ab--`` labels of RFC 5890 that it refuses: hypothesis found ``0@00--0.aa``)."""
    local, _, domain = text.rpartition("@")
    return (
        len(text) <= 254
        and len(local) <= 64
        and CANONICAL.fullmatch(text) is not None
        and "--" not in domain
        and domain.rpartition(".")[2] not in _SPECIAL
    )


def canonical_address(address: str, *, where: str = "email") -> str:
    """The address as stored and sent (ASCII, lower case), or InvalidInput saying what to fix."""
    if any(c in address for c in "\r\n"):
        raise InvalidInput("an email address cannot contain line breaks", where=where)
    text = address.strip()
    if is_canonical(text):
        return text
    local = text.rpartition("@")[0]
    if not local.isascii():
        odd = "".join(dict.fromkeys(c for c in local if not c.isascii()))
        raise InvalidInput(
            f"use an address whose part before the @ has only plain letters, digits and "
            f"punctuation ({odd!r} cannot be delivered by many mail servers)",
            where=where,
        )
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidInput(str(exc), where=where) from None
    if result.ascii_email is None:  # pragma: no cover - only with SMTPUTF8 allowed
        raise InvalidInput("the address needs SMTPUTF8, which we do not send", where=where)
    return result.ascii_email.lower()
