"use strict";
// Loads musicgen_bridge.js the way Max's [js] does - one global scope - into a Node vm sandbox with
// fakes for what Max provides (outlet, post, Task, LiveAPI, messagename), and records what it sends.

const fs = require("fs");
const path = require("path");
const vm = require("vm");
const assert = require("node:assert/strict");
const { FakeDict } = require("./fake_live");

const DIR = path.resolve(__dirname, "..");
const JS_PATH = path.join(DIR, "musicgen_bridge.js");
const PATCH_PATH = path.join(DIR, "musicgen_bridge.maxpat");
const PROTOCOL_PATH = path.join(DIR, "protocol.json");

const OUT = { osc: 0, status: 1, progress: 2, receive: 3, path: 4 };

/** onOsc(message) sees every OSC request the script sends (the network), e.g. a fake daemon that drops
 * datagrams; dict: false leaves Max's Dict out (as a stand-in for an environment without it). */
function loadDevice(live, { source = fs.readFileSync(JS_PATH, "utf8"), onOsc = null, dict = true } = {}) {
  const outlets = [];
  const posts = [];
  let tasks = [];
  let seq = 0;
  let clock = 0;
  function Task(fn, thisArg) {
    let entry = null;
    this.schedule = (ms) => {
      if (entry) tasks = tasks.filter((t) => t !== entry); // rescheduling replaces the pending run
      entry = { at: clock + (ms || 0), fn, thisArg, seq: seq++ };
      tasks.push(entry);
    };
    this.cancel = () => {
      tasks = tasks.filter((t) => t !== entry);
      entry = null;
    };
  }
  const ctx = {
    post: (...args) => posts.push(args.join(" ")),
    outlet: (n, ...args) => {
      const msg = [n, ...args.flat()];
      outlets.push(msg);
      if (onOsc && n === OUT.osc && String(msg[1]).startsWith("/")) onOsc(msg.slice(1));
    },
    messnamed: () => {},
    include: () => {},
    Task,
    LiveAPI: live ? live.LiveAPI : function LiveAPI() { throw new Error("no Live in this test"); },
    messagename: undefined,
    jsarguments: ["musicgen_bridge.js"],
  };
  if (dict) ctx.Dict = FakeDict;
  if (live) live.now = () => clock;
  vm.createContext(ctx);
  vm.runInContext(source, ctx, { filename: JS_PATH });

  const device = {
    ctx,
    outlets,
    posts,
    /** A message from the patch (init, text, generate, bars 3, ...) or from [udpreceive]. */
    send(name, ...args) {
      ctx.messagename = name;
      if (name.startsWith("/")) return ctx.anything(...args);
      if (typeof ctx[name] !== "function") throw new Error(`the script has no '${name}' message`);
      return ctx[name](...args);
    },
    /** Run the scheduled Tasks (and any they schedule) in time order; stops after 10 minutes of
     * device time so a task that reschedules itself forever fails the test instead of hanging it. */
    runTasks() {
      const limit = clock + 600000;
      while (tasks.length) {
        tasks.sort((a, b) => a.at - b.at || a.seq - b.seq);
        assert.ok(tasks[0].at <= limit, "tasks still scheduled after 10 minutes");
        const t = tasks.shift();
        clock = t.at;
        t.fn.call(t.thisArg);
      }
    },
    /** Let ms of device time pass, running the Tasks due in it. */
    advance(ms) {
      const until = clock + ms;
      for (;;) {
        tasks.sort((a, b) => a.at - b.at || a.seq - b.seq);
        if (!tasks.length || tasks[0].at > until) break;
        const t = tasks.shift();
        clock = t.at;
        t.fn.call(t.thisArg);
      }
      clock = until;
    },
    /** Something (a reply from the network) that happens ms from now. */
    at(ms, fn) {
      tasks.push({ at: clock + ms, fn, thisArg: null, seq: seq++ });
    },
    now() {
      return clock;
    },
    on(n) {
      return outlets.filter((o) => o[0] === n).map((o) => o.slice(1));
    },
    /** OSC messages sent, as {address, id, keys: {...}} (port messages excluded). */
    requests() {
      return device
        .on(OUT.osc)
        .filter((m) => String(m[0]).startsWith("/"))
        .map(([address, id, ...pairs]) => {
          const keys = {};
          for (let i = 0; i < pairs.length; i += 2) keys[pairs[i]] = pairs[i + 1];
          return { address, id, keys, pairs };
        });
    },
    last(address) {
      const list = device.requests().filter((r) => r.address === address);
      return list[list.length - 1];
    },
    status() {
      const s = device.on(OUT.status);
      return s.length ? s[s.length - 1].slice(1).join(" ") : "";
    },
    pathShown() {
      const s = device.on(OUT.path);
      if (!s.length || s[s.length - 1][0] === "clear") return "";
      return s[s.length - 1].slice(1).join(" ");
    },
    progress() {
      const s = device.on(OUT.progress);
      return s.length ? s[s.length - 1][1] : undefined;
    },
  };
  return device;
}

module.exports = { loadDevice, OUT, DIR, JS_PATH, PATCH_PATH, PROTOCOL_PATH };
