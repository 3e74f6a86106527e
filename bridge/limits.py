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

# Input clips (melody, continuation): checked from the header before anything is decoded.
MAX_CLIP_SAMPLES = 1 << 28  # frames x channels a clip may declare: ~46 min of 48 kHz stereo
MAX_DECODE_SAMPLES = 1 << 26  # frames x channels decoded from one clip (256 MiB as float32)
MAX_MELODY_SECONDS = 30.0  # of the melody clip (region) used: one model window; it loops after that
PROMPT_MARGIN_SECONDS = 1.0  # decoded before a continuation's prompt: resampler and stretch edges
MIN_CLIP_SECONDS = 0.25  # a shorter clip (a truncated file, a stray click) holds no melody or groove to use

# What the daemon deletes (bridge.daemon.retention); finished loops are never deleted.
CHUNK_KEEP_SECONDS = 600.0  # preview chunks (<out>/.jobs/<job_id>/) go 10 min after their job ended
JOURNAL_KEEP_DAYS = 7  # journal rows of jobs that ended without a file (cancelled, failed, interrupted)
STALE_TEMP_SECONDS = 3600.0  # a `.NAME.XXXXXXXX.part` temp file this old at start is a crash's leftover
RETENTION_SWEEP_SECONDS = 60.0  # how often the idle worker looks for what is due
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
CHANNEL_CHOICES = (0, 1, 2)  # output channels: 0 = the model's (mono or stereo), 1 = downmix, 2 = stereo
DEFAULT_CHANNELS = 0

MODEL_SAMPLE_RATE = 32000  # Hz: MusicGen's EnCodec; streamed preview chunks are written at this rate

# The grid: how a take is fitted onto the song's bars (bridge.audio.grid).
GRID_MODES = ("off", "on", "strict")  # off: cut as generated; on: fit; strict: regenerate takes too far off
DEFAULT_GRID = "on"
GRID_SHIFT_RANGE = (-64.0, 64.0)  # beats the bar line is moved by (the musician's nudge)
DEFAULT_GRID_MARGIN_BARS, GRID_MARGIN_RANGE = 1, (1, 4)  # bars generated before and after the loop
DEFAULT_GRID_TOLERANCE_PCT, GRID_TOLERANCE_RANGE = 5.0, (0.5, 50.0)  # strict: % off the tempo still kept
GRID_MAX_ATTEMPTS = 3  # strict: generations per take before the closest one is kept and reported

# The daemon under load and abuse (bridge.daemon.clients, bridge.daemon.budget).
SOCKET_BUFFER = 4 << 20  # bytes asked for SO_RCVBUF/SO_SNDBUF, so bursts queue instead of dropping
MAX_CLIENTS = 1024  # client registrations (hellos) kept, least recently seen dropped first
MAX_WATCHERS = 32  # clients with watch 1 that get copies of other clients' job news
REPLY_BUDGET_BYTES = 16384  # reply bytes one incoming datagram (a message or a whole bundle) may cause at once
# Token buckets per reply address, (per second, burst); a daemon-wide bucket allows RATE_GLOBAL_FACTOR times more.
RATE_LIMITS = {
    "error": (50.0, 1000),  # error replies; beyond this they are dropped (counted in status)
    "heavy": (20.0, 60),  # status and history requests; beyond this: rate_limited
    "submit": (10.0, 100),  # generate requests queued (a retransmission or queue_full costs nothing)
}
RATE_GLOBAL_FACTOR = 8
RATE_KEYS = 4096  # reply addresses whose buckets are remembered
MAX_BUNDLE_DEPTH = 8  # bundles nested in bundles; deeper is refused as bad_message
