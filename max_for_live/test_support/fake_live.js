"use strict";
// An in-memory Live set behind a fake LiveAPI, as strict as the Live it stands for (Live 12, probed by
// public devices; the LOM reference):
// - objects have ids and canonical paths; get() answers lists like Max ([value], ["id", 3, "id", 4],
//   warp_markers as one JSON string, an empty list until Live has analysed a newly warped clip);
// - a call Live refuses (a function this Live lacks, bad arguments, a MIDI or frozen track, a file it
//   cannot read, a warp marker past the file end) records an error in live.errors, changes nothing and
//   answers a bare 1, like Live 12.4 does;
// - Track.create_audio_clip replaces whatever arrangement material lies under the new clip;
// - add_warp_marker takes a Dict (classic [js]); a plain JS object only where [js] is v8 (jsEngine "v8"),
//   and the dict's values must be numbers;
// - clampParameter() stores a value the way Live stores a parameter of the patch: Int in 0..255,
//   Float in its range, Enum an item index.

const SHADOW_BEATS = 1 / 32; // Live's hidden last warp marker sits just after the last visible one
const REFUSED = 1; // what LiveAPI.call answers when Live refuses the call
const INT_RANGE = [0, 255]; // Live's Int parameters
const PARAM_FLOAT = 0;
const PARAM_INT = 1;
const PARAM_ENUM = 2;

/** Max's Dict as classic [js] has it: named, typed values, freed with freepeer(). */
class FakeDict {
  constructor(name) {
    FakeDict.count += 1;
    this.name = name || `u${100000 + FakeDict.count}`;
    this.values = {};
    this.freed = false;
  }
  set(key, value) {
    this.values[key] = value;
  }
  get(key) {
    return this.values[key];
  }
  getkeys() {
    return Object.keys(this.values);
  }
  contains(key) {
    return key in this.values;
  }
  freepeer() {
    this.freed = true;
  }
}
FakeDict.count = 0;

/** The value Live keeps for a parameter (the patch's valueof attributes), like Live clamps it. */
function clampParameter(valueof, value) {
  const type = valueof.parameter_type;
  let lo = valueof.parameter_mmin === undefined ? 0 : valueof.parameter_mmin;
  let hi = valueof.parameter_mmax === undefined ? 127 : valueof.parameter_mmax;
  let v = Number(value);
  if (type === PARAM_ENUM) {
    const items = valueof.parameter_enum || [];
    lo = 0;
    hi = Math.max(0, items.length - 1);
    v = Math.round(v);
  } else if (type === PARAM_INT) {
    lo = Math.max(INT_RANGE[0], Math.min(INT_RANGE[1], lo));
    hi = Math.max(INT_RANGE[0], Math.min(INT_RANGE[1], hi));
    v = Math.round(v);
  } else if (type !== PARAM_FLOAT) {
    return value; // blob and other stored-only types keep what they hold
  }
  return Math.max(lo, Math.min(hi, v));
}

class FakeLive {
  constructor({
    version = [12, 1, 5],
    tempo = 120,
    numerator = 4,
    denominator = 4,
    createAudioClip,
    jsEngine = "classic",
    analysisMs = 250,
  } = {}) {
    this.version = version;
    // Whether this Live has ClipSlot/Track.create_audio_clip: public sources disagree on the first
    // version, so it is its own switch (by default Live 12 has it, Live 11 does not).
    this.createAudioClip = createAudioClip === undefined ? version[0] >= 12 : createAudioClip;
    this.jsEngine = jsEngine;
    this.analysisMs = analysisMs; // how long Live takes to analyse a newly warped clip
    this.now = () => 0; // the device's clock (ms), set by loadDevice
    this.objects = new Map();
    this.nextId = 1;
    this.errors = [];
    this.calls = []; // [fn, args] of every call() made
    this.replaced = []; // arrangement clips create_audio_clip wiped out
    this.files = new Map(); // path -> {seconds, frames, sampleRate, channels, guessBpm}
    this.constructed = 0;
    this.addWarpMarkerWorks = true;
    this.app = this.make("Application", null, {});
    this.song = this.make("Song", null, {
      tempo,
      signature_numerator: numerator,
      signature_denominator: denominator,
      start_time: 0,
      current_song_time: 0,
    });
    this.song.children.tracks = [];
    this.view = this.make("Song.View", this.song, {});
    this.song.refs.view = this.view.id;
    this.view.refs = { detail_clip: 0, highlighted_clip_slot: 0, selected_track: 0 };
    this.device = this.make("Device", null, { name: "MusicGen Bridge" });
  }

  make(type, parent, props) {
    const obj = { id: this.nextId++, type, parent, props: { ...props }, children: {}, refs: {} };
    this.objects.set(obj.id, obj);
    return obj;
  }

  // ---------------------------------------------------------------------------- building a set

  addTrack({ name = "Audio", kind = "audio", frozen = false, scenes = 8 } = {}) {
    const track = this.make("Track", this.song, {
      name,
      has_audio_input: kind === "audio" ? 1 : 0,
      has_midi_input: kind === "midi" ? 1 : 0,
      is_foldable: kind === "group" ? 1 : 0,
      is_frozen: frozen ? 1 : 0,
    });
    track.children.clip_slots = [];
    track.children.arrangement_clips = [];
    this.song.children.tracks.push(track.id);
    for (let i = 0; i < scenes; i++) {
      const slot = this.make("ClipSlot", track, {});
      slot.refs.clip = 0;
      track.children.clip_slots.push(slot.id);
    }
    return track;
  }

  slot(track, scene) {
    return this.objects.get(track.children.clip_slots[scene]);
  }

  select(track, scene) {
    this.view.refs.selected_track = track.id;
    if (scene !== undefined) this.view.refs.highlighted_clip_slot = this.slot(track, scene).id;
  }

  /** An audio file Live can read. frames defaults to round(seconds * sampleRate); sample_length is
   * frames whatever the channel count, as in Live. */
  addFile(path, { seconds = 8, sampleRate = 44100, frames, channels = 2, guessBpm = null } = {}) {
    const n = frames === undefined ? Math.round(seconds * sampleRate) : frames;
    this.files.set(path, { seconds: n / sampleRate, frames: n, sampleRate, channels, guessBpm });
  }

  /** A clip already in a slot (for occupying slots, or as the selected source clip). */
  putClip(track, scene, props = {}) {
    const slot = this.slot(track, scene);
    const clip = this.make("Clip", slot, {
      name: "clip",
      is_audio_clip: 1,
      file_path: "/Users/me/Samples/riff.wav",
      warping: 0,
      looping: 0,
      loop_start: 0,
      loop_end: 4,
      start_marker: 0,
      end_marker: 4,
      sample_length: 4 * 44100,
      sample_rate: 44100,
      ...props,
    });
    clip.warpMarkers = props.warp_markers || null;
    delete clip.props.warp_markers;
    slot.refs.clip = clip.id;
    return clip;
  }

  /** The user's own clip in the arrangement, from start to end (song beats). */
  putArrangementClip(track, start, end, props = {}) {
    const clip = this.make("Clip", track, {
      name: "mine",
      is_audio_clip: 1,
      file_path: "/Users/me/Samples/vocal.wav",
      start_time: start,
      end_time: end,
      ...props,
    });
    clip.warpMarkers = null;
    track.children.arrangement_clips.push(clip.id);
    this.sortArrangement(track);
    return clip;
  }

  sortArrangement(track) {
    track.children.arrangement_clips.sort((a, b) => this.objects.get(a).props.start_time - this.objects.get(b).props.start_time);
  }

  showInClipView(clip) {
    this.view.refs.detail_clip = clip ? clip.id : 0;
  }

  // ---------------------------------------------------------------------------------- queries

  clipIn(track, scene) {
    const id = this.slot(track, scene).refs.clip;
    return id ? this.objects.get(id) : null;
  }

  arrangementClips(track) {
    return track.children.arrangement_clips.map((id) => this.objects.get(id));
  }

  canonicalPath(obj) {
    if (obj === this.song) return "live_set";
    if (obj === this.app) return "live_app";
    if (obj === this.view) return "live_set view";
    if (obj === this.device) return "this_device";
    const parent = obj.parent;
    if (obj.type === "Track") return `live_set tracks ${this.song.children.tracks.indexOf(obj.id)}`;
    if (obj.type === "ClipSlot") return `${this.canonicalPath(parent)} clip_slots ${parent.children.clip_slots.indexOf(obj.id)}`;
    if (obj.type === "Clip" && parent.type === "ClipSlot") return `${this.canonicalPath(parent)} clip`;
    if (obj.type === "Clip") return `${this.canonicalPath(parent)} arrangement_clips ${parent.children.arrangement_clips.indexOf(obj.id)}`;
    return `id ${obj.id}`;
  }

  resolve(path) {
    const tokens = String(path).trim().split(/\s+/);
    let obj = null;
    let i = 0;
    if (tokens[0] === "live_set") obj = this.song;
    else if (tokens[0] === "live_app") obj = this.app;
    else if (tokens[0] === "this_device") obj = this.device;
    else if (tokens[0] === "id") {
      obj = this.objects.get(Number(tokens[1])) || null;
      i = 1;
    } else return null;
    for (i += 1; obj && i < tokens.length; i++) {
      const t = tokens[i];
      if (obj.children[t]) {
        obj = this.objects.get(obj.children[t][Number(tokens[++i])]) || null;
      } else if (t in obj.refs) {
        obj = obj.refs[t] ? this.objects.get(obj.refs[t]) : null;
      } else return null;
    }
    return obj && this.objects.has(obj.id) ? obj : null;
  }

  // --------------------------------------------------------------------------- LiveAPI verbs

  get(obj, prop) {
    if (!obj) return [];
    if (obj.children[prop]) return obj.children[prop].flatMap((id) => ["id", id]);
    if (prop in obj.refs) return ["id", obj.refs[prop] || 0];
    if (obj.type === "ClipSlot" && prop === "has_clip") return [obj.refs.clip ? 1 : 0];
    if (obj.type === "Clip" && prop === "warp_markers") {
      if (this.version[0] < 11 || !obj.warpMarkers) return undefined;
      const ready = obj.analysedAt === undefined || this.now() >= obj.analysedAt;
      return [JSON.stringify({ warp_markers: ready ? obj.warpMarkers : [] })];
    }
    return prop in obj.props ? [obj.props[prop]] : undefined;
  }

  set(obj, prop, value) {
    if (!obj) return;
    obj.props[prop] = value;
    if (obj.type === "Clip" && prop === "warping" && value && !obj.warpMarkers && obj.fileInfo) {
      // Live's auto-warp, done some time later: a guessed tempo, a first marker and the hidden shadow.
      const bpm = obj.fileInfo.guessBpm || this.song.props.tempo;
      obj.warpMarkers = [
        { sample_time: 0, beat_time: 0 },
        { sample_time: (SHADOW_BEATS * 60) / bpm, beat_time: SHADOW_BEATS },
      ];
      obj.analysedAt = this.now() + this.analysisMs;
    }
  }

  /** The warp marker a dict argument describes, or a reason it is refused. */
  markerArgument(d) {
    if (d instanceof FakeDict) return { beat: d.get("beat_time"), sample: d.get("sample_time") };
    if (d && typeof d === "object" && !Array.isArray(d)) {
      if (this.jsEngine !== "v8") return { why: "classic [js] passes a JS object as '[object Object]', not a dict" };
      return { beat: d.beat_time, sample: d.sample_time };
    }
    return { why: "needs a dict" };
  }

  call(obj, fn, args) {
    this.calls.push([fn, args]);
    const fail = (why) => {
      this.errors.push(`${fn}: ${why}`);
      return REFUSED;
    };
    if (!obj) return fail("no object");
    const v = this.version;
    if (obj === this.app) {
      const i = { get_major_version: 0, get_minor_version: 1, get_bugfix_version: 2 }[fn];
      return i === undefined ? fail("no such function") : v[i];
    }
    if (fn === "create_audio_clip" && (obj.type === "ClipSlot" || obj.type === "Track")) {
      if (!this.createAudioClip) return fail("Invalid syntax: no such function");
      const track = obj.type === "Track" ? obj : obj.parent;
      if (track.props.has_audio_input !== 1 || track.props.has_midi_input === 1 || track.props.is_foldable === 1) {
        return fail("not an audio track");
      }
      if (track.props.is_frozen === 1) return fail("track is frozen");
      const info = this.files.get(args[0]);
      if (!info) return fail("not a valid audio file");
      if (obj.type === "ClipSlot" && obj.refs.clip) return fail("clip slot is not empty");
      const pos = Number(args[1]);
      if (obj.type === "Track" && !(pos >= 0 && pos <= 1576800)) return fail("position out of range");
      const clip = this.make("Clip", obj, {
        name: args[0].split("/").pop().replace(/\.wav$/, ""),
        is_audio_clip: 1,
        file_path: args[0],
        warping: 0,
        looping: 0,
        loop_start: 0,
        loop_end: info.seconds,
        start_marker: 0,
        end_marker: info.seconds,
        sample_length: info.frames,
        sample_rate: info.sampleRate,
      });
      clip.fileInfo = { seconds: info.seconds, guessBpm: info.guessBpm };
      clip.warpMarkers = null;
      if (obj.type === "ClipSlot") {
        obj.refs.clip = clip.id;
        return ["id", clip.id];
      }
      // The new clip is the file at Live's guess of its tempo; whatever lies under it is replaced.
      const end = pos + (info.seconds * (info.guessBpm || this.song.props.tempo)) / 60;
      for (const id of obj.children.arrangement_clips.slice()) {
        const other = this.objects.get(id);
        if (other.props.start_time < end && pos < other.props.end_time) {
          obj.children.arrangement_clips.splice(obj.children.arrangement_clips.indexOf(id), 1);
          this.objects.delete(id);
          this.replaced.push(other);
        }
      }
      clip.props.start_time = pos;
      clip.props.end_time = end;
      obj.children.arrangement_clips.push(clip.id);
      this.sortArrangement(obj);
      return ["id", clip.id];
    }
    if (fn === "add_warp_marker" && obj.type === "Clip") {
      const m = this.markerArgument(args[0]);
      if (m.why) return fail(m.why);
      if (!obj.props.warping || !obj.warpMarkers || !this.addWarpMarkerWorks) return fail("cannot add");
      if (typeof m.beat !== "number" || !isFinite(m.beat)) return fail("beat_time must be a number");
      if (m.sample !== undefined && (typeof m.sample !== "number" || !isFinite(m.sample))) {
        return fail("sample_time must be a number");
      }
      const length = obj.props.sample_length / obj.props.sample_rate;
      if (m.sample !== undefined && !(m.sample >= 0 && m.sample <= length)) {
        return fail(`sample_time ${m.sample} is outside the sample (0..${length})`);
      }
      const marker = { beat_time: m.beat, sample_time: m.sample };
      obj.warpMarkers = obj.warpMarkers.concat([marker]).sort((a, b) => a.beat_time - b.beat_time);
      return 0;
    }
    return fail("no such function");
  }

  /** The LiveAPI constructor to give the device. */
  get LiveAPI() {
    const live = this;
    return function LiveAPI(a, b) {
      live.constructed += 1;
      const path = typeof a === "string" ? a : b;
      const obj = live.resolve(path);
      const canonical = obj ? live.canonicalPath(obj) : "";
      this.id = obj ? String(obj.id) : "0";
      this.path = `"${canonical}"`;
      this.unquotedpath = canonical;
      this.type = obj ? obj.type : "";
      // Bound to the object, as Live's are: once it is deleted the API object answers nothing.
      const target = () => (obj && live.objects.has(obj.id) ? obj : null);
      this.get = (prop) => live.get(target(), prop);
      this.set = (prop, value) => live.set(target(), prop, value);
      this.call = (fn, ...args) => live.call(target(), fn, args);
    };
  }
}

module.exports = { FakeLive, FakeDict, SHADOW_BEATS, REFUSED, clampParameter };
