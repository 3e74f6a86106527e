"use strict";
// Live -> daemon: hello on init, what Generate reads from Live (tempo, signature, the selected clip's
// file, region and tempo, warped or not) and the /musicgen/generate message it composes.

const test = require("node:test");
const assert = require("node:assert/strict");
const { loadDevice, OUT } = require("../test_support/device");
const { FakeLive } = require("../test_support/fake_live");

const A = (name) => `/musicgen/${name}`; // expected addresses, spelled out independently of the script

function setup(opts = {}) {
  const live = new FakeLive(opts);
  const audio = live.addTrack({ name: "Audio 1" });
  live.select(audio, 0);
  const d = loadDevice(live);
  d.send("init");
  return { live, audio, d };
}

function connect(d) {
  const hello = d.last(A("hello"));
  d.send(A("welcome"), hello.id, 1, "0.1.0", "debug");
}

test("init says hello with the client name and reply port, and sets both UDP ports", () => {
  const { d } = setup();
  const hello = d.last(A("hello"));
  assert.match(hello.id, /^m4l-\d+-\d+$/);
  assert.deepEqual({ ...hello.keys }, { name: "m4l", reply_port: 9001 });
  assert.deepEqual(d.on(OUT.osc)[0].slice(0, 2), ["port", 9000]);
  assert.deepEqual(d.on(OUT.receive)[0].slice(0, 2), ["port", 9001]);
  assert.match(d.status(), /Connecting/);
  connect(d);
  assert.match(d.status(), /Connected: daemon 0\.1\.0, model debug/);
});

test("no welcome: the status says the daemon is not answering and how to start it", () => {
  const { d } = setup();
  d.runTasks();
  assert.match(d.status(), /No answer from the daemon on 127\.0\.0\.1:9000.*musicgen-bridge serve/);
  assert.ok(d.posts.some((p) => /No answer/.test(p)));
});

test("a daemon speaking another protocol version is reported", () => {
  const { d } = setup();
  d.send(A("welcome"), d.last(A("hello")).id, 99, "9.0", "x");
  assert.match(d.status(), /Protocol 99 differs/);
});

test("generate sends the song tempo, bars, time signature, prompt, takes, grid fit and reply port", () => {
  const { d, live } = setup({ tempo: 124, numerator: 7, denominator: 8 });
  connect(d);
  d.send("text", "dusty", "boom", "bap", 808);
  d.send("bars", 3);
  d.send("variations", 3);
  d.send("generate");
  const r = d.last(A("generate"));
  assert.match(r.id, /^m4l-\d+-\d+$/);
  assert.deepEqual({ ...r.keys }, {
    prompt: "dusty boom bap 808",
    bpm: 124,
    bars: 8,
    time_signature: "7/8",
    variations: 3,
    grid: "on",
    grid_shift: 0,
    reply_port: 9001,
  });
  assert.equal(Number.isInteger(r.keys.bpm), true); // Max sends it as an int
  assert.match(d.status(), /Requested 8 bars at 124 BPM 7\/8, 3 takes/);
  assert.equal(live.errors.length, 0);
});

test("the tempo is read at request time and rounded to 1/10000 BPM", () => {
  const { d, live } = setup({ tempo: 120 });
  live.song.props.tempo = 123.45000076293945; // a float32 tempo
  d.send("generate");
  assert.equal(d.last(A("generate")).keys.bpm, 123.45);
  live.song.props.tempo = 90;
  d.send("generate");
  assert.equal(d.last(A("generate")).keys.bpm, 90);
});

test("a tempo the daemon does not accept is refused before sending", () => {
  const { d, live } = setup();
  live.song.props.tempo = 450;
  d.send("generate");
  assert.equal(d.last(A("generate")), undefined);
  assert.match(d.status(), /450 BPM is outside the 20-400 BPM/);
});

test("settings are clamped: takes to the protocol's 1..8, bad menu indices ignored", () => {
  const { d } = setup();
  d.send("variations", 40);
  d.send("bars", 99);
  d.send("mode", -1);
  d.send("generate");
  const r = d.last(A("generate"));
  assert.equal(r.keys.variations, 8);
  assert.equal(r.keys.bars, 4);
  assert.equal(r.keys.melody, undefined);
});

test("a prompt longer than the protocol allows is cut to its max length", () => {
  const { d } = setup();
  d.send("text", "x".repeat(700));
  d.send("generate");
  assert.equal(d.last(A("generate")).keys.prompt.length, 500);
});

test("melody from an unwarped clip: start/end markers are already seconds; its tempo is unknown", () => {
  const { d, live, audio } = setup({ tempo: 124 });
  const clip = live.putClip(audio, 1, {
    name: "Riff",
    file_path: "/Users/me/Music/My Riff.wav",
    warping: 0,
    start_marker: 1.5,
    end_marker: 9.25,
    loop_start: 1.5,
    loop_end: 9.25,
    sample_length: 10 * 48000,
    sample_rate: 48000,
  });
  live.showInClipView(clip);
  d.send("mode", 1);
  d.send("generate");
  const r = d.last(A("generate"));
  assert.equal(r.keys.melody, "/Users/me/Music/My Riff.wav");
  assert.equal(r.keys.region_start, 1.5);
  assert.equal(r.keys.region_end, 9.25);
  assert.equal("melody_bpm" in r.keys, false);
  assert.equal("continue" in r.keys, false);
  assert.match(d.status(), /melody from 'Riff' 1\.50-9\.25 s/);
});

test("continue from a warped, looping clip: loop beats become file seconds through the warp markers", () => {
  const { d, live, audio } = setup({ tempo: 124 });
  // The file is at 100 BPM (0.6 s per beat) and its first downbeat is 0.5 s into the file.
  const clip = live.putClip(audio, 2, {
    warping: 1,
    looping: 1,
    loop_start: 4,
    loop_end: 20,
    start_marker: 0,
    end_marker: 32,
    sample_length: 30 * 44100,
    sample_rate: 44100,
    warp_markers: [
      { sample_time: 0.5, beat_time: 0 },
      { sample_time: 0.5 + 16 * 0.6, beat_time: 16 },
      { sample_time: 0.5 + 16 * 0.6 + 0.01875, beat_time: 16.03125 }, // hidden shadow marker
    ],
  });
  live.showInClipView(clip);
  d.send("mode", 2);
  d.send("generate");
  const r = d.last(A("generate"));
  assert.equal(r.keys.continue, "/Users/me/Samples/riff.wav");
  assert.equal(r.keys.region_start, 0.5 + 4 * 0.6);
  assert.equal(r.keys.region_end, 0.5 + 20 * 0.6); // past the last visible marker: last segment extended
  assert.equal(r.keys.melody_bpm, 100);
  assert.equal("melody" in r.keys, false);
});

test("a warped clip with tempo changes: the region follows each segment, the tempo is their average", () => {
  const { d, live, audio } = setup();
  const clip = live.putClip(audio, 1, {
    warping: 1,
    looping: 0,
    start_marker: 2,
    end_marker: 12,
    sample_length: 20 * 44100,
    sample_rate: 44100,
    warp_markers: [
      { sample_time: 0, beat_time: 0 },
      { sample_time: 4, beat_time: 8 }, // 120 BPM
      { sample_time: 7, beat_time: 12 }, // 80 BPM
      { sample_time: 7.02, beat_time: 12.03125 },
    ],
  });
  live.showInClipView(clip);
  d.send("mode", 1);
  d.send("generate");
  const r = d.last(A("generate"));
  assert.equal(r.keys.region_start, 1); // beat 2 at 120 BPM
  assert.equal(r.keys.region_end, 7); // beat 12
  assert.equal(r.keys.melody_bpm, 100); // 10 beats in 6 s
});

test("the region is clamped to the file", () => {
  const { d, live, audio } = setup();
  const clip = live.putClip(audio, 1, {
    warping: 1,
    looping: 1,
    loop_start: -4,
    loop_end: 40,
    sample_length: 10 * 44100,
    sample_rate: 44100,
    warp_markers: [
      { sample_time: 0, beat_time: 0 },
      { sample_time: 5, beat_time: 10 },
    ],
  });
  live.showInClipView(clip);
  d.send("mode", 1);
  d.send("generate");
  const r = d.last(A("generate"));
  assert.equal(r.keys.region_start, 0);
  assert.equal(r.keys.region_end, 10);
  assert.equal(r.keys.melody_bpm, 120);
});

test("a warped clip whose warp markers Live cannot report: whole file, no tempo, and the status says so", () => {
  const { d, live, audio } = setup();
  const clip = live.putClip(audio, 1, { warping: 1, looping: 1, loop_start: 0, loop_end: 8 });
  live.showInClipView(clip); // no warp_markers (like Live 10)
  d.send("mode", 1);
  d.send("generate");
  const r = d.last(A("generate"));
  assert.equal(r.keys.melody, "/Users/me/Samples/riff.wav");
  assert.equal("region_start" in r.keys, false);
  assert.equal("melody_bpm" in r.keys, false);
  assert.match(d.status(), /whole file is used and its tempo is unknown/);
});

test("a clip tempo outside the protocol's range is not sent", () => {
  const { d, live, audio } = setup();
  const clip = live.putClip(audio, 1, {
    warping: 1,
    looping: 0,
    start_marker: 0,
    end_marker: 8,
    sample_length: 100 * 44100,
    sample_rate: 44100,
    warp_markers: [
      { sample_time: 0, beat_time: 0 },
      { sample_time: 60, beat_time: 8 }, // 8 BPM
    ],
  });
  live.showInClipView(clip);
  d.send("mode", 1);
  d.send("generate");
  const r = d.last(A("generate"));
  assert.equal("melody_bpm" in r.keys, false);
  assert.equal(r.keys.region_end, 60);
  assert.match(d.status(), /tempo \(8 BPM\) is out of range/);
});

test("melody/continue without a usable selected clip: a clear message and nothing sent", () => {
  const { d, live, audio } = setup();
  d.send("mode", 1);
  d.send("generate");
  assert.match(d.status(), /Select an audio clip first/);
  const midi = live.putClip(audio, 3, { is_audio_clip: 0, file_path: "" });
  live.showInClipView(midi);
  d.send("generate");
  assert.match(d.status(), /MIDI clip/);
  const recording = live.putClip(audio, 4, { file_path: "" });
  live.showInClipView(recording);
  d.send("generate");
  assert.match(d.status(), /no audio file on disk/);
  const outside = live.putClip(audio, 5, { start_marker: 20, end_marker: 30, sample_length: 44100, sample_rate: 44100 });
  live.showInClipView(outside);
  d.send("generate");
  assert.match(d.status(), /lies outside its audio file/);
  assert.equal(d.last(A("generate")), undefined);
});

test("generate before live.thisdevice has banged is refused (LiveAPI is not ready)", () => {
  const live = new FakeLive();
  const d = loadDevice(live);
  d.send("generate");
  assert.match(d.status(), /still starting/);
  assert.equal(live.constructed, 0);
});

test("no ack after generate: the status says the daemon is not answering", () => {
  const { d } = setup();
  connect(d);
  d.send("generate");
  d.runTasks();
  assert.match(d.status(), /No answer from the daemon/);
});

test("port settings: the sockets follow, hello is sent again, requests name the new reply port", () => {
  const { d } = setup();
  d.send("daemon_port", 9100);
  d.advance(1000); // the box settles
  assert.deepEqual(d.on(OUT.osc).filter((m) => m[0] === "port").pop().slice(0, 2), ["port", 9100]);
  d.send("reply_port", 9201);
  d.advance(1000);
  assert.deepEqual(d.on(OUT.receive).pop().slice(0, 2), ["port", 9201]);
  assert.equal(d.last(A("hello")).keys.reply_port, 9201);
  d.send("reply_port", 70000); // ignored
  d.send("generate");
  assert.equal(d.last(A("generate")).keys.reply_port, 9201);
});

test("cancel sends one cancel per pending job, naming it", () => {
  const { d } = setup();
  connect(d);
  d.send("cancel");
  assert.match(d.status(), /Nothing to cancel/);
  d.send("generate");
  d.send("generate");
  const ids = d.requests().filter((r) => r.address === A("generate")).map((r) => r.id);
  d.send("cancel");
  const cancels = d.requests().filter((r) => r.address === A("cancel"));
  assert.deepEqual(cancels.map((c) => c.keys.job), ids);
  assert.ok(cancels.every((c) => c.keys.reply_port === 9001 && c.id !== c.keys.job));
  d.send(A("error"), ids[0], "cancelled", "the job was cancelled");
  assert.match(d.status(), /^Cancelled/);
});

test("loadbang (the script loaded) replaces the patch's 'did not load' text; init clears the path box", () => {
  const live = new FakeLive();
  const d = loadDevice(live);
  d.send("loadbang");
  assert.match(d.status(), /Waiting for Live/);
  assert.equal(live.constructed, 0);
  d.send("init");
  assert.deepEqual(d.on(OUT.path).pop(), ["clear"]);
});

test("cancelling a job that already finished says so instead of an error", () => {
  const { d } = setup();
  connect(d);
  d.send("generate");
  d.send("cancel");
  const cancel = d.last(A("cancel"));
  d.send(A("error"), cancel.id, "not_found", "no job with that id");
  assert.match(d.status(), /Nothing to cancel: the job had already finished/);
  d.send(A("ok"), cancel.id, "cancel", 0);
  assert.match(d.status(), /Nothing was running to cancel/);
});
