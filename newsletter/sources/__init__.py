"""Reading paper listings into normalized records.

Each source (Hugging Face Daily Papers, arXiv's query API and announcement RSS, JSON files) is a
small module behind :class:`~newsletter.sources.interface.Source`; ``runner`` stores what they
yield and turns a source that is down into a line of the report, never an exception.
"""
