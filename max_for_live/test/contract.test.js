"use strict";
// The script's contract with Max and with the daemon's protocol export: ES5 syntax, no LiveAPI in
// global code, addresses only from the generated PROTOCOL block, UI choices matching the patch.

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const { loadDevice, JS_PATH, PATCH_PATH, PROTOCOL_PATH } = require("../test_support/device");
const { FakeLive } = require("../test_support/fake_live");

const source = fs.readFileSync(JS_PATH, "utf8");
const BEGIN = "// BEGIN GENERATED PROTOCOL";
const END = "// END GENERATED PROTOCOL";
const handWritten = source.slice(0, source.indexOf(BEGIN)) + source.slice(source.indexOf(END) + END.length);
const patch = JSON.parse(fs.readFileSync(PATCH_PATH, "utf8"));
const exported = JSON.parse(fs.readFileSync(PROTOCOL_PATH, "utf8"));

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "").replace(/([;,{}()])\s*\/\/.*$/gm, "$1");
}

function codeLines(text) {
  // Drop comments and string literals, keep code: enough to spot ES2015+ syntax.
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .split("\n")
    .map((l) => l.replace(/"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'/g, '""').replace(/\/\/.*$/, ""));
}

test("the script is ES5 that classic [js] (SpiderMonkey 1.8.5) can run", () => {
  codeLines(handWritten).forEach((line, i) => {
    assert.doesNotMatch(line, /=>/, `arrow function on line ${i + 1}`);
    assert.doesNotMatch(line, /\b(let|const|class)\s/, `let/const/class on line ${i + 1}`);
    assert.doesNotMatch(line, /`/, `template string on line ${i + 1}`);
    assert.doesNotMatch(line, /\.\.\.[A-Za-z_]/, `spread on line ${i + 1}`);
  });
});

test("loading the script makes no LiveAPI object (only allowed after live.thisdevice)", () => {
  const live = new FakeLive();
  loadDevice(live);
  assert.equal(live.constructed, 0);
  assert.doesNotThrow(() => loadDevice(null)); // a LiveAPI that throws is never touched at load
});

test("the embedded PROTOCOL block is the committed protocol export", () => {
  const d = loadDevice(null);
  assert.deepEqual(JSON.parse(JSON.stringify(d.ctx.PROTOCOL)), exported);
  assert.equal(d.ctx.settings.daemonPort, exported.default_port);
  assert.equal(d.ctx.settings.replyPort, exported.default_reply_port);
});

test("no OSC address is typed by hand: they all come from the export", () => {
  assert.doesNotMatch(stripComments(handWritten), /\/musicgen/);
  const requestVerbs = new Set(exported.requests.map((r) => r.verb));
  const used = [...handWritten.matchAll(/composeRequest\("(\w+)"/g)].map((m) => m[1]);
  assert.ok(used.length >= 4);
  for (const verb of used) assert.ok(requestVerbs.has(verb), `request ${verb} is not in the export`);
  const replyVerbs = new Set(exported.replies.map((r) => r.verb));
  const d = loadDevice(null);
  for (const verb of Object.keys(d.ctx.REPLY_HANDLERS)) assert.ok(replyVerbs.has(verb), `reply ${verb}`);
  for (const verb of ["welcome", "ack", "progress", "chunk", "grid", "done", "error", "pong"]) {
    assert.ok(verb in d.ctx.REPLY_HANDLERS, `no handler for ${verb}`);
  }
});

test("every key the script sends is a key of its request in the export", () => {
  const keysOf = (verb) => new Set(exported.requests.find((r) => r.verb === verb).keys.map((k) => k.name));
  const d = loadDevice(null);
  assert.throws(() => d.ctx.composeRequest("generate", "x", ["tempo", 120]), /no key 'tempo'/);
  for (const [, verb, pairs] of handWritten.matchAll(/composeRequest\("(\w+)", [^,]+, \[(.*?)\]\)/g)) {
    for (const [, key] of pairs.matchAll(/"(\w+)",/g)) assert.ok(keysOf(verb).has(key), `${verb} ${key}`);
  }
  const req = {
    prompt: "p", bpm: 120, bars: 4, timeSignature: "4/4", variations: 2, mode: "melody", grid: "strict", gridShift: -1,
    clip: { path: "/a.wav", name: "a" }, region: { whole: false, start: 1, end: 2, bpm: 100 },
  };
  const msg = d.ctx.composeGenerate("r1", req);
  const pushed = Array.from(msg).slice(2).filter((_, i) => i % 2 === 0);
  for (const key of pushed) assert.ok(keysOf("generate").has(key), `generate ${key}`);
  assert.deepEqual(pushed.slice(-4), ["region_start", "region_end", "melody_bpm", "reply_port"]);
  for (const key of pushed) assert.ok(keysOf("generate").has(key), `generate ${key}`);
});

test("the patch's menus and tabs list what the script expects, and the [js] box fits the script", () => {
  const boxes = patch.patcher.boxes.map((b) => b.box);
  const enumOf = (name) =>
    boxes.find((b) => b.varname === name).saved_attribute_attributes.valueof.parameter_enum;
  const d = loadDevice(null);
  assert.deepEqual(enumOf("Bars").map(Number), [...d.ctx.BARS_CHOICES]);
  assert.deepEqual(enumOf("Mode").map((s) => s.toLowerCase()), [...d.ctx.MODES]);
  assert.deepEqual(enumOf("Insert").map((s) => s.toLowerCase()), [...d.ctx.DESTINATIONS]);
  const generateKey = (name) => exported.requests.find((r) => r.verb === "generate").keys.find((k) => k.name === name);
  assert.deepEqual(enumOf("Grid").map((s) => s.toLowerCase()), [...d.ctx.GRID_MODES]);
  assert.deepEqual([...d.ctx.GRID_MODES].sort(), [...generateKey("grid").choices].sort());
  const js = boxes.find((b) => b.maxclass === "newobj" && b.text.split(" ")[0] === "js");
  assert.equal(js.numinlets, d.ctx.inlets);
  assert.equal(js.numoutlets, d.ctx.outlets);
  const initial = (name) => boxes.find((b) => b.varname === name).saved_attribute_attributes.valueof.parameter_initial[0];
  assert.equal(initial("Daemon Port"), exported.default_port);
  assert.equal(initial("Reply Port"), exported.default_reply_port);
  assert.equal(initial("Bars"), d.ctx.settings.barsIndex);
  assert.equal(d.ctx.GRID_MODES[initial("Grid")], generateKey("grid").default);
  const nudge = boxes.find((b) => b.varname === "Nudge").saved_attribute_attributes.valueof;
  assert.equal(nudge.parameter_initial[0], generateKey("grid_shift").default);
  assert.equal(nudge.parameter_type, 0); // Float: Live's Int parameters cannot go below 0
  assert.ok(nudge.parameter_mmin >= generateKey("grid_shift").min && nudge.parameter_mmax <= generateKey("grid_shift").max);
  assert.equal((nudge.parameter_mmax - nudge.parameter_mmin) / (nudge.parameter_steps - 1), 0.5); // half-beat steps
  const variations = exported.requests.find((r) => r.verb === "generate").keys.find((k) => k.name === "variations");
  assert.equal(boxes.find((b) => b.varname === "Takes").saved_attribute_attributes.valueof.parameter_mmax, variations.max);
  // Every message the patch sends to the [js] is a function of the script.
  const jsId = js.id;
  const senders = patch.patcher.lines.map((l) => l.patchline).filter((l) => l.destination[0] === jsId);
  for (const line of senders) {
    const box = boxes.find((b) => b.id === line.source[0]);
    const word = box.maxclass === "message" ? box.text : box.text.split(" ")[1];
    if (box.maxclass === "textedit") assert.equal(typeof d.ctx.text, "function");
    else if (box.text.startsWith("udpreceive")) assert.equal(typeof d.ctx.anything, "function");
    else assert.equal(typeof d.ctx[word], "function", `the patch sends '${word}'`);
  }
});

test("replies are read by name: every reply.<name> the script reads is an argument of the export", () => {
  const names = new Set(exported.replies.flatMap((r) => r.args.map((a) => a.name)));
  names.add("pairs"); // decodeReply's object for a repeating key value tail
  const read = [...stripComments(handWritten).matchAll(/\breply\.(\w+)/g)].map((m) => m[1]);
  assert.ok(read.length >= 10);
  for (const name of read) assert.ok(names.has(name), `reply.${name} is not a reply argument`);
  assert.doesNotMatch(stripComments(handWritten), /\bargs\[\d\]/, "a reply argument read by position");
});

test("every top-level function that is not a message of the patch is local (Max cannot call it)", () => {
  const d = loadDevice(null);
  const messages = new Set([
    "loadbang", "init", "text", "bars", "mode", "variations", "destination", "grid", "grid_shift",
    "daemon_port", "reply_port", "ping", "generate", "cancel", "anything",
  ]);
  const declared = [...handWritten.matchAll(/^function (\w+)\(/gm)].map((m) => m[1]);
  assert.ok(declared.length > 40);
  for (const name of declared) {
    if (messages.has(name)) assert.notEqual(d.ctx[name].local, 1, `${name} is a message`);
    else assert.equal(d.ctx[name].local, 1, `${name} is not marked local`);
  }
});
