#!/usr/bin/env bash
# The one prepared GPU check: on a fresh CUDA machine holding only this repository, install what it needs
# and, in under 8 minutes, run
#   1. the decoder tests on the device (tests/engine/test_decoder_device.py): greedy codes of our decode loop
#      equal transformers' generate() on CUDA in fp32 and bf16 (debug, debug-stereo and 256-wide melody,
#      plain and stereo builds; text, CFG on/off, chroma, continuation, batch 2), and the CUDA-graph step
#      gives the eager step's codes (greedy and sampled);
#   2. `bench` for melody, small and stereo-melody (random weights at real size: steps/s, the first
#      streamed chunk, the fraction of the memory-bandwidth floor, ours against transformers' generate),
# writing into OUTDIR: gpu_check.log (everything printed), env.json, decoder_tests.xml (JUnit),
# bench-<arch>.json (the bench's JSON) and summary.json.
#
# usage: scripts/gpu_check.sh OUTDIR [--dry-run]
#   --dry-run   the same steps on the CPU at small sizes (debug arch, fp32, 0.3 s of audio, no grid
#               figures): tests/test_gpu_check.py runs it so the script is known to work.
# environment:
#   GPU_CHECK_PYTHON  use this interpreter as it is (torch and the project's dependencies already
#                     installed; run from the repo root; nothing is installed but WHEELS). The dry-run test
#                     sets it.
#   PYTHON            the interpreter a fresh venv is made from [python3]
#   GPU_CHECK_VENV    where that venv goes [/tmp/musicgen-gpu-venv]
#   TORCH             the PyTorch requirement [torch==2.13.0: from PyPI on Linux x86-64, the CUDA build]
#   WHEELS            a folder of wheels for a machine without network: with a venv, pip --no-index
#                     --find-links WHEELS; with GPU_CHECK_PYTHON, the wheels are installed with --no-deps
#                     into /tmp/musicgen-gpu-site, put first on PYTHONPATH (e.g. a machine whose python3
#                     has CUDA torch but an older transformers: carry transformers==5.24.0 and what the
#                     project needs beyond it, e.g. soxr, soundfile, pyloudnorm, python-osc)
#   GPU_CHECK_DEVICE  [cuda; cpu for --dry-run]   GPU_CHECK_ARCHS  bench archs, space-separated
# exit status: 0 when every test passed and every bench ran; 1 otherwise; 2 on bad usage; 3 when the
# set-up failed (no CUDA device, install error).

set -uo pipefail

if [[ $# -lt 1 || $1 == -* ]]; then
    sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
OUT_ARG=$1
shift
DRY=0
if [[ ${1:-} == --dry-run ]]; then
    DRY=1
    shift
fi
if [[ $# -gt 0 ]]; then
    echo "error: unexpected arguments: $*" >&2
    exit 2
fi

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$OUT_ARG" || exit 2
OUT="$(cd "$OUT_ARG" && pwd)"
exec > >(tee "$OUT/gpu_check.log") 2>&1
TEE_PID=$!
finish() { exec 1>&- 2>&-; wait "$TEE_PID" 2>/dev/null; } # the log is complete when the script returns
trap finish EXIT
cd "$REPO" || exit 3
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
T0=$(date +%s)
say() { printf '[gpu_check %4ds] %s\n' "$(($(date +%s) - T0))" "$*"; }

if [[ $DRY == 1 ]]; then
    DEVICE=${GPU_CHECK_DEVICE:-cpu}
    ARCHS=${GPU_CHECK_ARCHS:-debug}
    TEST_ARCHS=debug TEST_DTYPES=float32
    BENCH_SECONDS=0.3 BENCH_REPEATS=1 STREAM_SECONDS=1 GRID=0
    TEST_TIMEOUT=300 BENCH_TIMEOUT=300
else
    DEVICE=${GPU_CHECK_DEVICE:-cuda}
    ARCHS=${GPU_CHECK_ARCHS:-melody small stereo-melody}
    TEST_ARCHS=debug,debug-stereo,mid-melody,mid-plain,mid-stereo-melody TEST_DTYPES=float32,bfloat16
    BENCH_SECONDS=5 BENCH_REPEATS=3 STREAM_SECONDS=30 GRID=1
    TEST_TIMEOUT=150 BENCH_TIMEOUT=110 # with the install: under 8 minutes on one H100/H200-class GPU
fi
say "repo $REPO, out $OUT, device $DEVICE, dry run $DRY, bench archs: $ARCHS"

# ------------------------------------------------------------------------------------------- set-up
if [[ -n ${GPU_CHECK_PYTHON:-} ]]; then
    PY=$GPU_CHECK_PYTHON
    if [[ -n ${WHEELS:-} ]]; then
        SITE=/tmp/musicgen-gpu-site
        say "installing the wheels in $WHEELS into $SITE for $PY"
        "$PY" -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$SITE" "$WHEELS"/*.whl || exit 3
        export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
    fi
    say "using $PY"
else
    VENV=${GPU_CHECK_VENV:-/tmp/musicgen-gpu-venv}
    PIP_FROM=()
    if [[ -n ${WHEELS:-} ]]; then PIP_FROM=(--no-index --find-links "$WHEELS"); fi
    say "installing into $VENV: ${TORCH:-torch==2.13.0}, the project, pytest"
    if [[ ! -x $VENV/bin/python ]]; then "${PYTHON:-python3}" -m venv "$VENV" || exit 3; fi
    "$VENV/bin/pip" install -q "${PIP_FROM[@]}" "${TORCH:-torch==2.13.0}" || exit 3
    "$VENV/bin/pip" install -q "${PIP_FROM[@]}" -e . pytest || exit 3
    PY=$VENV/bin/python
fi

"$PY" - "$OUT/env.json" "$DEVICE" <<'EOF' || exit 3
import json, platform, sys
import torch, transformers
out, device = sys.argv[1], sys.argv[2]
env = {
    "torch": torch.__version__, "cuda": torch.version.cuda, "transformers": transformers.__version__,
    "python": platform.python_version(), "machine": platform.node(), "device": device,
    "cuda_available": torch.cuda.is_available(),
    "device_name": torch.cuda.get_device_name(0) if torch.cuda.is_available() else platform.machine(),
}
json.dump(env, open(out, "w"), indent=1)
print(json.dumps(env))
if device.startswith("cuda") and not torch.cuda.is_available():
    sys.exit(f"no CUDA device visible to torch {torch.__version__} (a CPU build?): nothing to check")
EOF
if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; fi

STATUS=0
# ------------------------------------------------------------------------------------ decoder tests
say "decoder tests on $DEVICE ($TEST_ARCHS; $TEST_DTYPES)"
MUSICGEN_TEST_DEVICE=$DEVICE MUSICGEN_TEST_ARCHS=$TEST_ARCHS MUSICGEN_TEST_DTYPES=$TEST_DTYPES \
    timeout "$TEST_TIMEOUT" "$PY" -m pytest -q -p no:cacheprovider tests/engine/test_decoder_device.py \
    --junitxml="$OUT/decoder_tests.xml" -o junit_family=xunit2
rc=$?
say "decoder tests: exit $rc"
[[ $rc == 0 ]] || STATUS=1

# -------------------------------------------------------------------------------------------- bench
for arch in $ARCHS; do
    say "bench $arch"
    timeout "$BENCH_TIMEOUT" "$PY" - "$arch" "$DEVICE" "$BENCH_SECONDS" "$BENCH_REPEATS" "$STREAM_SECONDS" \
        "$GRID" "$OUT/bench-$arch.json" <<'EOF'
import json, sys
from bridge.tools import bench
arch, device, seconds, repeats, stream, grid, out = sys.argv[1:]
result = bench.bench(arch, device, "auto", float(seconds), int(repeats), float(stream), grid=grid == "1")
print(bench.format_table(result))
with open(out, "w") as f:
    json.dump(result, f, indent=2)
EOF
    rc=$?
    say "bench $arch: exit $rc"
    [[ $rc == 0 ]] || STATUS=1
done

# ------------------------------------------------------------------------------------------ summary
"$PY" - "$OUT" "$STATUS" "$ARCHS" <<'EOF' || STATUS=1
import json, sys, xml.etree.ElementTree as ET
from pathlib import Path
out, status, archs = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split()
summary = {"env": json.loads((out / "env.json").read_text()), "status": status, "tests": None, "bench": {}}
if (out / "decoder_tests.xml").exists():
    root = ET.parse(out / "decoder_tests.xml").getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    n = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    failed = [f"{c.get('classname')}::{c.get('name')}" for c in suite.iter("testcase")
              if c.find("failure") is not None or c.find("error") is not None]
    summary["tests"] = {**n, "passed": n["tests"] - n["failures"] - n["errors"] - n["skipped"], "failed": failed}
for arch in archs:
    path = out / f"bench-{arch}.json"
    if not path.exists():
        summary["bench"][arch] = None
        continue
    r = json.loads(path.read_text())
    pick = ("steps_per_s", "step_ms", "first_chunk_s", "floor_fraction", "peak_mem_mb")
    summary["bench"][arch] = {
        "dtype": r["dtype"], "channels": r.get("channels", 1), "speedup": r["speedup"],
        "ours": {k: r["ours"][k] for k in pick}, "transformers": {k: r["transformers"][k] for k in pick},
        "floor_step_ms": r["floor"]["step_ms"], "streaming_snr_db": r["streaming"]["snr_db"],
    }
(out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
t = summary["tests"]
print("tests:", "not run" if t is None else f"{t['passed']} passed, {t['failures'] + t['errors']} failed, {t['skipped']} skipped")
for arch, b in summary["bench"].items():
    if b is None:
        print(f"{arch:14s} bench did not finish")
        continue
    o, h = b["ours"], b["transformers"]
    print(f"{arch:14s} {b['dtype']:8s} steps/s ours {o['steps_per_s']:8.1f} transformers {h['steps_per_s']:7.1f} "
          f"({b['speedup']:.2f}x); first chunk {o['first_chunk_s']:.3f} s; "
          f"bandwidth floor {o['floor_fraction']:.0%} (transformers {h['floor_fraction']:.0%})")
EOF
say "done: exit $STATUS (log, env.json, decoder_tests.xml, bench-*.json, summary.json in $OUT)"
exit $STATUS
