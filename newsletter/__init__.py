"""Trending research papers, personalised, in your inbox.

Data flows one way: ``sources`` -> ``store`` -> ``matching`` -> ``render`` -> ``delivery``,
driven by ``scheduler`` and fronted by ``web`` and ``cli``.
"""

__version__ = "0.1.0"
