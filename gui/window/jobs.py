"""The jobs this panel sent, and every reply routed to them by request id.

    submit -> add(rid) -> ack (queued) -> progress / chunk -> grid (per take) -> done (results) | error

Status and history requests are the panel's own too: a status answer goes to the job it asked about
(or, for the daemon's own status, out as `daemon_status`), a history answer to the results. Queued jobs'
positions are polled; after a reconnect every active job is asked about again (`resync`).

The panel says hello with watch 1, so other clients' jobs (the Max device, a MIDI pad, any OSC tool)
are news here too: they get a row of their own (no Cancel: they are not ours) and their loops join the
results when they are done. A job of ours that failed in a way a second try may cure offers Retry.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal
from PyQt6.QtWidgets import QWidget

from bridge.names import DISPLAY_BPM_DECIMALS, format_bpm
from bridge.protocol import FINAL_STATES
from gui.jobs_view import FINISHED_ROW_MS, JobsView
from gui.messages import RETRYABLE, friendly_error
from gui.osc_client import HistoryEntry, OscClient
from gui.results import GridReport, ResultEntry, entries_from_history
from gui.window.banner import Banner
from gui.window.results import ResultsController

HISTORY_LIMIT = 50  # jobs looked through for one that finished while the daemon was out of reach
FOREIGN_TITLE = "Loop from another app"
POLL_MS = 1000  # queued jobs' positions are refreshed this often


@dataclass
class PanelJob:
    rid: str
    kind: str
    params: dict[str, Any]
    job_id: str = ""
    chunks: int = 0
    state: str = "sending"
    select_take: int = 1  # the take selected in the results when it is done (a nudge: the nudged one)


def job_detail(p: dict[str, Any]) -> str:
    """The row's second line: "124 bpm · 8 bars · 4/4 · seed 7 · 2 takes"."""
    bars = p["bars"]
    tempo = format_bpm(p["bpm"], DISPLAY_BPM_DECIMALS)
    parts = [f"{tempo} bpm", f"{bars} bar{'s' if bars != 1 else ''}", p["time_signature"]]
    parts.append(f"seed {p['seed']}")
    if p["variations"] > 1:
        parts.append(f"{p['variations']} takes")
    if p.get("melody"):
        parts.append(f"melody of {os.path.basename(p['melody'])}")
    if p.get("continue"):
        parts.append(f"continues {os.path.basename(p['continue'])}")
    if p.get("grid_shift"):
        parts.append(f"bar line {p['grid_shift']:+g} beat{'s' if abs(p['grid_shift']) != 1 else ''}")
    return " · ".join(parts)


def _with_grids(entries: list[ResultEntry], grids: dict[int, GridReport]) -> list[ResultEntry]:
    """Each take's grid fit onto its entry (done's paths are in take order: 1, 2, ...)."""
    for take, entry in enumerate(entries, start=1):
        if take in grids:
            entry.set_grid(grids[take])
    return entries


class JobsController(QObject):
    """Owns the JOBS list. `changed`: the set of active jobs changed; `failed(rid)`: one of ours failed or
    was cancelled; `daemon_status(pairs)`: the daemon's own status answer."""

    changed = pyqtSignal()
    failed = pyqtSignal(str)
    daemon_status = pyqtSignal(dict)

    def __init__(self, window: QWidget, client: OscClient, banner: Banner, results: ResultsController):
        super().__init__(window)
        self.client, self.banner, self.results = client, banner, results
        self.view = JobsView()
        self.jobs: dict[str, PanelJob] = {}
        self._status_for: dict[str, str] = {}  # status request id -> job request id ('' = daemon status)
        self._history_rids: set[str] = set()
        self._grids: dict[str, dict[int, GridReport]] = {}  # request id -> take -> its fit, until done
        self.foreign: set[str] = set()  # request ids of other clients' jobs shown in the list
        c = client
        c.ack.connect(self._on_ack)
        c.progress.connect(self._on_progress)
        c.chunk.connect(self._on_chunk)
        c.grid.connect(self._on_grid)
        c.done.connect(self._on_done)
        c.error.connect(self._on_error)
        c.ok.connect(self._on_ok)
        c.status.connect(self._on_status)
        c.history.connect(self._on_history)
        self.view.cancel_requested.connect(lambda rid: self.client.cancel(rid))
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(POLL_MS)
        self._poll_timer.timeout.connect(self._poll)

    def start(self) -> None:
        self._poll_timer.start()

    # ------------------------------------------------------------------ requests

    def add(self, rid: str, kind: str, params: dict[str, Any], select_take: int = 1) -> None:
        self.jobs[rid] = PanelJob(rid, kind, params, select_take=select_take)
        self.view.add(rid, params["prompt"] or "(no prompt)", job_detail(params))

    def active_ids(self) -> list[str]:
        """This panel's own jobs still queued or running (other clients' rows are not ours to cancel)."""
        return [rid for rid in self.view.active_ids() if rid not in self.foreign]

    def prompt_of(self, rid: str) -> str | None:
        """The prompt of one of this panel's jobs; None for any other request id."""
        job = self.jobs.get(rid)
        return job.params.get("prompt", "") if job is not None else None

    def cancel_all(self) -> bool:
        """Cancel all of this panel's jobs; False if none was active."""
        if not self.active_ids():
            return False
        self.client.cancel()
        for rid in self.active_ids():
            row = self.view.row(rid)
            if row is not None:
                row.status.setText("Cancelling…")
        return True

    def resync(self) -> None:
        """Connected (again): ask for the daemon's status and every active job's state (the history is
        paged in by gui.window.history)."""
        self._status_for[self.client.request_status()] = ""
        for rid in self.active_ids():
            self._status_for[self.client.request_status(rid)] = rid

    def wait_for_daemon(self) -> None:
        for rid in self.active_ids():
            row = self.view.row(rid)
            if row is not None:
                row.status.setText("Waiting for the daemon…")

    def _poll(self) -> None:
        if not self.client.connected:
            return
        for rid in self.active_ids():
            row = self.view.row(rid)
            if row is not None and row.state == "queued":
                self._status_for[self.client.request_status(rid)] = rid

    # ------------------------------------------------------------------ replies

    def _foreign_row(self, rid: str, job_id: str = ""):  # noqa: ANN202 (a JobRow)
        """The row of another client's job, made when its first news arrives."""
        row = self.view.row(rid)
        if row is None and rid not in self.jobs:
            row = self.view.add(rid, FOREIGN_TITLE, f"job {job_id}" if job_id else "sent by another client")
            row.cancel.hide()
            row.setToolTip("Sent to the daemon by another app (the Max device, a MIDI pad, an OSC tool)")
            self.foreign.add(rid)
        return row if rid in self.foreign else None

    def _on_ack(self, rid: str, position: int, job_id: str) -> None:
        job = self.jobs.get(rid)
        row = self.view.row(rid)
        if job is None:
            foreign = self._foreign_row(rid, job_id)
            if foreign is not None and foreign.state in ("sending", "queued"):
                foreign.set_queued(position)
            return
        if row is None:
            return
        job.job_id, job.state = job_id, "queued"
        if row.state in ("sending", "queued"):
            row.set_queued(position)
        self.changed.emit()

    def _on_progress(self, rid: str, fraction: float) -> None:
        if rid not in self.jobs:
            foreign = self._foreign_row(rid)
            if foreign is not None and foreign.active:
                foreign.set_progress(fraction)
            return
        job, row = self.jobs.get(rid), self.view.row(rid)
        if job is not None and row is not None and row.active:
            job.state = "running"
            row.set_progress(fraction, job.chunks)

    def _on_chunk(self, rid: str, index: int, path: str, start: float) -> None:
        job = self.jobs.get(rid)
        if job is None:
            return
        job.chunks += 1
        row = self.view.row(rid)
        if row is not None and row.active:
            row.set_progress(row.bar.value() / 1000.0, job.chunks)

    def _on_grid(self, rid: str, report: GridReport) -> None:
        self._grids.setdefault(rid, {})[report.take] = report

    def _on_done(self, rid: str, paths: list) -> None:
        job = self.jobs.get(rid)
        created = datetime.datetime.now().isoformat(timespec="seconds")
        grids = self._grids.pop(rid, {})
        if job is None:  # another client's job (a MIDI pad, the Max device): list its loops too
            entries = [ResultEntry.from_path(path, created=created) for path in paths]
            self.results.add_newest(_with_grids(entries, grids))
            if rid in self.foreign:
                self.view.row(rid).set_done(len(paths))
                self._forget_foreign_later(rid)
            return
        job.state = "done"
        row = self.view.row(rid)
        if row is not None:
            row.set_done(len(paths))
            self.view.remove_later(rid)
        entries = []
        for path in paths:
            entry = ResultEntry.from_path(
                path, prompt=job.params.get("prompt", ""), created=created, job=job.job_id
            )
            entry.time_signature = job.params.get("time_signature", "")
            entry.request = dict(job.params)  # what made it: a nudge sends it again
            entries.append(entry)
        self.results.add_newest(_with_grids(entries, grids), select=True)
        if 1 < job.select_take <= len(entries):
            self.results.view.select_path(entries[job.select_take - 1].path)
        self.changed.emit()

    def _on_error(self, rid: str, code: str, message: str) -> None:
        job = self.jobs.get(rid)
        self._grids.pop(rid, None)
        if rid in self._status_for:
            target = self._status_for.pop(rid)
            if target and code == "not_found":
                self._job_failed(target, "interrupted", "the daemon no longer knows this job")
            return
        if rid in self._history_rids:
            self._history_rids.discard(rid)
            return
        if rid in self.foreign:  # another client's job failed: its row says so, the banner is theirs
            self.view.row(rid).set_failed(friendly_error(code, message), cancelled=code == "cancelled")
            self._forget_foreign_later(rid)
            return
        if job is None:
            if code not in ("not_found",):
                self.banner.show_message(friendly_error(code, message))
            return
        self._job_failed(rid, code, message)

    def _forget_foreign_later(self, rid: str) -> None:
        self.view.remove_later(rid)
        QTimer.singleShot(FINISHED_ROW_MS + 100, lambda: self.foreign.discard(rid))

    def _job_failed(self, rid: str, code: str, message: str) -> None:
        job, row = self.jobs.get(rid), self.view.row(rid)
        if job is not None:
            job.state = "cancelled" if code == "cancelled" else "failed"
        text = friendly_error(code, message)
        self.failed.emit(rid)
        if row is not None:
            row.set_failed(text, cancelled=code == "cancelled")
            if code == "cancelled":
                self.view.remove_later(rid)
        if code != "cancelled":
            prompt = job.params.get("prompt", "") if job is not None else ""
            actions = [("Retry", lambda: self.retry(rid))] if job is not None and code in RETRYABLE else []
            self.banner.show_message(f"“{prompt}” failed: {text}" if prompt else text, actions=actions)
        self.changed.emit()

    def retry(self, rid: str) -> str:
        """Send a failed job's request again (a new request id: the daemon remembers how the old one
        ended); its row goes, the new job gets its own. Returns the new request id ('' if not sent)."""
        job = self.jobs.get(rid)
        if job is None or not self.client.connected:
            if job is not None:
                self.banner.show_message(
                    friendly_error("not_connected"), actions=[("Retry", lambda: self.retry(rid))]
                )
            return ""
        new = self.client.generate(job.params)
        self.view.remove(rid)
        self.add(new, job.kind, job.params, select_take=job.select_take)
        self.changed.emit()
        return new

    def _on_ok(self, rid: str, verb: str, count: int) -> None:
        if verb == "cancel" and count == 0 and not self.active_ids():
            self.banner.show_message("Nothing to cancel.", "info")

    def _on_status(self, rid: str, pairs: dict) -> None:
        target = self._status_for.pop(rid, None)
        if target is None:
            return
        if target == "":  # the daemon's own status
            self.daemon_status.emit(pairs)
            return
        row = self.view.row(target)
        if row is None or not row.active:
            return
        state = str(pairs.get("state", ""))
        if state == "queued":
            if row.state in ("sending", "queued"):  # a late answer must not undo progress already shown
                row.set_queued(int(pairs.get("position", 0)))
        elif state == "done":
            self._history_rids.add(self.client.request_history(HISTORY_LIMIT))
            row.set_done(int(pairs.get("paths", 0) or 0))
            self.view.remove_later(target)
        elif state in FINAL_STATES:
            self._job_failed(target, str(pairs.get("error_code") or state), str(pairs.get("error", "")))

    def _on_history(self, rid: str, entries: list[HistoryEntry]) -> None:
        if rid not in self._history_rids:
            return  # a page of gui.window.history's
        self._history_rids.discard(rid)
        for entry in entries_from_history(entries):
            self.results.add(entry, top=False)
