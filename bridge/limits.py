"""Request limits and defaults, and the few numbers both sides share: the request object (`bridge.request`),
the OSC protocol table, the CLI, the engine's sampling defaults and the MIDI clock all import them from here.

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

# Sampling: audiocraft's defaults, and the ranges a request may ask for (low, high), inclusive.
DEFAULT_TEMPERATURE, TEMPERATURE_RANGE = 1.0, (0.0, 5.0)  # 0 = greedy
DEFAULT_TOP_K, TOP_K_RANGE = 250, (0, 2048)  # 0 = off; 2048 codes per codebook
DEFAULT_TOP_P, TOP_P_RANGE = 0.0, (0.0, 1.0)  # 0 = off
DEFAULT_CFG, CFG_RANGE = 3.0, (0.0, 20.0)  # classifier-free guidance scale

# The finished file.
DEFAULT_LOUDNESS_LUFS, LOUDNESS_RANGE = -14.0, (-60.0, 0.0)  # integrated (ITU-R BS.1770): streaming level
DEFAULT_PEAK_DBFS = -1.0  # sample-peak ceiling after the loudness gain
DEFAULT_SAMPLE_RATE = 44100  # Hz
DEFAULT_BIT_DEPTH = "24"

MODEL_SAMPLE_RATE = 32000  # Hz: MusicGen's EnCodec; streamed preview chunks are written at this rate

# The grid: how a take is fitted onto the song's bars (bridge.audio.grid).
GRID_MODES = ("off", "on", "strict")  # off: cut as generated; on: fit; strict: regenerate takes too far off
DEFAULT_GRID = "on"
GRID_SHIFT_RANGE = (-64.0, 64.0)  # beats the bar line is moved by (the musician's nudge)
DEFAULT_GRID_MARGIN_BARS, GRID_MARGIN_RANGE = 1, (1, 4)  # bars generated before and after the loop
DEFAULT_GRID_TOLERANCE_PCT, GRID_TOLERANCE_RANGE = 5.0, (0.5, 50.0)  # strict: % off the tempo still kept
GRID_MAX_ATTEMPTS = 3  # strict: generations per take before the closest one is kept and reported
