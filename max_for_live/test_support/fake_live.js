"use strict";
// An in-memory Live set behind a fake LiveAPI, close enough to Max's to run musicgen_bridge.js:
// objects have ids and canonical paths; get() answers lists like Max ([value], ["id", 3, "id", 4],
// warp_markers as one JSON string); call() on a function this Live version lacks, or with bad
// arguments, "prints an error" (recorded in live.errors) and changes nothing, like Live does.

const SHADOW_BEATS = 1 / 32; // Live's hidden last warp marker sits just after the last visible one

class FakeLive {
  constructor({ version = [12, 1, 5], tempo = 120, numerator = 4, denominator = 4 } = {}) {
    this.version = version;
    this.objects = new Map();
    this.nextId = 1;
    this.errors = [];
    this.files = new Map(); // path -> {seconds, sampleRate, guessBpm}
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

  addFile(path, { seconds = 8, sampleRate = 44100, guessBpm = null } = {}) {
    this.files.set(path, { seconds, sampleRate, guessBpm });
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
    return obj;
  }

  // --------------------------------------------------------------------------- LiveAPI verbs

  get(obj, prop) {
    if (!obj) return [];
    if (obj.children[prop]) return obj.children[prop].flatMap((id) => ["id", id]);
    if (prop in obj.refs) return ["id", obj.refs[prop] || 0];
    if (obj.type === "ClipSlot" && prop === "has_clip") return [obj.refs.clip ? 1 : 0];
    if (obj.type === "Clip" && prop === "warp_markers") {
      if (this.version[0] < 11 || !obj.warpMarkers) return undefined;
      return [JSON.stringify({ warp_markers: obj.warpMarkers })];
    }
    return prop in obj.props ? [obj.props[prop]] : undefined;
  }

  set(obj, prop, value) {
    if (!obj) return;
    obj.props[prop] = value;
    if (obj.type === "Clip" && prop === "warping" && value && !obj.warpMarkers && obj.fileInfo) {
      // Live's auto-warp: a guessed tempo, a first marker and the hidden shadow marker.
      const bpm = obj.fileInfo.guessBpm;
      obj.warpMarkers = [
        { sample_time: 0, beat_time: 0 },
        { sample_time: (SHADOW_BEATS * 60) / bpm, beat_time: SHADOW_BEATS },
      ];
    }
  }

  call(obj, fn, args) {
    const fail = (why) => {
      this.errors.push(`${fn}: ${why}`);
      return undefined;
    };
    if (!obj) return fail("no object");
    const v = this.version;
    const atLeast = (a, b, c) => v[0] > a || (v[0] === a && (v[1] > b || (v[1] === b && v[2] >= c)));
    if (obj === this.app) {
      const i = { get_major_version: 0, get_minor_version: 1, get_bugfix_version: 2 }[fn];
      return i === undefined ? fail("no such function") : v[i];
    }
    if (fn === "create_audio_clip" && (obj.type === "ClipSlot" || obj.type === "Track")) {
      if (!atLeast(12, 0, 5)) return fail("Invalid syntax: no such function");
      const track = obj.type === "Track" ? obj : obj.parent;
      if (track.props.has_audio_input !== 1 || track.props.has_midi_input === 1 || track.props.is_foldable === 1) {
        return fail("not an audio track");
      }
      if (track.props.is_frozen === 1) return fail("track is frozen");
      const info = this.files.get(args[0]);
      if (!info) return fail("not a valid audio file");
      if (obj.type === "ClipSlot" && obj.refs.clip) return fail("clip slot is not empty");
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
        sample_length: Math.round(info.seconds * info.sampleRate),
        sample_rate: info.sampleRate,
      });
      clip.fileInfo = { seconds: info.seconds, guessBpm: info.guessBpm };
      clip.warpMarkers = null;
      if (obj.type === "ClipSlot") {
        obj.refs.clip = clip.id;
        return undefined;
      }
      const pos = Number(args[1]);
      if (!(pos >= 0 && pos <= 1576800)) return fail("position out of range");
      clip.props.start_time = pos;
      obj.children.arrangement_clips.push(clip.id);
      obj.children.arrangement_clips.sort((a, b) => this.objects.get(a).props.start_time - this.objects.get(b).props.start_time);
      return ["id", clip.id];
    }
    if (fn === "add_warp_marker" && obj.type === "Clip") {
      const d = args[0] || {};
      if (!obj.props.warping || !obj.warpMarkers || !this.addWarpMarkerWorks) return fail("cannot add");
      if (typeof d.beat_time !== "number") return fail("needs a dict with beat_time");
      const marker = { beat_time: d.beat_time, sample_time: d.sample_time };
      obj.warpMarkers = obj.warpMarkers.concat([marker]).sort((a, b) => a.beat_time - b.beat_time);
      return undefined;
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
      this.get = (prop) => live.get(obj, prop);
      this.set = (prop, value) => live.set(obj, prop, value);
      this.call = (fn, ...args) => live.call(obj, fn, args);
    };
  }
}

module.exports = { FakeLive, SHADOW_BEATS };
