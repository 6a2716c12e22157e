"""Quoted-printable bodies with holes: encode the shared text once, splice values per message.

Encoding a 20 kB HTML part costs more than sending it, so the constant pieces between the
per-recipient tokens are encoded once per distinct digest. Pieces are joined with soft line
breaks (``=`` CRLF), which decoders drop, so a value never has to fit an encoded line it did not
start. The result is 7-bit, CRLF-terminated and at most 76 characters a line: any relay takes it.
"""

from __future__ import annotations

import binascii
import html
from collections.abc import Mapping, Sequence

from newsletter.delivery.messages.canonical import canonical_lines
from newsletter.render.personal import TOKEN

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
        # One pattern for every token (a pattern of the digest's own tokens was compiled per
        # distinct digest); a token-like string that is not a hole stays text.
        parts = TOKEN.split(text)
        pieces, self._fields = [parts[0]], []
        for found, after in zip(parts[1::2], parts[2::2], strict=True):
            if found in by_token:
                self._fields.append(by_token[found])
                pieces.append(after)
            else:
                pieces[-1] += found + after
        constant = [qp_encode(p) for p in pieces]
        # Each constant piece with the line end that follows it (a soft break before a value,
        # the part's last CRLF at the end): whole lines, so each is canonicalized alone.
        self._pieces = [c + SOFT_BREAK for c in constant[:-1]] + [constant[-1] + b"\r\n"]
        self._canonical: list[bytes] | None = None

    @property
    def fields(self) -> Sequence[str]:
        return self._fields

    def fill(self, values: Mapping[str, str], lines: list[bytes] | None = None) -> bytes:
        """The part's bytes, ending in CRLF (which belongs to the next boundary line). When
        ``lines`` is given, the same bytes' :func:`canonical_lines` are appended to it, the
        shared pieces' from a cache: what a DKIM body hash needs, without a pass over the
        whole body per message."""
        encoded = {
            field: qp_encode(html.escape(values[field], quote=True) if self.html_part
                             else values[field]) + SOFT_BREAK
            for field in set(self._fields)
        }
        pieces = self._pieces
        out = [pieces[0]]
        for field, piece in zip(self._fields, pieces[1:], strict=True):
            out += (encoded[field], piece)
        if lines is not None:
            if self._canonical is None:
                self._canonical = [canonical_lines(piece) for piece in pieces]
            canonical = {field: canonical_lines(value) for field, value in encoded.items()}
            lines.append(self._canonical[0])
            for field, piece in zip(self._fields, self._canonical[1:], strict=True):
                lines += (canonical[field], piece)
        return b"".join(out)
