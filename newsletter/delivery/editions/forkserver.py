"""Imported last by the build's fork server, after the modules it preloads: freezes them.

Workers are forked from the fork server and share its pages until they write to them, and the
cycle collector writes to every object it scans. Frozen objects are never scanned again, so the
preloaded modules (scikit-learn, SciPy, the matcher's code) stay shared between the workers
instead of being copied into each. Nothing else imports this module.
"""

import gc

gc.freeze()
