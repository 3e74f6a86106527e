"use strict";
// The script against a Live as strict as the real one (test_support/fake_live.js): refusals answered
// with a bare 1, create_audio_clip replacing what lies under it, no version gate, warp markers that must
// lie inside the file and come as a Dict, Live's warp analysis taking its time; and LiveAPI objects
// reused instead of made for every lookup.

const test = require("node:test");
const assert = require("node:assert/strict");
const { loadDevice } = require("../test_support/device");
const { FakeLive, FakeDict } = require("../test_support/fake_live");

const A = (name) => `/musicgen/${name}`;
const BPM = 124;
const LOOP_BEATS = 16; // 4 bars of 4/4
const LOOP_SECONDS = (LOOP_BEATS * 60) / BPM; // 7.7419... s

function setup({ live: options = {}, device = {} } = {}) {
  const live = new FakeLive({ tempo: BPM, ...options });
  const audio = live.addTrack({ name: "Audio 1", scenes: 8 });
  live.select(audio, 0);
  const d = loadDevice(live, device);
  d.send("init");
  d.send(A("welcome"), d.last(A("hello")).id, 1, "0.1.0", "debug");
  /** Generate n takes and answer like the daemon; file options per take (added to the fake unless add: false). */
  const run = (n = 1, { file = {}, add = true, destination = 0 } = {}) => {
    d.send("text", "dub techno chords");
    d.send("variations", n);
    d.send("destination", destination);
    d.send("generate");
    const id = d.last(A("generate")).id;
    d.send(A("ack"), id, 0, "j-0001");
    const paths = [];
    for (let i = 1; i <= n; i++) {
      const p = `/Users/me/MusicGen/dub-techno_124bpm_4bars_v${i}.wav`;
      if (add) live.addFile(p, { seconds: LOOP_SECONDS, guessBpm: BPM, ...file });
      paths.push(p);
    }
    d.send(A("done"), id, ...paths);
    d.runTasks();
    return { id, paths };
  };
  return { live, audio, d, run };
}

// ------------------------------------------------------------------------------- 2. refusals

test("a refused Track.create_audio_clip (a bare 1) is a refusal, not object id 1", () => {
  const { live, audio, d, run } = setup();
  const { paths } = run(1, { add: false, destination: 1 }); // Live cannot read the file: it answers 1
  assert.deepEqual(live.errors, ["create_audio_clip: not a valid audio file"]);
  assert.equal(live.arrangementClips(audio).length, 0);
  assert.deepEqual(live.objects.get(1).props, {}, "object 1 (the Application) was treated as the new clip");
  assert.match(d.status(), /saved but not inserted: Live did not create the clip on 'Audio 1' \(Live answered 1;/);
  assert.doesNotMatch(d.status(), /^Done: the loop in/);
  assert.equal(d.pathShown(), paths[0]);
});

test("an id that is not a clip of our file is not taken for the new clip", () => {
  for (const destination of [0, 1]) {
    const { live, audio, d, run } = setup();
    const other = live.putClip(audio, 5, { file_path: "/Users/me/Samples/someone-else.wav" });
    const real = live.call.bind(live);
    live.call = (obj, fn, args) => (fn === "create_audio_clip" ? ["id", fn === "x" ? 0 : other.id] : real(obj, fn, args));
    const { paths } = run(1, { destination });
    assert.equal(other.props.name, "clip", "the other clip was renamed");
    assert.equal(other.props.warping, 0);
    assert.match(d.status(), /not inserted: Live answered with an object that is not a clip of \/Users\/me\/MusicGen\//);
    assert.equal(d.pathShown(), paths[0]);
    live.call = (obj, fn, args) => (fn === "create_audio_clip" ? ["id", audio.id] : real(obj, fn, args));
    const again = run(1, { destination });
    assert.equal(audio.props.name, "Audio 1", "the track was renamed");
    assert.match(d.status(), /not a clip of/);
    assert.equal(d.pathShown(), again.paths[0]);
  }
});

test("a Live that answers a successful create without an id: the clip where it must be is checked and taken", () => {
  for (const destination of [0, 1]) {
    for (const answer of [undefined, 0]) {
      const { live, audio, d, run } = setup();
      const real = live.call.bind(live);
      live.call = (obj, fn, args) => {
        const result = real(obj, fn, args);
        return fn === "create_audio_clip" && Array.isArray(result) ? answer : result;
      };
      const { paths } = run(1, { destination });
      const clip = destination ? live.arrangementClips(audio)[0] : live.clipIn(audio, 0);
      assert.equal(clip.props.file_path, paths[0]);
      assert.equal(clip.props.name, "dub techno chords");
      assert.match(d.status(), /^Done: the loop in/);
    }
  }
});

// ---------------------------------------------------------------- 3. arrangement never overwrites

test("Arrangement: clips at the insert marker are never replaced; the loop goes to the next free place", () => {
  const { live, audio, d, run } = setup();
  live.song.props.start_time = 32;
  const mine = live.putArrangementClip(audio, 28, 40); // under the insert marker
  const later = live.putArrangementClip(audio, 60, 64); // the second take would overlap it at 56..72
  const { paths } = run(2, { destination: 1 });
  assert.deepEqual(live.replaced, []);
  const clips = live.arrangementClips(audio);
  assert.deepEqual(clips.map((c) => [c.props.start_time, c.props.file_path]), [
    [28, mine.props.file_path],
    [40, paths[0]],
    [60, later.props.file_path],
    [64, paths[1]],
  ]);
  assert.match(d.status(), /^Done: 2 takes in arrangement on 'Audio 1' \(beat 40, beat 64\); placed after the clips at the insert marker, nothing overwritten/);
});

test("Arrangement: a free insert marker is used as it is; a clip Live makes longer than the loop is reported", () => {
  const free = setup();
  free.live.song.props.start_time = 8;
  free.live.putArrangementClip(free.audio, 24, 32); // starts right where the loop ends
  free.run(1, { destination: 1 });
  assert.match(free.d.status(), /^Done: the loop in arrangement on 'Audio 1' \(beat 8\)$/);
  assert.deepEqual(free.live.replaced, []);
  // Live sizes the new clip by its own tempo guess: guessing double tempo makes it 32 beats long.
  const { live, audio, d, run } = setup();
  live.putArrangementClip(audio, 20, 24);
  run(1, { destination: 1, file: { guessBpm: BPM * 2 } });
  assert.equal(live.replaced.length, 1);
  assert.match(d.status(), /replaced 1 clip after it: Edit > Undo brings it back/);
});

// ------------------------------------------------------------------- 5. the warp marker's end

test("the warp marker lies inside the file: clamped to sample_length / sample_rate of a stereo take", () => {
  // 16 beats at 124 BPM are 247741.94 frames at 32 kHz; the file holds 247741, so the exact loop end
  // is 0.03 ms past its last frame and Live refuses a marker there. v8 [js], so the marker's form is
  // not what is tested here.
  const { live, audio, d, run } = setup({ live: { jsEngine: "v8" } });
  run(1, { file: { sampleRate: 32000, frames: 247741, channels: 2, guessBpm: 101 } });
  const clip = live.clipIn(audio, 0);
  const last = clip.warpMarkers[clip.warpMarkers.length - 1];
  assert.deepEqual(live.errors, []);
  assert.deepEqual([last.beat_time, last.sample_time], [LOOP_BEATS, 247741 / 32000]);
  assert.doesNotMatch(d.status(), /off the bar grid/);
  assert.match(d.status(), /^Done: the loop in session/);
});

// --------------------------------------------------------------------- 6. add_warp_marker's dict

test("add_warp_marker gets a Max Dict of numbers in classic [js], freed after the call", () => {
  const { live, audio, d, run } = setup({ live: { jsEngine: "classic" } });
  run(1, { file: { guessBpm: 101 } });
  const calls = live.calls.filter(([fn]) => fn === "add_warp_marker");
  assert.equal(calls.length, 1, live.errors.join("; "));
  const [arg] = calls[0][1];
  assert.ok(arg instanceof FakeDict);
  assert.deepEqual(arg.getkeys().sort(), ["beat_time", "sample_time"]);
  assert.equal(typeof arg.get("beat_time"), "number");
  assert.equal(typeof arg.get("sample_time"), "number");
  assert.ok(arg.freed);
  assert.equal(live.clipIn(audio, 0).warpMarkers.pop().beat_time, LOOP_BEATS);
  assert.deepEqual(live.errors, []);
  assert.doesNotMatch(d.status(), /off the bar grid/);
});

test("add_warp_marker without a Dict (v8 [js] takes a plain object) still puts the loop end on the bar line", () => {
  const { live, audio, d, run } = setup({ live: { jsEngine: "v8" }, device: { dict: false } });
  run(1, { file: { guessBpm: 101 } });
  const calls = live.calls.filter(([fn]) => fn === "add_warp_marker");
  assert.equal(calls.length, 1);
  assert.ok(!(calls[0][1][0] instanceof FakeDict));
  assert.equal(live.clipIn(audio, 0).warpMarkers.pop().beat_time, LOOP_BEATS);
  assert.doesNotMatch(d.status(), /off the bar grid/);
});

// -------------------------------------------------------------------- 7. Live's warp analysis

test("the warp is checked once Live has analysed the clip, however long that takes (bounded)", () => {
  // v8 [js] and a file whose length is exactly the loop (240000 frames at 31 kHz): only the wait matters.
  const slow = setup({ live: { analysisMs: 1800, jsEngine: "v8" } }); // longer than any fixed wait worth having
  slow.run(1, { file: { guessBpm: BPM / 2, sampleRate: 31000, frames: 240000 } });
  const clip = slow.live.clipIn(slow.audio, 0);
  assert.equal(clip.warpMarkers.pop().beat_time, LOOP_BEATS, "the wrong warp was not fixed");
  assert.equal(clip.props.loop_end, LOOP_BEATS);
  // A Live that never reports warp markers: the wait ends, the clip still loops over the whole loop.
  const never = setup({ live: { version: [10, 1, 0], createAudioClip: true } });
  never.run(1);
  const c = never.live.clipIn(never.audio, 0);
  assert.deepEqual([c.props.looping, c.props.loop_end, c.props.end_marker], [1, LOOP_BEATS, LOOP_BEATS]);
  assert.ok(never.d.posts.some((p) => /no warp markers/.test(p)));
  assert.ok(never.d.now() <= 6000, `waited ${never.d.now()} ms`);
});

// ------------------------------------------------------------------- 9. LiveAPI objects reused

test("LiveAPI objects are reused: a 4-take insert makes few, not one per lookup", () => {
  const session = setup();
  session.live.putClip(session.audio, 1);
  session.live.putClip(session.audio, 3);
  let before = session.live.constructed;
  session.run(4);
  const sessionCount = session.live.constructed - before;
  const arrangement = setup();
  arrangement.live.putArrangementClip(arrangement.audio, 0, 4);
  arrangement.live.putArrangementClip(arrangement.audio, 8, 12);
  before = arrangement.live.constructed;
  arrangement.run(4, { destination: 1 });
  const arrangementCount = arrangement.live.constructed - before;
  assert.match(session.d.status(), /^Done: 4 takes in session/);
  assert.match(arrangement.d.status(), /^Done: 4 takes in arrangement/);
  // Measured here: 15 and 10 (one per object); 21 for the session insert with one per lookup.
  assert.ok(sessionCount <= 16, `session: ${sessionCount} LiveAPI objects`);
  assert.ok(arrangementCount <= 12, `arrangement: ${arrangementCount} LiveAPI objects`);
});
