"""Raw public datasets → the event-sequence contract (design §2); one module per dataset.

The command-line entry points are the thin scripts in `data_prep/`.
"""

from eventssl.data.prep.common import Report
from eventssl.data.prep.raw import RawDataError

__all__ = ["RawDataError", "Report"]
