"use strict";
// Daemon -> device: reply arguments are read by name from the export's reply table (decodeReply), never
// by position, so a reply whose arguments the table reorders is still understood.

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const { loadDevice, JS_PATH, PROTOCOL_PATH } = require("../test_support/device");
const { FakeLive } = require("../test_support/fake_live");

const A = (name) => `/musicgen/${name}`;
const exported = JSON.parse(fs.readFileSync(PROTOCOL_PATH, "utf8"));
const plain = (x) => JSON.parse(JSON.stringify(x)); // objects from the script's context, compared as data

test("every reply of the export decodes to its argument names, typed by the table", () => {
  const d = loadDevice(null);
  const sample = { s: "x", i: 3, f: 0.5 };
  for (const reply of exported.replies) {
    const fixed = reply.variadic ? reply.args.slice(0, -1) : reply.args;
    const decoded = plain(d.ctx.decodeReply(reply.verb, fixed.map((a) => sample[a.type])));
    for (const arg of fixed) assert.equal(decoded[arg.name], sample[arg.type], `${reply.verb} ${arg.name}`);
  }
});

test("decodeReply: fixed arguments, a repeating tail, key value pairs, and absent arguments", () => {
  const d = loadDevice(null);
  const decode = (verb, ...args) => plain(d.ctx.decodeReply(verb, args));
  assert.deepEqual(decode("ack", "r1", 2, "j-1"), { id: "r1", queue_position: 2, job: "j-1" });
  assert.deepEqual(decode("ack", 7, "2", "j-1"), { id: "7", queue_position: 2, job: "j-1" }); // typed
  assert.deepEqual(decode("done", "r1", "/o/a.wav", "/o/b.wav"), { id: "r1", path: ["/o/a.wav", "/o/b.wav"] });
  assert.deepEqual(decode("done", "r1"), { id: "r1", path: [] });
  assert.deepEqual(decode("status", "s", "state", "idle", "queued", 0), {
    id: "s",
    pairs: { state: "idle", queued: 0 },
  });
  assert.deepEqual(decode("error", "r1", "internal"), { id: "r1", code: "internal" });
  assert.throws(() => d.ctx.decodeReply("nope", []), /no reply 'nope'/);
});

/** The script with its PROTOCOL block replaced by `protocol`. */
function withProtocol(protocol) {
  const source = fs.readFileSync(JS_PATH, "utf8");
  const begin = source.indexOf("PROTOCOL = {");
  const end = source.indexOf("// END GENERATED PROTOCOL");
  return source.slice(0, begin) + "PROTOCOL = " + JSON.stringify(protocol) + ";\n" + source.slice(end);
}

test("the handlers follow the table: reordered reply arguments are still read right", () => {
  const reordered = plain(exported);
  for (const verb of ["welcome", "ack", "error"]) {
    const reply = reordered.replies.find((r) => r.verb === verb);
    reply.args = [reply.args[0], ...reply.args.slice(1).reverse()]; // id first, the rest backwards
  }
  const live = new FakeLive({ tempo: 120 });
  live.select(live.addTrack({ name: "Audio 1" }), 0);
  const d = loadDevice(live, { source: withProtocol(reordered) });
  d.send("init");
  d.send(A("welcome"), d.last(A("hello")).id, "debug", "0.1.0", 1); // model, version, protocol
  assert.match(d.status(), /Connected: daemon 0\.1\.0, model debug$/);
  d.send("text", "dub");
  d.send("generate");
  const id = d.last(A("generate")).id;
  d.send(A("ack"), id, "j-0002", 2); // job, queue_position
  assert.match(d.status(), /Queued: 2 jobs ahead/);
  d.send(A("error"), id, "bpm: must be from 20 to 400", "out_of_range"); // message, code
  assert.match(d.status(), /Daemon error \(out_of_range\): bpm: must be from 20 to 400/);
});
