"""The trigger controller: MIDI actions become jobs on the daemon's queue, with the performer's state.

    Action ─> MidiController.perform ─┬─ preset / bars_up / bars_down: state (and the pads' base lights)
                                      ├─ cancel ─> JobQueue.cancel
                                      └─ generate / continue / variation ─> GenerationRequest
                                             ─> JobQueue.submit(origin "midi") ─> PadLights "running"
    MidiController.poll(now): jobs that ended ─> PadLights done / error / idle

A request's tempo comes from the MIDI clock, the last request in the journal, or the mapping (see
`MidiController`). Bad requests and a full queue are logged and flash the pad; they never raise.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.daemon.types import Job, JobError, Origin
from bridge.midi.clock import ClockFollower
from bridge.midi.lights import PadLights
from bridge.midi.mapping import JOB_ACTIONS, MAX_BARS, MIN_BARS, Action, Control, Mapping
from bridge.midi.ports import MidiError
from bridge.request import GenerationRequest

log = logging.getLogger(__name__)

MIDI_CLIENT = "midi"  # the journal's client column for MIDI jobs
ORIGIN = Origin(MIDI_CLIENT, None, "MIDI controller")  # reply_to None: announced to every client
HISTORY_LOOKBACK = 50  # journal records searched for the last request / result


def snap_tempo(bpm: float, tolerance: float) -> float:
    """A tempo within `tolerance` of a whole number becomes it; otherwise two decimals."""
    whole = round(bpm)
    if tolerance > 0 and abs(bpm - whole) <= tolerance:
        return float(whole)
    return round(bpm, 2)


class MidiController:
    """Actions -> jobs, with the performer's state: preset slot, bar count, jobs in flight.

    Tempo of a new request: the MIDI clock when followed and locked; else the last locked clock tempo;
    else the tempo of the last request in the journal (from any client: the Live device's song tempo);
    else the mapping's `bpm`. Runs on one thread (the service's); `snapshot()` may be read from any."""

    def __init__(
        self,
        mapping: Mapping,
        jobs: Any,
        *,
        clock: ClockFollower | None = None,
        lights: PadLights | None = None,
        origin: Origin = ORIGIN,
        now: Callable[[], float] = time.monotonic,
    ):
        self.mapping = mapping
        self.jobs = jobs  # bridge.daemon.jobs.JobQueue: submit, cancel, active_jobs, history
        self.clock = clock
        self.lights = lights
        self.origin = origin
        self._now = now
        self.preset = mapping.settings.preset
        self.bars = mapping.settings.bars
        self._inflight: list[tuple[Job, Control | None, int | None]] = []
        self.last_job: Job | None = None
        self.last_error = ""
        self._channel: int | None = None  # the channel the controller last spoke on

    # ------------------------------------------------------------------ state

    def set_mapping(self, mapping: Mapping) -> None:
        """A new mapping (the file changed): keep the preset and bars if they still make sense."""
        self.mapping = mapping
        if mapping.preset(self.preset) is None:
            self.preset = mapping.settings.preset
        if self.lights is not None:
            self.lights.style = mapping.feedback
        self.show_selection()

    def show_selection(self) -> None:
        if self.lights is None:
            return
        pads = [(b.control, self._channel) for b in self.mapping.bindings if b.action == "preset"]
        chosen = [(b.control, self._channel) for b in self.mapping.bindings_for("preset", self.preset)]
        self.lights.select(pads, chosen)

    def tempo(self) -> tuple[float, str]:
        """(bpm, where it came from) for the next request."""
        snap = self.mapping.settings.tempo_snap
        if self.clock is not None:
            bpm = self.clock.bpm
            if bpm is not None:
                return snap_tempo(bpm, snap), "clock"
            last = self.clock.last_bpm  # the clock stopped or dropped out: keep its tempo
            if last is not None:
                return snap_tempo(last, snap), "last clock tempo"
        for rec in self._history():
            bpm = rec.request.get("bpm") if isinstance(rec.request, dict) else None
            if isinstance(bpm, (int, float)) and not isinstance(bpm, bool):
                return float(bpm), "last request"
        return self.mapping.settings.bpm, "mapping"

    def snapshot(self) -> dict[str, Any]:
        preset = self.mapping.preset(self.preset)
        out: dict[str, Any] = {
            "midi_preset": self.preset,
            "midi_preset_name": preset.label if preset else "",
            "midi_bars": self.bars,
            "midi_jobs": len(self._inflight),
            "midi_error": self.last_error,
        }
        try:
            bpm, source = self.tempo()
            out.update(midi_bpm=bpm, midi_bpm_source=source)
        except Exception as e:  # a journal read failed: status still answers
            log.debug("tempo for status: %s", e)
        return out

    def _history(self) -> list[Any]:
        try:
            return list(self.jobs.history(HISTORY_LOOKBACK))
        except Exception as e:
            log.warning("cannot read the job journal: %s", e)
            return []

    # ------------------------------------------------------------------ actions

    def perform(self, action: Action, now: float | None = None) -> Job | None:
        """Do what the action says; returns the job it queued, if any. Never raises for bad requests."""
        now = self._now() if now is None else now
        if action.channel is not None:
            self._channel = action.channel
        try:
            if action.kind == "preset":
                self._select(action.slot or 1)
                return self._submit(action, self._generate_request(), now) if action.generate else None
            if action.kind in ("bars_up", "bars_down"):
                self._step_bars(+1 if action.kind == "bars_up" else -1)
                return None
            if action.kind == "cancel":
                self._cancel()
                return None
            if action.kind in JOB_ACTIONS:
                build = {
                    "generate": self._generate_request,
                    "continue": self._continue_request,
                    "variation": self._variation_request,
                }[action.kind]
                return self._submit(action, build(), now)
            raise MidiError(f"unknown action {action.kind!r}")
        except Exception as e:
            self._failed(action, e, now)
            return None

    def _failed(self, action: Action, e: Exception, now: float) -> None:
        code = getattr(e, "code", "")
        message = getattr(e, "message", None) or str(e)
        self.last_error = f"{action.kind}: {message}"
        if isinstance(e, (MidiError, JobError, ValueError)):  # ValueError: RequestError
            log.warning("MIDI %s: %s%s", action.kind, f"{code}: " if code else "", message)
        else:
            log.exception("MIDI %s failed", action.kind)
        if self.lights is not None and action.control is not None:
            self.lights.set(action.control, action.channel, "error", now)

    def _select(self, slot: int) -> None:
        preset = self.mapping.preset(slot)
        if preset is None:
            raise MidiError(f"there is no preset {slot}")
        self.preset = slot
        if preset.bars is not None:
            self.bars = preset.bars
        log.info("MIDI preset %d: %s (%d bars)", slot, preset.label, self.bars)
        self.show_selection()

    def _step_bars(self, direction: int) -> None:
        step = self.mapping.settings.bars_step
        if step is None:
            bars = self.bars * 2 if direction > 0 else self.bars // 2
        else:
            bars = self.bars + direction * step
        self.bars = min(max(bars, MIN_BARS), MAX_BARS)
        log.info("MIDI bars: %d", self.bars)

    def _cancel(self) -> None:
        targets = list(self.jobs.active_jobs(self.origin))
        if not targets:  # nothing of ours: stop whatever runs on the GPU now
            targets = [j for j in self.jobs.active_jobs() if j.state == "running"]
        count = sum(bool(self.jobs.cancel(j, "cancelled from the MIDI controller")) for j in targets)
        log.info("MIDI cancel: %d job(s)", count)

    # ------------------------------------------------------------------ requests

    def _base_fields(self) -> dict[str, Any]:
        preset = self.mapping.preset(self.preset)
        if preset is None:
            raise MidiError(f"there is no preset {self.preset}")
        bpm, source = self.tempo()
        fields: dict[str, Any] = {
            "prompt": preset.prompt,
            "bpm": bpm,
            "bars": self.bars,
            "time_signature": self.mapping.settings.time_signature,
        }
        fields.update(preset.request_fields())
        fields["_source"] = source
        return fields

    def _generate_request(self) -> _Built:
        return _request(self._base_fields())

    def _continue_request(self) -> _Built:
        for rec in self._history():
            if rec.state != "done":
                continue
            path = next((Path(p) for p in rec.paths if Path(p).is_file()), None)
            if path is None:
                continue
            fields = self._base_fields()
            clip_bpm = rec.request.get("bpm") if isinstance(rec.request, dict) else None
            fields["continue_from"] = path
            if isinstance(clip_bpm, (int, float)) and float(clip_bpm) != fields["bpm"]:
                fields["melody_bpm"] = float(clip_bpm)
            return _request(fields)
        raise MidiError("nothing to continue yet: no finished loop in the journal")

    def _variation_request(self) -> _Built:
        history = self._history()
        if not history:
            raise MidiError("nothing to vary yet: generate a loop first")
        data = dict(history[0].request)
        data["seed"] = None
        if self.clock is not None and self.clock.bpm is not None:
            bpm, _ = self.tempo()
            if bpm != data.get("bpm"):
                if (data.get("melody") or data.get("continue_from")) and data.get("melody_bpm") is None:
                    data["melody_bpm"] = data.get("bpm")  # the clip keeps the tempo it was made at
                data["bpm"] = bpm
        request = GenerationRequest.from_dict(data)
        return _Built(request, f"variation of job {history[0].job_id}")

    def _submit(self, action: Action, built: _Built, now: float) -> Job:
        request_id = f"midi-{secrets.token_hex(4)}"  # unique across restarts (the journal remembers ids)
        sub = self.jobs.submit(built.request, self.origin, request_id)
        job = sub.job
        self.last_job = job
        self.last_error = ""
        self._inflight.append((job, action.control, action.channel))
        r = built.request
        log.info(
            "MIDI %s -> job %s: %r, %d bars at %g bpm (%s)",
            action.kind,
            job.job_id,
            r.prompt[:60],
            r.bars,
            r.bpm,
            built.note,
        )
        if self.lights is not None and action.control is not None:
            self.lights.set(action.control, action.channel, "running", now)
        return job

    # ------------------------------------------------------------------ job news

    def poll(self, now: float | None = None) -> None:
        """Look at the jobs in flight; light pads for those that ended; run the lights' timers."""
        now = self._now() if now is None else now
        ended = [entry for entry in self._inflight if not entry[0].active]
        for entry in ended:
            self._inflight.remove(entry)
            job, control, channel = entry
            if job.state == "done":
                log.info("MIDI job %s done: %s", job.job_id, job.paths[0] if job.paths else "")
                state = "done"
            elif job.state == "cancelled":
                state = "idle"
            else:
                log.warning("MIDI job %s %s: %s", job.job_id, job.state, job.error or job.error_code)
                self.last_error = f"job {job.job_id}: {job.error or job.state}"
                state = "error"
            busy = any(c == control for _, c, _ in self._inflight)
            if self.lights is not None and control is not None and not busy:
                self.lights.set(control, channel, state, now)
        if self.lights is not None:
            self.lights.tick(now)


@dataclass(frozen=True)
class _Built:
    request: GenerationRequest
    note: str  # where the tempo came from, for the log


def _request(fields: dict[str, Any]) -> _Built:
    source = fields.pop("_source")
    return _Built(GenerationRequest(**fields), f"tempo from {source}")
