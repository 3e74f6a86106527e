"""Readable text for the daemon's error codes (bridge.protocol.ERRORS) and the panel's own failures.

    friendly_error("queue_full", "17 jobs are waiting")
    -> "The daemon is busy: too many jobs queued. Try again in a moment. (17 jobs are waiting)"

The daemon's message names the culprit field first ("melody: /x.wav: file does not exist"); the field's
name is replaced by its label in the panel, so the user reads "Melody clip: /x.wav: file does not exist".
"""

from __future__ import annotations

# Codes the panel itself produces (they are not protocol codes).
NO_REPLY = "no_reply"
NOT_CONNECTED = "not_connected"
INVALID = "invalid"  # the form failed the protocol's own checks before anything was sent

SENTENCES: dict[str, str] = {
    "bad_message": "The daemon could not read the request; the panel and daemon may be different versions.",
    "unknown_address": "The daemon does not know this request; the panel and daemon may be different versions.",
    "bad_argument": "A setting is not valid.",
    "missing_argument": "A required setting is missing.",
    "out_of_range": "A setting is out of range.",
    "too_long": "A text field is too long.",
    "bad_path": "The clip could not be used.",
    "queue_full": "The daemon is busy: too many jobs queued. Try again in a moment.",
    "rate_limited": "The daemon got too many requests from the panel at once. Try again in a moment.",
    "duplicate_id": "The daemon mixed this request up with an earlier one. Try it again.",
    "not_found": "The daemon does not know this job (it may have been restarted).",
    "cancelled": "Cancelled.",
    "interrupted": "The daemon stopped while this job was running or waiting. Try it again.",
    "shutting_down": "The daemon is shutting down and takes no new jobs.",
    "io_error": "A file could not be read or written (disk full, permissions, or the clip was moved).",
    "model_error": "The model failed on this request.",
    "out_of_memory": "The GPU ran out of memory. Try fewer bars or variations, or close other GPU programs.",
    "internal": "Something went wrong inside the daemon; its log has the details.",
    NO_REPLY: "The daemon did not answer. Is it running?",
    NOT_CONNECTED: "Not connected to the daemon. Start it, or check the host and port.",
    INVALID: "Please check the settings.",
}

FIELD_LABELS: dict[str, str] = {
    "prompt": "Prompt",
    "bpm": "BPM",
    "bars": "Bars",
    "time_signature": "Time signature",
    "melody": "Melody clip",
    "melody_bpm": "Clip BPM",
    "region_start": "Region start",
    "region_end": "Region end",
    "region_start/region_end": "Region",
    "continue": "Clip to continue",
    "prompt_seconds": "Prompt length",
    "variations": "Variations",
    "seed": "Seed",
    "temperature": "Temperature",
    "top_k": "Top-k",
    "top_p": "Top-p",
    "cfg": "CFG",
    "sample_rate": "Sample rate",
    "bit_depth": "Bit depth",
    "loudness": "Loudness",
    "request_id": "Request id",
}


# codes whose detail from the daemon speaks protocol ("send it again with a new id"): the sentence is enough
NO_DETAIL = frozenset({"cancelled", "interrupted", "duplicate_id"})
# failures a Retry (the same request again, under a new id) may cure
RETRYABLE = frozenset(
    {
        "interrupted",
        "duplicate_id",
        "queue_full",
        "rate_limited",
        "shutting_down",
        "io_error",
        "out_of_memory",
        "model_error",
        "internal",
        NO_REPLY,
    }
)


def humanize_detail(message: str) -> str:
    """'melody: /x.wav: missing' -> 'Melody clip: /x.wav: missing'; other text is returned as is."""
    message = (message or "").strip()
    head, sep, rest = message.partition(": ")
    if sep and head in FIELD_LABELS:
        return f"{FIELD_LABELS[head]}: {rest}"
    return message


def friendly_error(code: str, message: str = "") -> str:
    """One readable paragraph: a sentence for the code, then the daemon's own words in parentheses."""
    sentence = SENTENCES.get(code, "The daemon reported an error.")
    detail = humanize_detail(message)
    if code in NO_DETAIL or not detail or detail.rstrip(".").lower() == code.replace("_", " "):
        return sentence
    return f"{sentence} ({detail.rstrip('.')})"


def is_cancellation(code: str) -> bool:
    return code == "cancelled"
