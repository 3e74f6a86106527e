"use strict";
// Daemon -> Live: ack/progress/error on the status line and progress bar, and what /musicgen/done does
// to the Live set: clips in Session slots or at the Arrangement insert marker (Live 12, when create_audio_clip takes the call), named,
// warped at the song tempo and looping; the Live 11 fallback; every failure shown with the file path.

const test = require("node:test");
const assert = require("node:assert/strict");
const { loadDevice } = require("../test_support/device");
const { FakeLive } = require("../test_support/fake_live");

const A = (name) => `/musicgen/${name}`;
const BPM = 124;
const LOOP_BEATS = 16; // 4 bars of 4/4
const LOOP_SECONDS = (LOOP_BEATS * 60) / BPM;

function setup({ version, guessBpm = BPM, scenes = 8 } = {}) {
  const live = new FakeLive({ version, tempo: BPM });
  const audio = live.addTrack({ name: "Audio 1", scenes });
  const keys = live.addTrack({ name: "Keys", kind: "midi", scenes });
  const frozen = live.addTrack({ name: "Stems", frozen: true, scenes });
  const group = live.addTrack({ name: "Group", kind: "group", scenes });
  live.select(audio, 0);
  const d = loadDevice(live);
  d.send("init");
  d.send(A("welcome"), d.last(A("hello")).id, 1, "0.1.0", "debug");
  const files = (n) => {
    const paths = [];
    for (let i = 1; i <= n; i++) {
      const p = `/Users/me/MusicGen out/dub-techno_124bpm_4bars_v${i}.wav`;
      live.addFile(p, { seconds: LOOP_SECONDS, guessBpm });
      paths.push(p);
    }
    return paths;
  };
  /** Press Generate, then answer like the daemon: ack, progress, done with n files. */
  const run = (n = 1, { prompt = "dub techno chords" } = {}) => {
    d.send("text", prompt);
    d.send("variations", n);
    d.send("generate");
    const id = d.last(A("generate")).id;
    d.send(A("ack"), id, 0, "j-0001");
    d.send(A("progress"), id, 0.5);
    const paths = files(n);
    d.send(A("done"), id, ...paths);
    d.runTasks();
    return { id, paths };
  };
  return { live, audio, keys, frozen, group, d, run, files };
}

test("ack, progress and chunk: status line and progress bar", () => {
  const { d } = setup();
  d.send("generate");
  const id = d.last(A("generate")).id;
  d.send(A("ack"), id, 2, "j-0002");
  assert.match(d.status(), /Queued: 2 jobs ahead/);
  d.send(A("ack"), id, 0, "j-0002");
  assert.match(d.status(), /Generating/);
  d.send(A("progress"), id, 0.42);
  assert.equal(d.progress(), 0.42);
  assert.match(d.status(), /Generating\.\.\. 42%/);
  d.send(A("chunk"), id, 0, "/tmp/chunk0.wav", 0.0);
  assert.ok(d.posts.some((p) => /preview \/tmp\/chunk0\.wav/.test(p)));
  d.runTasks(); // the ack watchdog stays quiet
  assert.doesNotMatch(d.status(), /No answer/);
});

test("Session: the clip lands in the highlighted empty slot, named, warped and looping", () => {
  const { live, audio, d, run } = setup();
  live.select(audio, 2);
  const { paths } = run(1);
  const clip = live.clipIn(audio, 2);
  assert.ok(clip, live.errors.join("; "));
  assert.equal(clip.props.file_path, paths[0]);
  assert.equal(clip.props.name, "dub techno chords");
  assert.equal(clip.props.warping, 1);
  assert.equal(clip.props.looping, 1);
  assert.equal(clip.props.loop_start, 0);
  assert.equal(clip.props.loop_end, LOOP_BEATS);
  assert.equal(clip.props.end_marker, LOOP_BEATS);
  assert.equal(clip.warpMarkers.length, 2); // Live's warp was right: no marker added
  assert.equal(d.progress(), 1);
  assert.match(d.status(), /Done: the loop in session on 'Audio 1' \(scene 3\)/);
  assert.equal(d.pathShown(), paths[0]);
  assert.deepEqual(live.errors, []);
});

test("Session: highlighted slot taken => the next empty slots below; takes fill consecutive empty slots", () => {
  const { live, audio, d, run } = setup();
  live.putClip(audio, 1);
  live.putClip(audio, 2);
  live.putClip(audio, 4);
  live.select(audio, 1);
  const { paths } = run(3);
  assert.equal(live.clipIn(audio, 3).props.file_path, paths[0]);
  assert.equal(live.clipIn(audio, 5).props.file_path, paths[1]);
  assert.equal(live.clipIn(audio, 6).props.file_path, paths[2]);
  assert.equal(live.clipIn(audio, 0), null); // never above the highlighted scene
  assert.deepEqual([3, 5, 6].map((s) => live.clipIn(audio, s).props.name), [
    "dub techno chords #1",
    "dub techno chords #2",
    "dub techno chords #3",
  ]);
  assert.match(d.status(), /Done: 3 takes in session on 'Audio 1' \(scene 4, scene 6, scene 7\)/);
});

test("Session: highlighted slot on a MIDI track => the selected audio track, below the same scene", () => {
  const { live, audio, keys, run } = setup();
  live.view.refs.highlighted_clip_slot = live.slot(keys, 3).id;
  live.view.refs.selected_track = audio.id;
  run(1);
  assert.ok(live.clipIn(audio, 3));
  assert.equal(live.clipIn(keys, 3), null);
});

test("Session: a MIDI, group or frozen track gets nothing; the message says why and shows the file", () => {
  for (const [pick, why] of [
    ["keys", /'Keys' is not an audio track/],
    ["group", /'Group' is not an audio track/],
    ["frozen", /'Stems' is frozen: unfreeze it/],
  ]) {
    const s = setup();
    s.live.select(s[pick], 0);
    const { paths } = s.run(1);
    assert.match(s.d.status(), why);
    assert.match(s.d.status(), /saved but not inserted/);
    assert.equal(s.d.pathShown(), paths[0]);
    assert.ok(s.d.posts.some((p) => p.includes(paths[0])));
  }
});

test("Session: not enough empty slots => as many as fit, the rest shown with a clear message", () => {
  const { live, audio, d, run } = setup({ scenes: 3 });
  live.putClip(audio, 0);
  live.putClip(audio, 2);
  live.select(audio, 0);
  const { paths } = run(2);
  assert.equal(live.clipIn(audio, 1).props.file_path, paths[0]);
  assert.match(d.status(), /Inserted 1 of 2: no empty clip slot left on 'Audio 1' from scene 1 down/);
  assert.equal(d.pathShown(), paths[1]);
});

test("Session: no empty slot at all => nothing inserted, path shown", () => {
  const { live, audio, d, run } = setup({ scenes: 2 });
  live.putClip(audio, 0);
  live.putClip(audio, 1);
  const { paths } = run(1);
  assert.match(d.status(), /the loop saved but not inserted: no empty clip slot left/);
  assert.equal(d.pathShown(), paths[0]);
});

test("Arrangement: at the insert marker on the selected track, takes one after another", () => {
  const { live, audio, d, run } = setup();
  live.song.props.start_time = 32;
  live.song.props.current_song_time = 7; // the playhead is not the insert marker
  d.send("destination", 1);
  const { paths } = run(2);
  const clips = live.arrangementClips(audio);
  assert.deepEqual(clips.map((c) => c.props.start_time), [32, 48]);
  assert.deepEqual(clips.map((c) => c.props.file_path), paths);
  assert.deepEqual(clips.map((c) => c.props.name), ["dub techno chords #1", "dub techno chords #2"]);
  assert.ok(clips.every((c) => c.props.warping === 1 && c.props.looping === 1 && c.props.loop_end === LOOP_BEATS));
  assert.match(d.status(), /Done: 2 takes in arrangement on 'Audio 1' \(beat 32, beat 48\)/);
  assert.equal(live.clipIn(audio, 0), null);
});

test("Arrangement: a MIDI track selected => message and path, no clip", () => {
  const { live, keys, d, run } = setup();
  live.select(keys);
  d.send("destination", 1);
  const { paths } = run(1);
  assert.match(d.status(), /'Keys' is not an audio track/);
  assert.equal(d.pathShown(), paths[0]);
});

test("Live 11 (no create_audio_clip): one try, then the path(s) and a clear message", () => {
  const { live, d, run } = setup({ version: [11, 3, 13] });
  const { paths } = run(2);
  assert.deepEqual(live.errors, ["create_audio_clip: Invalid syntax: no such function"]); // the other take not tried
  assert.match(d.status(), /saved but not inserted: Live 11\.3\.13 cannot put audio on the timeline from Max for Live \(Live 12 can\)/);
  assert.equal(d.pathShown(), paths.join("  |  "));
  assert.ok(paths.every((p) => d.posts.some((line) => line.includes(p))));
});

test("no version gate: a Live 12.0.1 that has create_audio_clip inserts; a 12.2 that refuses falls back", () => {
  const early = setup({ version: [12, 0, 1] }); // public sources disagree on the first version: just try
  early.run(1);
  assert.ok(early.live.clipIn(early.audio, 0), early.d.status());
  assert.match(early.d.status(), /^Done: the loop in session/);
  const refusing = setup({ version: [12, 2, 0] });
  refusing.live.createAudioClip = false;
  const { paths } = refusing.run(1);
  assert.equal(refusing.live.clipIn(refusing.audio, 0), null);
  assert.match(refusing.d.status(), /Live did not create the clip on 'Audio 1' \(Live answered 1;/);
  assert.equal(refusing.d.pathShown(), paths[0]);
});

test("a create call Live refuses (a file it cannot read) is reported with the path, not silent", () => {
  const { d } = setup({ version: [12, 1, 5] });
  d.send("generate");
  const id = d.last(A("generate")).id;
  d.send(A("done"), id, "/x/not-audio.wav"); // never added to the fake: Live cannot read it
  assert.match(d.status(), /Live did not create the clip on 'Audio 1' \(Live answered 1;/);
  assert.equal(d.pathShown(), "/x/not-audio.wav");
});

test("Live's auto-warp guessed half the tempo: a warp marker puts the file end on the bar line", () => {
  const { live, audio, d, run } = setup({ guessBpm: BPM / 2 });
  run(1);
  const clip = live.clipIn(audio, 0);
  const last = clip.warpMarkers[clip.warpMarkers.length - 1];
  assert.equal(last.beat_time, LOOP_BEATS);
  // The file's last frame: round(7.7419... s * 44100) frames end 0.5 frame before 16 beats at 124 BPM.
  assert.equal(last.sample_time, Math.min(LOOP_SECONDS, clip.props.sample_length / clip.props.sample_rate));
  assert.ok(Math.abs(last.sample_time - LOOP_SECONDS) < 1 / 44100);
  assert.match(d.status(), /^Done/);
});

test("when the warp cannot be fixed, the user is told what to set", () => {
  const { live, d, run } = setup({ guessBpm: 101 });
  live.addWarpMarkerWorks = false;
  run(1);
  assert.match(d.status(), /Live warped take 1 off the bar grid: set its Seg\. BPM to 124/);
});

test("daemon errors are shown on the status line; the job is dropped and the bar reset", () => {
  const { live, audio, d } = setup();
  d.send("generate");
  const id = d.last(A("generate")).id;
  d.send(A("progress"), id, 0.3);
  d.send(A("error"), id, "out_of_memory", "the GPU ran out of memory on this request");
  assert.equal(d.status(), "Daemon error (out_of_memory): the GPU ran out of memory on this request");
  assert.equal(d.progress(), 0);
  live.addFile("/late.wav", { seconds: 1, guessBpm: BPM });
  d.send(A("done"), id, "/late.wav"); // a late done for a failed job places nothing
  assert.equal(live.clipIn(audio, 0), null);
  d.send(A("error"), "", "bad_message", "the datagram is not a well-formed OSC message");
  assert.match(d.status(), /Daemon error \(bad_message\)/);
});

test("replies about other clients' jobs are ignored", () => {
  const { live, audio, d } = setup();
  live.addFile("/other.wav", { seconds: 1, guessBpm: BPM });
  const before = d.status();
  d.send(A("done"), "panel-7", "/other.wav");
  d.send(A("progress"), "panel-7", 0.9);
  d.send(A("error"), "panel-7", "cancelled", "x");
  assert.equal(live.clipIn(audio, 0), null);
  assert.equal(d.status(), before);
});

test("an unknown OSC address is logged, not fatal", () => {
  const { d } = setup();
  d.send("/musicgen/nonsense", 1, 2);
  assert.ok(d.posts.some((p) => /ignored message \/musicgen\/nonsense/.test(p)));
});

test("works with a LiveAPI that returns bare values, numeric ids and no paths", () => {
  const { live, audio, d, files } = setup();
  const Real = live.LiveAPI;
  // Swap in a plainer LiveAPI: get() unwraps one-element lists, id is a number, no path properties.
  Object.defineProperty(live, "LiveAPI", {
    get() {
      return function PlainLiveAPI(path) {
        const api = new Real(path);
        this.id = Number(api.id);
        this.get = (prop) => {
          const v = api.get(prop);
          return Array.isArray(v) && v.length === 1 ? v[0] : v;
        };
        this.set = api.set;
        this.call = api.call;
      };
    },
  });
  d.ctx.LiveAPI = live.LiveAPI;
  live.putClip(audio, 3);
  live.select(audio, 3);
  d.send("text", "plain");
  d.send("generate");
  const id = d.last(A("generate")).id;
  const [p] = files(1);
  d.send(A("done"), id, p);
  d.runTasks();
  assert.equal(live.clipIn(audio, 4).props.file_path, p);
  assert.equal(live.clipIn(audio, 4).props.name, "plain");
  assert.match(d.status(), /Done: the loop in session on 'Audio 1' \(scene 5\)/);
});
