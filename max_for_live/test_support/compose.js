"use strict";
// Prints, as JSON, the OSC requests the device sends for a few typical sessions (hello, generate in
// each mode, the last with the Grid and Nudge controls set, cancel), so the Python tests can feed them
// to the daemon's own request parser.
// Usage: node compose.js <melody-file> <continue-file>

const { loadDevice } = require("./device");
const { FakeLive } = require("./fake_live");

const [melodyFile = "/tmp/riff.wav", continueFile = "/tmp/take.wav"] = process.argv.slice(2);
const live = new FakeLive({ tempo: 123.45, numerator: 6, denominator: 8 });
const audio = live.addTrack({ name: "Audio 1" });
live.select(audio, 0);
const unwarped = live.putClip(audio, 1, {
  name: "riff", file_path: melodyFile, start_marker: 0.25, end_marker: 3.5, sample_length: 4 * 32000, sample_rate: 32000,
});
const warped = live.putClip(audio, 2, {
  name: "take", file_path: continueFile, warping: 1, looping: 1, loop_start: 2, loop_end: 6,
  sample_length: 4 * 32000, sample_rate: 32000,
  warp_markers: [{ sample_time: 0, beat_time: 0 }, { sample_time: 3.75, beat_time: 8 }],
});
const d = loadDevice(live);
d.send("init");
d.send("text", "warm", "analog", "house", 808);
d.send("generate");
d.send("bars", 0);
d.send("variations", 3);
d.send("mode", 1);
live.showInClipView(unwarped);
d.send("generate");
d.send("mode", 2);
d.send("grid", 1); // strict
d.send("grid_shift", -1.5);
live.showInClipView(warped);
d.send("generate");
d.send("cancel");
process.stdout.write(JSON.stringify(d.requests().map((r) => ({ address: r.address, args: [r.id, ...r.pairs] }))));
