"""Silence the one transformers warning every real MusicGen load prints, and nothing else.

MusicGen's pad/BOS id is the codebook size (2048: one past the last code, by design), which transformers'
generic config check reports on every load as
"Model config: pad_token_id must be `None` or an integer within the vocabulary (between 0 and 2047),
got 2048. ..." (and the same for bos_token_id). A filter on the logger that emits it drops exactly those
records: pad/bos ids equal to the vocabulary size. Any other value, and every other message, passes.
"""

from __future__ import annotations

import logging
import re

# transformers.configuration_utils.PreTrainedConfig.validate_token_ids (transformers 5.x)
EMITTING_LOGGER = "transformers.configuration_utils"
_PAD_BOS = re.compile(
    r"^Model config: (?:pad|bos)_token_id must be `None` or an integer within the vocabulary "
    r"\(between 0 and (\d+)\), got (\d+)\."
)


class PadBosFilter(logging.Filter):
    """Drops the pad/bos out-of-vocabulary warning when the id is the vocabulary size (MusicGen's pad)."""

    def filter(self, record: logging.LogRecord) -> bool:
        m = _PAD_BOS.match(record.getMessage())
        return not (m and int(m.group(2)) == int(m.group(1)) + 1)


_FILTER = PadBosFilter()


def silence_pad_bos_warnings() -> None:
    """Install the filter once (idempotent: logging keeps one copy of the same filter object)."""
    logging.getLogger(EMITTING_LOGGER).addFilter(_FILTER)
