"""Quoted-printable bodies with holes: encode the shared text once, splice values per message.

Encoding a 20 kB HTML part costs more than sending it, so the constant pieces between the
per-recipient tokens are encoded once per distinct digest. Pieces are joined with soft line
breaks (``=`` CRLF), which decoders drop, so a value never has to fit an encoded line it did not
start. The result is 7-bit, CRLF-terminated and at most 76 characters a line: any relay takes it.
"""

from __future__ import annotations

import binascii
import html
import re
from collections.abc import Mapping, Sequence

SOFT_BREAK = b"=\r\n"


def crlf(text: str) -> str:
    """Every line ending as CRLF, as SMTP and quoted-printable expect."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", "\r\n")


def qp_encode(text: str) -> bytes:
    """Quoted-printable with CRLF everywhere.

    ``b2a_qp`` keeps CRLF line ends and uses them for soft breaks too when the text has any;
    a text with no line end at all gets ``=\\n`` soft breaks, fixed here.
    """
    source = crlf(text).encode("utf-8")
    encoded = binascii.b2a_qp(source, istext=True)
    if b"\r\n" in source:
        return encoded
    return encoded.replace(b"=\n", b"=\r\n")


class HoleyBody:
    """One body part, encoded, with named holes; :meth:`fill` yields the encoded bytes."""

    def __init__(self, text: str, holes: Mapping[str, str], *, html_part: bool) -> None:
        """``holes`` maps a field name to the token that stands for it in ``text``."""
        self.html_part = html_part
        by_token = {tok: field for field, tok in holes.items()}
        pattern = "|".join(re.escape(tok) for tok in sorted(by_token, key=len, reverse=True))
        pieces = re.split(f"({pattern})", text) if pattern else [text]
        self._constant: list[bytes] = [qp_encode(p) for p in pieces[0::2]]
        self._fields: list[str] = [by_token[p] for p in pieces[1::2]]

    @property
    def fields(self) -> Sequence[str]:
        return self._fields

    def fill(self, values: Mapping[str, str]) -> bytes:
        encoded = {
            field: qp_encode(html.escape(values[field], quote=True) if self.html_part
                             else values[field])
            for field in set(self._fields)
        }
        out = [self._constant[0]]
        for field, constant in zip(self._fields, self._constant[1:], strict=True):
            out += (SOFT_BREAK, encoded[field], SOFT_BREAK, constant)
        body = b"".join(out)
        return body + b"\r\n"  # the CRLF before the next boundary belongs to the boundary
