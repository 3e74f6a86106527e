"use strict";
// UDP drops datagrams silently (a full receive buffer): the device sends an unanswered generate or cancel
// again, with the same request id, until a reply names it or about 5 s have passed; then it says so.
// A fake daemon on the "network" (loadDevice's onOsc) drops the first datagrams. Also: a dragged port
// box moves the sockets once it settles, not on every value it passes.

const test = require("node:test");
const assert = require("node:assert/strict");
const { loadDevice, OUT } = require("../test_support/device");
const { FakeLive } = require("../test_support/fake_live");

const A = (name) => `/musicgen/${name}`;
const BPM = 120;

/** A device whose datagrams pass through a daemon that drops the first `drop` of each verb. */
function setup({ drop = {}, answer = true } = {}) {
  const live = new FakeLive({ tempo: BPM });
  const audio = live.addTrack({ name: "Audio 1" });
  live.select(audio, 0);
  const seen = []; // [address, id, at] of every datagram that reached the daemon or was dropped
  const dropped = {};
  let d = null;
  const daemon = (msg) => {
    const [address, id] = msg;
    const verb = address.split("/").pop();
    seen.push([address, id, d.now()]);
    dropped[verb] = dropped[verb] || 0;
    if (dropped[verb] < (drop[verb] || 0)) {
      dropped[verb] += 1;
      return;
    }
    if (!answer) return;
    // Replies come back over the network a little later, never inside the send.
    if (verb === "hello") d.at(5, () => d.send(A("welcome"), id, 1, "0.1.0", "debug"));
    if (verb === "generate") d.at(5, () => d.send(A("ack"), id, 0, "j-1"));
    if (verb === "cancel") d.at(5, () => d.send(A("ok"), id, "cancel", 1));
  };
  d = loadDevice(live, { onOsc: daemon });
  d.send("init");
  d.advance(100);
  return { live, audio, d, seen };
}

const sentOf = (seen, verb) => seen.filter(([address]) => address === A(verb));

test("a dropped generate is sent again with the same id until the daemon acks it, then no more", () => {
  const { d, seen } = setup({ drop: { generate: 2 } });
  d.send("generate");
  d.advance(10000);
  const sent = sentOf(seen, "generate");
  assert.equal(sent.length, 3, "two dropped, the third acked");
  assert.equal(new Set(sent.map(([, id]) => id)).size, 1, "every resend carries the first id");
  const gaps = sent.slice(1).map(([, , at], i) => at - sent[i][2]);
  assert.ok(gaps.every((g) => g >= 500 && g <= 1000), `resent every ${gaps} ms`);
  assert.match(d.status(), /^Generating/);
  assert.doesNotMatch(d.status(), /No answer/);
});

test("any reply naming the request stops the resends: progress or an error count as an answer", () => {
  const { d, seen } = setup({ answer: false });
  d.send("generate");
  const id = d.last(A("generate")).id;
  d.advance(800); // one resend
  d.send(A("progress"), id, 0.1);
  d.advance(10000);
  assert.equal(sentOf(seen, "generate").length, 2);
  d.send("generate");
  const second = d.last(A("generate")).id;
  d.send(A("error"), second, "queue_full", "the queue is full");
  d.advance(10000);
  assert.equal(sentOf(seen, "generate").filter(([, rid]) => rid === second).length, 1);
  assert.match(d.status(), /queue_full/);
});

test("no answer at all: resent for about 5 s, then a clear message; a late done is still placed", () => {
  const { live, audio, d, seen } = setup({ drop: { generate: 1000 } });
  d.send("generate");
  const id = d.last(A("generate")).id;
  d.advance(4000);
  assert.match(d.status(), /^Requested/); // still trying
  d.advance(6000);
  const sent = sentOf(seen, "generate");
  assert.ok(sent.length >= 5 && sent.length <= 10, `${sent.length} sends`);
  assert.ok(sent[sent.length - 1][2] <= 5500, "still sending after 5.5 s");
  assert.match(d.status(), /No answer from the daemon on 127\.0\.0\.1:9000.*\(the request was sent \d+ times over 5 s\)/);
  assert.ok(d.posts.some((p) => /No answer/.test(p)));
  const before = sent.length;
  d.advance(60000);
  assert.equal(sentOf(seen, "generate").length, before, "it gave up for good");
  // The daemon did get it after all: its done still lands in Live.
  live.addFile("/out/late.wav", { seconds: 8, guessBpm: BPM });
  d.send(A("done"), id, "/out/late.wav");
  d.runTasks();
  assert.ok(live.clipIn(audio, 0));
});

test("a dropped cancel is sent again with its id; an unanswered one says so", () => {
  const { d, seen } = setup({ drop: { cancel: 1 } });
  d.send("generate");
  d.advance(100);
  d.send("cancel");
  d.advance(10000);
  const cancels = sentOf(seen, "cancel");
  assert.equal(cancels.length, 2);
  assert.equal(cancels[0][1], cancels[1][1]);
  const lost = setup({ drop: { cancel: 1000 } });
  lost.d.send("generate");
  lost.d.advance(100);
  lost.d.send("cancel");
  lost.d.advance(10000);
  assert.match(lost.d.status(), /^Cancel got no answer: No answer from the daemon/);
  assert.ok(sentOf(lost.seen, "cancel").length <= 10);
  // A cancelled generate that was never answered is not sent again.
  const unsent = setup({ drop: { generate: 1000 } });
  unsent.d.send("generate");
  unsent.d.advance(800);
  unsent.d.send("cancel");
  unsent.d.advance(10000);
  assert.equal(sentOf(unsent.seen, "generate").length, 2);
});

test("dragging a port box moves the socket and says hello once it settles, not per value", () => {
  const { d, seen } = setup();
  const hellos = sentOf(seen, "hello").length;
  const portsBefore = d.on(OUT.osc).filter((m) => m[0] === "port").length;
  for (let p = 9000; p <= 9040; p += 2) {
    d.send("daemon_port", p);
    d.advance(30); // a drag passes a value every 30 ms
  }
  d.advance(1000);
  const ports = d.on(OUT.osc).filter((m) => m[0] === "port").slice(portsBefore);
  assert.deepEqual(ports.map((m) => m[1]), [9040]);
  assert.equal(sentOf(seen, "hello").length, hellos + 1);
  d.send("reply_port", 9001); // the value it already has: nothing moves
  d.advance(1000);
  assert.equal(d.on(OUT.receive).length, 1); // only init's
});
