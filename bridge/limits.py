"""Request limits, shared by the request object (`bridge.config`), the OSC protocol table and the MIDI clock.

Plain data with no imports, so the panel can read them through `bridge.protocol` without numpy or torch.
"""

MIN_BPM, MAX_BPM = 20.0, 400.0  # quarter notes per minute
MAX_BARS = 512
MAX_LOOP_SECONDS = 300.0  # 5 minutes: longer than any loop a producer asks for; bounds GPU time per job
MAX_PROMPT_CHARS = 500
MAX_VARIATIONS = 8
MAX_SEED = 2**31 - 1
MAX_PROMPT_SECONDS = 20.0  # continuation context taken from the clip (the model window is 30 s)
DEFAULT_PROMPT_SECONDS = 4.0
SAMPLE_RATES = (22050, 32000, 44100, 48000, 88200, 96000)  # Hz, output files
BIT_DEPTHS = {"16": "PCM_16", "24": "PCM_24", "float": "FLOAT"}  # CLI / OSC name => soundfile subtype
SUBTYPES = tuple(BIT_DEPTHS.values())
