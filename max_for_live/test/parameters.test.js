"use strict";
// The patch's parameters as Live stores them (Int in 0..255, Float in its range, Enum an item index):
// on load the patch bangs each saved value through its [prepend word] into the script, so a value Live
// clamped is what the script works with. The port boxes must hold 9000, 9001 and 65535.

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const { loadDevice, OUT, PATCH_PATH } = require("../test_support/device");
const { FakeLive, clampParameter } = require("../test_support/fake_live");

const patch = JSON.parse(fs.readFileSync(PATCH_PATH, "utf8"));
const boxes = patch.patcher.boxes.map((b) => b.box);
const lines = patch.patcher.lines.map((l) => l.patchline);
const byId = new Map(boxes.map((b) => [b.id, b]));

/** Each parameter control wired control -> [prepend word] -> [js]: {name, word, valueof}. */
function parameterControls() {
  const js = boxes.find((b) => b.maxclass === "newobj" && b.text.split(" ")[0] === "js");
  const out = [];
  for (const box of boxes) {
    if (box.parameter_enable !== 1) continue;
    const valueof = box.saved_attribute_attributes.valueof;
    for (const line of lines.filter((l) => l.source[0] === box.id && l.source[1] === 0)) {
      const next = byId.get(line.destination[0]);
      const [verb, word] = String(next.text || "").split(" ");
      const toJs = lines.some((l) => l.source[0] === next.id && l.destination[0] === js.id);
      if (verb === "prepend" && toJs) out.push({ name: valueof.parameter_longname, word, valueof });
    }
  }
  return out;
}

test("Live's parameter storage as the fake models it: Int stops at 255, Float keeps its range", () => {
  assert.equal(clampParameter({ parameter_type: 1, parameter_mmin: 1, parameter_mmax: 65535 }, 9000), 255);
  assert.equal(clampParameter({ parameter_type: 1, parameter_mmin: -8, parameter_mmax: 8 }, -1), 0);
  assert.equal(clampParameter({ parameter_type: 0, parameter_mmin: 1, parameter_mmax: 65535 }, 9000), 9000);
  assert.equal(clampParameter({ parameter_type: 2, parameter_enum: ["a", "b"] }, 5), 1);
});

test("the saved port parameters reach the script as 9000 and 9001, and a port box holds 65535", () => {
  const controls = parameterControls();
  const names = controls.map((c) => c.name);
  for (const name of ["Daemon Port", "Reply Port", "Bars", "Takes", "Mode", "Insert", "Grid", "Nudge"]) {
    assert.ok(names.includes(name), `${name} is not wired to the script`);
  }
  const live = new FakeLive();
  live.addTrack({ name: "Audio 1" });
  const d = loadDevice(live);
  // Load: each control outputs the value Live kept for it (its initial value, stored by its type).
  for (const c of controls) d.send(c.word, clampParameter(c.valueof, c.valueof.parameter_initial[0]));
  d.send("init");
  assert.deepEqual(d.on(OUT.osc).find((m) => m[0] === "port"), ["port", 9000]);
  assert.deepEqual(d.on(OUT.receive)[0], ["port", 9001]);
  assert.equal(d.last("/musicgen/hello").keys.reply_port, 9001);
  assert.equal(d.ctx.settings.gridShift, 0);
  // The user types the highest port into each box.
  const port = (name) => controls.find((c) => c.name === name);
  d.send("daemon_port", clampParameter(port("Daemon Port").valueof, 65535));
  d.send("reply_port", clampParameter(port("Reply Port").valueof, 65535));
  d.advance(1000);
  assert.deepEqual(d.on(OUT.osc).filter((m) => m[0] === "port").pop(), ["port", 65535]);
  assert.deepEqual(d.on(OUT.receive).pop(), ["port", 65535]);
  // A negative Nudge survives too (an Int parameter would keep 0).
  d.send("grid_shift", clampParameter(controls.find((c) => c.name === "Nudge").valueof, -1.5));
  assert.equal(d.ctx.settings.gridShift, -1.5);
});
