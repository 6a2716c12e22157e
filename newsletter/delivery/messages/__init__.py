"""Laying out one email: headers checked against injection, MIME parts, DKIM signature."""
