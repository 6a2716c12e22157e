"""RFC 6376 "relaxed" canonicalization (3.4.2 headers, 3.4.4 body), what a DKIM hash covers.

The body rule is split in two so a message built from pieces can be canonicalized a piece at a
time: the per-line part (:func:`canonical_lines`) depends only on the line, so a block of whole
lines canonicalizes alone, and a digest template does its shared blocks once
(:class:`newsletter.delivery.messages.mime.HoleyBody`); only the end of the body
(:func:`body_end`) looks at more than one line.
"""

from __future__ import annotations

import re

_WSP_RUN = re.compile(rb"\t[ \t]*| [ \t]+")  # runs of 2+, or a tab: one SP each
_HEADER_WSP = re.compile(rb"[ \t]+")
_UNFOLD = re.compile(rb"\r\n(?=[ \t])")
LINE_CACHE_SIZE = 100_000
_LINES: dict[bytes, bytes] = {}


def canonical_lines(block: bytes) -> bytes:
    """Runs of WSP become one SP and no line ends in WSP, for a block of whole CRLF lines (the
    last one may lack its CRLF only at the very end of a body).

    An indented HTML part holds hundreds of runs of blanks, and a regular expression over the
    whole body cost about as much as the RSA signature. Most lines recur from one message to
    the next, so lines are canonicalized once and looked up after that.
    """
    if b"\t" in block or b"  " in block:
        cache = _LINES
        if len(cache) > LINE_CACHE_SIZE:
            cache.clear()
        out = []
        for line in block.split(b"\r\n"):
            canonical = cache.get(line)
            if canonical is None:
                canonical = cache[line] = _WSP_RUN.sub(b" ", line)
            out.append(canonical)
        block = b"\r\n".join(out)
    if b" \r\n" in block:
        block = block.replace(b" \r\n", b"\r\n")
    return block


def body_end(lines: bytes) -> bytes:
    """What the canonical lines of a whole body become: no trailing empty lines, no WSP at the
    end, and one CRLF after a non-empty body."""
    body = lines.rstrip(b"\r\n")
    if body.endswith(b" "):
        body = body.rstrip(b" ")
    return body + b"\r\n" if body else b""


def canonical_body(body: bytes) -> bytes:
    """RFC 6376 3.4.4 relaxed body: runs of WSP become one SP, none at line ends, no trailing
    empty lines; a non-empty body ends with one CRLF."""
    return body_end(canonical_lines(body))


def canonical_header(field: bytes) -> bytes:
    """RFC 6376 3.4.2 relaxed header: lowercase name, unfolded, WSP runs as one SP, no WSP
    around the colon or at the end; CRLF-terminated."""
    name, _, value = field.partition(b":")
    value = _HEADER_WSP.sub(b" ", _UNFOLD.sub(b"", value)).strip(b" \r\n")
    return name.strip(b" \t").lower() + b":" + value + b"\r\n"
