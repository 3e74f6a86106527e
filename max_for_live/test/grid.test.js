"use strict";
// The grid fit: the Grid and Nudge controls reach generate as grid and grid_shift, and each take's
// /musicgen/grid reply (sent just before done) shows on the status line once the clips are in.

const test = require("node:test");
const assert = require("node:assert/strict");
const { loadDevice } = require("../test_support/device");
const { FakeLive } = require("../test_support/fake_live");

const A = (name) => `/musicgen/${name}`;
const BPM = 121;
const LOOP_SECONDS = (16 * 60) / BPM; // 4 bars of 4/4

function setup({ version } = {}) {
  const live = new FakeLive({ version, tempo: BPM });
  const audio = live.addTrack({ name: "Audio 1", scenes: 8 });
  live.select(audio, 0);
  const d = loadDevice(live);
  d.send("init");
  d.send(A("welcome"), d.last(A("hello")).id, 1, "0.1.0", "debug");
  /** Generate n takes; `fits` are the grid replies' arguments after id, one list per take. */
  const run = (n, fits) => {
    d.send("text", "broken beat drums");
    d.send("variations", n);
    d.send("generate");
    const id = d.last(A("generate")).id;
    d.send(A("ack"), id, 0, "j-0001");
    const paths = [];
    for (let i = 1; i <= n; i++) {
      const p = `/out/broken-beat-drums_121bpm_4bars_v${i}.wav`;
      live.addFile(p, { seconds: LOOP_SECONDS, guessBpm: BPM });
      paths.push(p);
    }
    for (const fit of fits) d.send(A("grid"), id, ...fit);
    d.send(A("done"), id, ...paths);
    d.runTasks();
    return { id, paths };
  };
  return { live, audio, d, run };
}

// take, status, played_bpm, ratio, downbeat, confidence, message (as the daemon sends them)
const onGrid = (take, played = 121.7) => [
  take, "on_grid", played, played / BPM, 1.03, 0.82, `on grid (played ${played.toFixed(1)} bpm)`,
];
const beatless = (take) => [take, "beatless", 0, 1, -1, 0.08, "beatless: kept the generated timing"];
const tooFar = (take) => [take, "too_far", 112, 112 / BPM, 0.4, 0.7, "too far off: played 112.0 bpm, 7.4 % from 121"];

test("one take: 'Done: on grid (played 121.7 bpm)', and the Max window has what was measured", () => {
  const { d, live, audio, run } = setup();
  run(1, [onGrid(1)]);
  assert.ok(live.clipIn(audio, 0));
  assert.equal(d.status(), "Done: on grid (played 121.7 bpm); the loop in session on 'Audio 1' (scene 1)");
  assert.ok(
    d.posts.some((p) => p.includes("take 1: on grid (played 121.7 bpm), stretched x1.006, bar line at 1.03 s, confidence 0.82")),
    d.posts.join("\n"),
  );
});

test("several takes: take 1's fit and how many of the others are on the grid", () => {
  const { d, run } = setup();
  run(3, [onGrid(1), onGrid(2, 118.2), beatless(3)]);
  assert.equal(
    d.status(),
    "Done: take 1 on grid (played 121.7 bpm), 1 of 2 others on grid; 3 takes in session on 'Audio 1' (scene 1, scene 2, scene 3)",
  );
  const two = setup();
  two.run(2, [onGrid(1), onGrid(2)]);
  assert.match(two.d.status(), /^Done: take 1 on grid \(played 121\.7 bpm\), 1 of 1 other on grid; 2 takes in session/);
  const none = setup(); // take 2's reply never came: it does not count as on grid
  none.run(2, [tooFar(1)]);
  assert.match(none.d.status(), /^Done: take 1 too far off: played 112\.0 bpm, 7\.4 % from 121, 0 of 1 other on grid; /);
});

test("a beatless take: the generated timing was kept, and the status line says so", () => {
  const { d, run } = setup();
  run(1, [beatless(1)]);
  assert.equal(d.status(), "Done: beatless: kept the generated timing; the loop in session on 'Audio 1' (scene 1)");
  const short = setup(); // a reply without its message: the device words it from the status
  short.run(1, [[1, "beatless"]]);
  assert.equal(short.d.status(), "Done: beatless (kept the generated timing); the loop in session on 'Audio 1' (scene 1)");
});

test("strict and too far off: the tempo the model played is on the status line", () => {
  const { d, run } = setup();
  run(1, [tooFar(1)]);
  assert.match(d.status(), /^Done: too far off: played 112\.0 bpm, 7\.4 % from 121; the loop in session/);
  const short = setup();
  short.run(1, [[1, "too_far", 112, 0.9256, 0.4, 0.7, ""]]);
  assert.match(short.d.status(), /^Done: too far off \(played 112\.0 bpm\); the loop/);
});

test("unknown statuses, odd take numbers and other clients' grid replies do not crash", () => {
  const { d, run } = setup();
  run(1, [[1, "wobbly", 0, 1, -1, 0.5, ""]]);
  assert.match(d.status(), /^Done: grid: wobbly; the loop in session on 'Audio 1'/);
  const odd = setup();
  odd.run(1, [[0, "on_grid", 120, 1, 0, 1, "x"], ["two", "on_grid", 120, 1, 0, 1, "y"], [1, "sideways", 120, 1, 0, 1, "its own words"]]);
  assert.match(odd.d.status(), /^Done: its own words; the loop/);
  const other = setup();
  other.d.send(A("grid"), "someone-else-1", 1, "on_grid", 120, 1, 0, 1, "on grid");
  other.d.send(A("grid"), "someone-else-1");
  other.d.send(A("grid"));
  assert.match(other.d.status(), /^Connected/);
  other.run(1, []); // no grid reply (an older daemon): the Done line as before
  assert.equal(other.d.status(), "Done: the loop in session on 'Audio 1' (scene 1)");
  assert.ok(!other.d.posts.some((p) => /Internal error/.test(p)));
});

test("the grid summary also leads the Live 11 message", () => {
  const { d, run } = setup({ version: [11, 3, 13] });
  run(1, [onGrid(1)]);
  assert.match(d.status(), /^Done: on grid \(played 121\.7 bpm\); the loop saved but not inserted: Live 11\.3\.13 cannot put audio/);
});

test("the Grid menu and the Nudge control are sent as grid and grid_shift with each generate", () => {
  const { d } = setup();
  d.send("generate");
  let keys = d.last(A("generate")).keys;
  assert.equal(keys.grid, "on");
  assert.equal(keys.grid_shift, 0);
  d.send("grid", 1);
  d.send("grid_shift", -1.5);
  d.send("generate");
  keys = d.last(A("generate")).keys;
  assert.deepEqual([keys.grid, keys.grid_shift], ["strict", -1.5]);
  assert.match(d.status(), /Requested 4 bars at 121 BPM 4\/4, grid strict, nudge -1\.5 beats\.\.\./);
  d.send("grid", 2);
  d.send("grid_shift", 1);
  d.send("generate");
  keys = d.last(A("generate")).keys;
  assert.deepEqual([keys.grid, keys.grid_shift], ["off", 1]);
  assert.match(d.status(), /grid off, nudge \+1 beat\.\.\./);
  d.send("grid", 7); // not a menu item: ignored
  d.send("grid", -1);
  d.send("grid_shift", "abc"); // not a number: ignored
  d.send("generate");
  keys = d.last(A("generate")).keys;
  assert.deepEqual([keys.grid, keys.grid_shift], ["off", 1]);
  d.send("grid", 0);
  d.send("grid_shift", 100); // kept inside the protocol's range
  d.send("generate");
  keys = d.last(A("generate")).keys;
  assert.deepEqual([keys.grid, keys.grid_shift], ["on", 64]);
  d.send("grid_shift", 0.49999998733401299); // a float32 from the numbox
  d.send("generate");
  assert.equal(d.last(A("generate")).keys.grid_shift, 0.5);
});
