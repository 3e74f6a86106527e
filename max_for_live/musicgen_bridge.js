/*
 * musicgen_bridge.js - the [js] object of the "MusicGen Bridge" Max for Live device.
 *
 * Ableton Live -> daemon: on Generate it reads the song tempo and time signature (and, for Melody and
 * Continue, the clip selected in Clip View: its file, the region that plays, the clip's own tempo) and
 * sends /musicgen/generate over [udpsend]. Daemon -> Live: replies arrive from [udpreceive @defer 1];
 * /musicgen/grid says how each take was fitted onto the song's grid (shown on the status line with the
 * result); on /musicgen/done it creates the clip(s) in Session or Arrangement (Live 12: the call is tried,
 * never gated on a version; Arrangement only where nothing lies), names them after the prompt, turns
 * warping and looping on. Where Live cannot do that (Live 11, MIDI or frozen track, no empty slot, a
 * refused call) the status line says why and the file path is shown - never a silent failure. Generate and
 * cancel are sent again, same id, until the daemon answers (UDP may drop them).
 *
 * Written in ES5 for classic [js] (SpiderMonkey 1.8.5): var and function only, no arrow functions,
 * let/const, template strings or default parameters. LiveAPI objects are only made after
 * [live.thisdevice] has sent "init" (never in global code), and nothing Live gives us (object ids)
 * is kept between sessions.
 *
 * Patch wiring (see musicgen_bridge.maxpat): inlet 0 takes the UI messages (init, text, generate,
 * cancel, bars, mode, variations, destination, grid, grid_shift, daemon_port, reply_port) and the OSC replies
 * (/musicgen/... from [udpreceive], handled in anything()). Outlets are listed under OUTLET_*.
 *
 * The OSC addresses are not typed here: they come from the daemon's protocol export, pasted below by
 * `musicgen-bridge m4l build` at the end of this file (tests check it equals `musicgen-bridge protocol --json`).
 * Reply arguments are read by name from the export's reply table (decodeReply), never by position. The
 * export stays in this file, not a second one loaded with include()/require(), because Freeze and
 * Collect All would not carry a file the patch does not name (max_for_live/README.md, Development).
 */

autowatch = 0;
inlets = 1;
outlets = 5;

var PROTOCOL; // the daemon's protocol export: generated at the end of this file

var OUTLET_OSC = 0; // to [udpsend]: OSC messages, and "port N" when the daemon port setting changes
var OUTLET_STATUS = 1; // to the status [comment]: "set <text>"
var OUTLET_PROGRESS = 2; // to the progress [multislider]: "set <0..1>"
var OUTLET_RECEIVE = 3; // to [udpreceive]: "port N" when the reply port setting changes
var OUTLET_PATH = 4; // to the read-only path [textedit]: "set <path(s)>"

var CLIENT_NAME = "m4l";
var BARS_CHOICES = [1, 2, 4, 8, 16, 32]; // the Bars [live.menu] items, in order
var MODES = ["generate", "melody", "continue"]; // the Mode [live.tab] items, in order
var DESTINATIONS = ["session", "arrangement"]; // the Insert [live.tab] items, in order
var GRID_MODES = ["on", "strict", "off"]; // the Grid [live.menu] items, in order (values of generate's grid key)
var ON_GRID = "on_grid"; // the grid reply's status of a take fitted onto the grid
var CONNECT_TIMEOUT_MS = 2500; // no welcome after hello => say the daemon is not answering
// UDP may drop a datagram (a full receive buffer drops silently): generate and cancel are sent again,
// with the same request id (the daemon answers a repeated id without running it twice), until any
// reply names that id, or GIVE_UP_MS have passed.
var RESEND_MS = 750;
var GIVE_UP_MS = 5000;
// Live defers "warping" and analyses a new clip asynchronously: its warp_markers are watched every
// WARP_POLL_MS until Live has analysed it, for at most WARP_WAIT_MS.
var WARP_POLL_MS = 100;
var WARP_WAIT_MS = 5000;
var PORT_SETTLE_MS = 400; // a dragged port box settles this long before the sockets move
var BEAT_TOLERANCE = 0.01; // beats: how far Live's warp may put the loop end from the bar line
var ARRANGEMENT_END = 1576800; // beats: the last position Track.create_audio_clip accepts
var CLIP_NAME_CHARS = 60;
var MAX_PATHS_SHOWN = 8;

var settings = {
    prompt: "",
    barsIndex: 2, // 4 bars
    mode: 0,
    variations: 1,
    destination: 0,
    gridIndex: 0, // on
    gridShift: 0, // beats (the Nudge control)
    daemonPort: 0, // PROTOCOL.default_port, set at the end of this file
    replyPort: 0 // PROTOCOL.default_reply_port
};

var state = {
    ready: false, // live.thisdevice has banged: LiveAPI may be used
    connected: false, // a welcome arrived
    counter: 0,
    sent: {}, // request id -> verb, for every request this device sent
    jobs: {}, // generate request id -> job (what is needed to place its clips)
    active: null, // id of the newest running job (its progress drives the bar)
    welcome: null,
    pending: {}, // request id -> {msg, verb, waited, task}: sent, no reply yet (see sendReliable)
    portTask: null // the debounce of the port boxes
};

// ------------------------------------------------------------------------------------------ errors

function UserError(message) {
    this.message = message;
    this.user = true;
}
UserError.prototype.toString = function () {
    return this.message;
};

function fail(message) {
    throw new UserError(message);
}

// ---------------------------------------------------------------------------------------- protocol

function requestSpec(verb) {
    var list = PROTOCOL.requests || [];
    for (var i = 0; i < list.length; i++) {
        if (list[i].verb === verb) {
            return list[i];
        }
    }
    throw new Error("the protocol export has no request '" + verb + "' (rebuild the device)");
}

function requestAddress(verb) {
    return requestSpec(verb).address;
}

function keySpec(verb, key) {
    var keys = requestSpec(verb).keys || [];
    for (var i = 0; i < keys.length; i++) {
        if (keys[i].name === key) {
            return keys[i];
        }
    }
    throw new Error("the protocol export has no key '" + key + "' for " + verb + " (rebuild the device)");
}

function replyVerb(address) {
    var list = PROTOCOL.replies || [];
    for (var i = 0; i < list.length; i++) {
        if (list[i].address === address) {
            return list[i].verb;
        }
    }
    return null;
}

function replySpec(verb) {
    var list = PROTOCOL.replies || [];
    for (var i = 0; i < list.length; i++) {
        if (list[i].verb === verb) {
            return list[i];
        }
    }
    throw new Error("the protocol export has no reply '" + verb + "' (rebuild the device)");
}

var PAIR_ARG = "key"; // a repeating reply argument of this name is followed by its value: key value ...

function typedArg(type, value) {
    return type === "s" ? String(value) : Number(value);
}

/* A reply's arguments by name and typed as the export's reply table says, never by position:
 * decodeReply("ack", ["r1", 2, "j-1"]) => {id: "r1", queue_position: 2, job: "j-1"}. A variadic reply's
 * last argument repeats: its values are a list under its name (done's "path"), or, when it is "key",
 * the key value pairs as an object under "pairs" (status). Arguments a reply leaves off are absent. */
function decodeReply(verb, args) {
    var spec = replySpec(verb);
    var names = spec.args || [];
    var fixed = spec.variadic ? names.length - 1 : names.length;
    var reply = {};
    for (var i = 0; i < fixed && i < args.length; i++) {
        reply[names[i].name] = typedArg(names[i].type, args[i]);
    }
    if (!spec.variadic) {
        return reply;
    }
    var last = names[names.length - 1];
    var rest = args.slice(fixed);
    if (last.name === PAIR_ARG) {
        reply.pairs = {};
        for (var j = 0; j + 1 < rest.length; j += 2) {
            reply.pairs[String(rest[j])] = rest[j + 1];
        }
    } else {
        reply[last.name] = [];
        for (var k = 0; k < rest.length; k++) {
            reply[last.name].push(typedArg(last.type, rest[k]));
        }
    }
    return reply;
}

function inRange(verb, key, value) {
    var spec = keySpec(verb, key);
    if (typeof value !== "number" || !isFinite(value)) {
        return false;
    }
    if (spec.min !== undefined && (spec.min_exclusive ? value <= spec.min : value < spec.min)) {
        return false;
    }
    return !(spec.max !== undefined && value > spec.max);
}

/* One OSC request as the list [udpsend] turns into a message: address, request id, then key value
 * pairs. Every key is checked against the protocol export, so a renamed key fails loudly here. */
function composeRequest(verb, id, pairs) {
    var msg = [requestAddress(verb), id];
    for (var i = 0; i < pairs.length; i += 2) {
        keySpec(verb, pairs[i]);
        msg.push(pairs[i], pairs[i + 1]);
    }
    return msg;
}

function newRequestId() {
    state.counter += 1;
    return CLIENT_NAME + "-" + state.counter + "-" + new Date().getTime();
}

// ------------------------------------------------------------------------------------ Max plumbing

function send(msg, verb) {
    state.sent[msg[1]] = verb;
    outlet(OUTLET_OSC, msg);
}

/* Send a request and send it again, same id, every RESEND_MS until a reply names its id
 * (acknowledge) or GIVE_UP_MS have passed; then onGiveUp() says so. */
function sendReliable(msg, verb, onGiveUp) {
    var id = msg[1];
    var entry = { msg: msg, verb: verb, waited: 0, task: null };
    state.pending[id] = entry;
    send(msg, verb);
    var tick = function () {
        if (state.pending[id] !== entry) {
            return;
        }
        entry.waited += RESEND_MS;
        if (entry.waited >= GIVE_UP_MS) {
            delete state.pending[id];
            onGiveUp(entry);
            return;
        }
        outlet(OUTLET_OSC, msg);
        entry.task = later(RESEND_MS, tick);
    };
    entry.task = later(RESEND_MS, tick);
}

/* A reply named this request: stop sending it again. */
function acknowledge(id) {
    var entry = state.pending[id];
    if (entry) {
        delete state.pending[id];
        if (entry.task) {
            entry.task.cancel();
        }
    }
}

function say(text) {
    outlet(OUTLET_STATUS, "set", text);
}

function warn(text) {
    say(text);
    post("MusicGen Bridge: " + text + "\n");
}

function showPaths(paths) {
    outlet(OUTLET_PATH, "set", paths.slice(0, MAX_PATHS_SHOWN).join("  |  "));
    for (var i = 0; i < paths.length; i++) {
        post("MusicGen Bridge: file " + paths[i] + "\n");
    }
}

function clearPaths() {
    outlet(OUTLET_PATH, "clear");
}

function setProgress(fraction) {
    outlet(OUTLET_PROGRESS, "set", Math.max(0, Math.min(1, fraction)));
}

function later(ms, fn) {
    var task = new Task(fn, this);
    task.schedule(ms);
    return task;
}

function report(e) {
    if (e && e.user) {
        warn(e.message);
    } else {
        warn("Internal error: " + e + " (see the Max window)");
        if (e && e.stack) {
            post(e.stack + "\n");
        }
    }
}

// --------------------------------------------------------------------------------------- LiveAPI

function validId(id) {
    var n = Number(id);
    return isFinite(n) && n > 0;
}

/* LiveAPI objects by path, made once per operation (a Generate press, one insert) and reused: Live
 * resolves a path when the object is made, so the cache is dropped when a new operation starts
 * (forgetLiveApis()), and its clip paths when a clip was just created (forgetLiveApis(true)): tracks,
 * slots and objects by id stay what they were. */
var apiCache = {};

function liveApi(path) {
    if (apiCache.hasOwnProperty(path)) {
        return apiCache[path];
    }
    var api;
    try {
        api = new LiveAPI(path);
    } catch (e) {
        api = null;
    }
    apiCache[path] = api && validId(api.id) ? api : null;
    return apiCache[path];
}

function forgetLiveApis(clipPathsOnly) {
    if (!clipPathsOnly) {
        apiCache = {};
        return;
    }
    for (var path in apiCache) {
        if (apiCache.hasOwnProperty(path) && / clip$|arrangement_clips/.test(path)) {
            delete apiCache[path];
        }
    }
}

function getRaw(api, prop) {
    try {
        return api.get(prop);
    } catch (e) {
        return undefined;
    }
}

function isList(v) {
    return v !== null && typeof v === "object" && typeof v.length === "number";
}

function getNumber(api, prop) {
    var v = getRaw(api, prop);
    if (isList(v)) {
        v = v.length ? v[0] : undefined;
    }
    if (v === undefined || v === null || v === "") {
        return NaN;
    }
    return Number(v);
}

function getString(api, prop) {
    var v = getRaw(api, prop);
    if (v === undefined || v === null) {
        return "";
    }
    if (isList(v)) {
        v = Array.prototype.join.call(v, " ");
    }
    v = String(v);
    if (v.length >= 2 && v.charAt(0) === '"' && v.charAt(v.length - 1) === '"') {
        v = v.substring(1, v.length - 1);
    }
    return v;
}

/* ["id", 3, "id", 7] (how LiveAPI lists children and references) -> [3, 7]. */
function getIds(api, prop) {
    var v = getRaw(api, prop);
    var ids = [];
    if (!isList(v)) {
        v = v === undefined || v === null ? [] : [v];
    }
    for (var i = 0; i < v.length; i++) {
        if (v[i] === "id") {
            continue;
        }
        var n = Number(v[i]);
        if (isFinite(n) && String(v[i]) !== "") {
            ids.push(n);
        }
    }
    return ids;
}

function callLive(api, fn) {
    var args = Array.prototype.slice.call(arguments, 2);
    try {
        return api.call.apply(api, [fn].concat(args));
    } catch (e) {
        return undefined;
    }
}

function firstNumber(v) {
    if (isList(v)) {
        for (var i = 0; i < v.length; i++) {
            if (v[i] !== "id" && isFinite(Number(v[i])) && String(v[i]) !== "") {
                return Number(v[i]);
            }
        }
        return NaN;
    }
    return v === undefined || v === null || v === "" ? NaN : Number(v);
}

function setLive(api, prop, value) {
    try {
        api.set(prop, value);
        return true;
    } catch (e) {
        return false;
    }
}

/* [major, minor, bugfix] of the running Live, or null when it cannot be read. */
function liveVersion() {
    var app = liveApi("live_app");
    if (!app) {
        return null;
    }
    var v = [
        firstNumber(callLive(app, "get_major_version")),
        firstNumber(callLive(app, "get_minor_version")),
        firstNumber(callLive(app, "get_bugfix_version"))
    ];
    if (!isFinite(v[0])) {
        return null;
    }
    if (!isFinite(v[1])) {
        v[1] = 0;
    }
    if (!isFinite(v[2])) {
        v[2] = 0;
    }
    return v;
}

// --------------------------------------------------------------------------- reading the Live set

function round(x, digits) {
    var f = Math.pow(10, digits);
    return Math.round(x * f) / f;
}

/* Tempo and time signature at request time. The tempo is rounded to 1/10000 BPM so a set at 124 BPM
 * sends the int 124, not 124.00000762939453. */
function readSong() {
    var song = liveApi("live_set");
    if (!song) {
        fail("Cannot read the Live set (is the device loaded in Live?)");
    }
    var bpm = getNumber(song, "tempo");
    var num = getNumber(song, "signature_numerator");
    var den = getNumber(song, "signature_denominator");
    if (!isFinite(bpm) || bpm <= 0) {
        fail("Cannot read the song tempo from Live");
    }
    if (!isFinite(num) || num < 1) {
        num = 4;
    }
    if (!isFinite(den) || den < 1) {
        den = 4;
    }
    bpm = round(bpm, 4);
    if (!inRange("generate", "bpm", bpm)) {
        var spec = keySpec("generate", "bpm");
        fail("The song tempo " + bpm + " BPM is outside the " + spec.min + "-" + spec.max + " BPM the daemon accepts");
    }
    return { bpm: bpm, numerator: num, denominator: den, timeSignature: num + "/" + den };
}

/* Warp markers as [{beat, sec}] sorted by beat, or null. LiveAPI returns the dict as one JSON string
 * in a list: ["{\"warp_markers\": [{\"sample_time\": 0.0, \"beat_time\": 0.0}, ...]}"] (Live 11+).
 * sample_time is in seconds of the audio file, beat_time in beats of the clip's timeline. */
function readWarpMarkers(api) {
    var v = getRaw(api, "warp_markers");
    var data = null;
    if (v === undefined || v === null) {
        return null;
    }
    if (isList(v) && v.length && typeof v[0] === "object" && v[0] !== null) {
        data = v[0];
    } else if (!isList(v) && typeof v === "object") {
        data = v;
    } else {
        var joins = isList(v) ? [Array.prototype.join.call(v, ""), Array.prototype.join.call(v, " ")] : [String(v)];
        for (var j = 0; j < joins.length && data === null; j++) {
            try {
                data = JSON.parse(joins[j]);
            } catch (e) {
                data = null;
            }
        }
    }
    if (data && !isList(data) && data.warp_markers) {
        data = data.warp_markers;
    }
    if (!isList(data)) {
        return null;
    }
    var markers = [];
    for (var i = 0; i < data.length; i++) {
        var beat = Number(data[i].beat_time);
        var sec = Number(data[i].sample_time);
        if (isFinite(beat) && isFinite(sec)) {
            markers.push({ beat: beat, sec: sec });
        }
    }
    markers.sort(function (a, b) {
        return a.beat - b.beat;
    });
    // A usable map needs two markers with beats and seconds both increasing.
    for (var k = 1; k < markers.length; k++) {
        if (!(markers[k].beat > markers[k - 1].beat) || !(markers[k].sec > markers[k - 1].sec)) {
            return null;
        }
    }
    return markers.length >= 2 ? markers : null;
}

/* Piecewise-linear map between two monotonic coordinates of the markers, extrapolating the first and
 * last segments (Live does the same; its hidden last marker sets the last segment's tempo). */
function interpolate(markers, from, to, x) {
    var n = markers.length;
    var i = 0;
    if (x >= markers[n - 1][from]) {
        i = n - 2;
    } else {
        while (i < n - 2 && x >= markers[i + 1][from]) {
            i++;
        }
    }
    var a = markers[i];
    var b = markers[i + 1];
    return a[to] + ((x - a[from]) * (b[to] - a[to])) / (b[from] - a[from]);
}

function beatsToSeconds(markers, beat) {
    return interpolate(markers, "beat", "sec", beat);
}

function secondsToBeats(markers, sec) {
    return interpolate(markers, "sec", "beat", sec);
}

/* The clip selected in Clip View (Melody and Continue), as plain data. */
function readSelectedClip() {
    var clip = liveApi("live_set view detail_clip");
    if (!clip) {
        fail("Select an audio clip first (click it so it shows in Clip View), or switch Mode to Generate");
    }
    var audio = getNumber(clip, "is_audio_clip");
    if (audio === 0 || (isNaN(audio) && getNumber(clip, "is_midi_clip") === 1)) {
        fail("The selected clip is a MIDI clip: Melody and Continue need an audio clip");
    }
    var path = getString(clip, "file_path");
    if (!path) {
        fail("The selected clip has no audio file on disk yet (still recording?)");
    }
    return {
        name: getString(clip, "name"),
        path: path,
        warping: getNumber(clip, "warping") === 1,
        looping: getNumber(clip, "looping") === 1,
        loopStart: getNumber(clip, "loop_start"),
        loopEnd: getNumber(clip, "loop_end"),
        startMarker: getNumber(clip, "start_marker"),
        endMarker: getNumber(clip, "end_marker"),
        sampleLength: getNumber(clip, "sample_length"),
        sampleRate: getNumber(clip, "sample_rate"),
        markers: readWarpMarkers(clip)
    };
}

/* Which seconds of the clip's FILE play, and the clip's own tempo, from readSelectedClip() data.
 *
 * - The part that plays: the loop (loop_start..loop_end) when the clip loops, else start_marker..
 *   end_marker.
 * - Unwarped clip: those values are seconds of the file already (Live's LOM); its tempo is unknown
 *   (an unwarped clip plays at its own speed whatever the song tempo), so bpm is NaN and melody_bpm is
 *   not sent: the daemon then treats the clip as being at the song tempo.
 * - Warped clip: the values are beats of the clip's timeline. The warp markers map beats to seconds of
 *   the file piecewise-linearly (exactly how Live plays it); outside the markers the first/last
 *   segment is extended. The clip's own tempo is beats per minute of file time over the region,
 *   60 * (end_beat - start_beat) / (end_sec - start_sec): with several warp segments of different
 *   tempo this is their average.
 * - Warped without readable warp markers (Live 10 and older): no region and no tempo, whole file.
 * The result is clamped to the file (0..sample_length/sample_rate). */
function clipRegion(clip) {
    var a = clip.looping ? clip.loopStart : clip.startMarker;
    var b = clip.looping ? clip.loopEnd : clip.endMarker;
    var duration = clip.sampleLength > 0 && clip.sampleRate > 0 ? clip.sampleLength / clip.sampleRate : NaN;
    var start;
    var end;
    var bpm = NaN;
    if (!isFinite(a) || !isFinite(b) || !(b > a)) {
        return { whole: true, bpm: NaN, note: "the clip's markers could not be read, so the whole file is used" };
    }
    if (!clip.warping) {
        start = a;
        end = b;
    } else if (clip.markers) {
        start = beatsToSeconds(clip.markers, a);
        end = beatsToSeconds(clip.markers, b);
        if (end > start) {
            bpm = (60 * (b - a)) / (end - start);
        }
    } else {
        return {
            whole: true,
            bpm: NaN,
            note: "this Live cannot report warp markers, so the whole file is used and its tempo is unknown"
        };
    }
    start = Math.max(0, start);
    if (isFinite(duration)) {
        end = Math.min(end, duration);
    }
    if (!(end > start)) {
        fail("The part of the selected clip that plays lies outside its audio file");
    }
    var result = { whole: false, start: round(start, 6), end: round(end, 6), bpm: NaN, note: "" };
    if (isFinite(bpm)) {
        bpm = round(bpm, 4);
        if (inRange("generate", "melody_bpm", bpm)) {
            result.bpm = bpm;
        } else {
            result.note = "the clip's tempo (" + bpm + " BPM) is out of range and is not sent";
        }
    }
    return result;
}

// ------------------------------------------------------------------------------------ requesting

function currentBars() {
    return BARS_CHOICES[settings.barsIndex];
}

/* The /musicgen/generate message for a request read from Live (see generate()). */
function composeGenerate(id, req) {
    var promptSpec = keySpec("generate", "prompt");
    var prompt = req.prompt;
    if (promptSpec.max_length !== undefined && prompt.length > promptSpec.max_length) {
        prompt = prompt.substring(0, promptSpec.max_length);
    }
    var pairs = [
        "prompt", prompt,
        "bpm", req.bpm,
        "bars", req.bars,
        "time_signature", req.timeSignature,
        "variations", req.variations,
        "grid", req.grid,
        "grid_shift", req.gridShift
    ];
    if (req.mode === "melody" || req.mode === "continue") {
        pairs.push(req.mode, req.clip.path);
        if (!req.region.whole) {
            pairs.push("region_start", req.region.start, "region_end", req.region.end);
        }
        if (isFinite(req.region.bpm)) {
            pairs.push("melody_bpm", req.region.bpm);
        }
    }
    pairs.push("reply_port", settings.replyPort);
    return composeRequest("generate", id, pairs);
}

function describeRequest(req) {
    var text = req.bars + " bar" + (req.bars === 1 ? "" : "s") + " at " + req.bpm + " BPM " + req.timeSignature;
    if (req.variations > 1) {
        text += ", " + req.variations + " takes";
    }
    if (req.grid !== keySpec("generate", "grid").default) {
        text += ", grid " + req.grid;
    }
    if (req.gridShift) {
        text += ", nudge " + (req.gridShift > 0 ? "+" : "") + req.gridShift + " beat" + (Math.abs(req.gridShift) === 1 ? "" : "s");
    }
    if (req.mode !== "generate") {
        text += ", " + req.mode + " from '" + (req.clip.name || "clip") + "'";
        if (!req.region.whole) {
            text += " " + req.region.start.toFixed(2) + "-" + req.region.end.toFixed(2) + " s";
        }
        if (isFinite(req.region.bpm)) {
            text += " @ " + req.region.bpm + " BPM";
        }
    }
    return text;
}

function sayHello() {
    var id = newRequestId();
    send(composeRequest("hello", id, ["name", CLIENT_NAME, "reply_port", settings.replyPort]), "hello");
    later(CONNECT_TIMEOUT_MS, function () {
        if (!state.connected) {
            warn(noAnswerText());
        }
    });
}

function noAnswerText() {
    return (
        "No answer from the daemon on 127.0.0.1:" + settings.daemonPort + " (replies expected on port " +
        settings.replyPort + "). Start it with `musicgen-bridge serve`; with two MusicGen devices give each its own Reply port."
    );
}

// ------------------------------------------------------------------------- messages from the patch

/* Max calls this when the patch loads: proof the script loaded (the status comment's saved text says
 * it did not). LiveAPI must wait for init, which [live.thisdevice] sends once Live is ready. */
function loadbang() {
    say("Waiting for Live... (this device works inside Ableton Live)");
}

/* From [live.thisdevice], after the patch has banged the setting controls so their saved values
 * arrived first. */
function init() {
    state.ready = true;
    boundPorts.daemon = settings.daemonPort;
    boundPorts.reply = settings.replyPort;
    outlet(OUTLET_OSC, "port", settings.daemonPort);
    outlet(OUTLET_RECEIVE, "port", settings.replyPort);
    setProgress(0);
    clearPaths();
    say("Connecting to the MusicGen daemon on port " + settings.daemonPort + "...");
    sayHello();
}

function text() {
    settings.prompt = Array.prototype.slice.call(arguments).join(" ").replace(/^\s+|\s+$/g, "");
}

function bars(index) {
    var i = Math.floor(Number(index));
    if (i >= 0 && i < BARS_CHOICES.length) {
        settings.barsIndex = i;
    }
}

function mode(index) {
    var i = Math.floor(Number(index));
    if (i >= 0 && i < MODES.length) {
        settings.mode = i;
    }
}

function variations(n) {
    var spec = keySpec("generate", "variations");
    var v = Math.floor(Number(n));
    if (isFinite(v)) {
        settings.variations = Math.max(spec.min || 1, Math.min(spec.max || 8, v));
    }
}

function destination(index) {
    var i = Math.floor(Number(index));
    if (i >= 0 && i < DESTINATIONS.length) {
        settings.destination = i;
    }
}

function grid(index) {
    var i = Math.floor(Number(index));
    if (i >= 0 && i < GRID_MODES.length) {
        settings.gridIndex = i;
    }
}

/* The Nudge control: beats the bar line moves, kept inside the protocol's range. */
function grid_shift(beats) {
    var spec = keySpec("generate", "grid_shift");
    var v = Number(beats);
    if (isFinite(v)) {
        settings.gridShift = round(Math.max(spec.min, Math.min(spec.max, v)), 4);
    }
}

function validPort(p) {
    var n = Math.floor(Number(p));
    return n >= 1 && n <= 65535 ? n : 0;
}

/* The port boxes: before init (the saved values) they just set the port; later, while a box is being
 * dragged through values, the sockets move and hello goes out once the value has settled for
 * PORT_SETTLE_MS, not once per value passed. */
function daemon_port(p) {
    var n = validPort(p);
    if (n) {
        settings.daemonPort = n;
        settlePorts();
    }
}

function reply_port(p) {
    var n = validPort(p);
    if (n) {
        settings.replyPort = n;
        settlePorts();
    }
}

var boundPorts = { daemon: 0, reply: 0 }; // what the sockets use (set at init)

function settlePorts() {
    if (!state.ready) {
        return;
    }
    if (state.portTask) {
        state.portTask.cancel();
    }
    state.portTask = later(PORT_SETTLE_MS, function () {
        state.portTask = null;
        var changed = false;
        if (settings.daemonPort !== boundPorts.daemon) {
            boundPorts.daemon = settings.daemonPort;
            outlet(OUTLET_OSC, "port", settings.daemonPort);
            changed = true;
        }
        if (settings.replyPort !== boundPorts.reply) {
            boundPorts.reply = settings.replyPort;
            outlet(OUTLET_RECEIVE, "port", settings.replyPort);
            changed = true;
        }
        if (changed) {
            state.connected = false;
            sayHello();
        }
    });
}

function ping() {
    send(composeRequest("ping", newRequestId(), ["reply_port", settings.replyPort]), "ping");
}

function generate() {
    if (!state.ready) {
        warn("The device is still starting: try again once Live has loaded it");
        return;
    }
    try {
        forgetLiveApis();
        var song = readSong();
        var req = {
            prompt: settings.prompt,
            bpm: song.bpm,
            bars: currentBars(),
            timeSignature: song.timeSignature,
            variations: settings.variations,
            mode: MODES[settings.mode],
            grid: GRID_MODES[settings.gridIndex],
            gridShift: settings.gridShift
        };
        if (req.mode !== "generate") {
            req.clip = readSelectedClip();
            req.region = clipRegion(req.clip);
        }
        var id = newRequestId();
        var msg = composeGenerate(id, req);
        var beatsPerBar = (song.numerator * 4) / song.denominator; // Live's beats are quarter notes
        state.jobs[id] = {
            id: id,
            prompt: req.prompt,
            bpm: req.bpm,
            bars: req.bars,
            loopBeats: req.bars * beatsPerBar,
            variations: req.variations,
            fits: {}, // take number -> how it was fitted onto the grid (the grid replies)
            acked: false
        };
        state.active = id;
        setProgress(0);
        clearPaths();
        var note = req.region && req.region.note ? " (" + req.region.note + ")" : "";
        say("Requested " + describeRequest(req) + note + "...");
        sendReliable(msg, "generate", function (entry) {
            // Kept in state.jobs: a late ack or done (the daemon did get it) is still placed.
            if (state.jobs[id] && !state.jobs[id].acked) {
                warn(noAnswerText() + " (the request was sent " + sentTimes(entry) + ")");
            }
        });
    } catch (e) {
        report(e);
    }
}

function cancel() {
    var ids = [];
    for (var id in state.jobs) {
        if (state.jobs.hasOwnProperty(id)) {
            ids.push(id);
        }
    }
    if (!ids.length) {
        say("Nothing to cancel");
        return;
    }
    for (var i = 0; i < ids.length; i++) {
        acknowledge(ids[i]); // a generate still unanswered is not sent again once cancelled
        var msg = composeRequest("cancel", newRequestId(), ["job", ids[i], "reply_port", settings.replyPort]);
        sendReliable(msg, "cancel", cancelGaveUp);
    }
    say("Cancelling " + ids.length + " job" + (ids.length === 1 ? "" : "s") + "...");
}

function cancelGaveUp(entry) {
    warn("Cancel got no answer: " + noAnswerText() + " (sent " + sentTimes(entry) + ")");
}

function sentTimes(entry) {
    var times = Math.round(entry.waited / RESEND_MS);
    return times + " times over " + Math.round(entry.waited / 1000) + " s";
}

// ------------------------------------------------------------------------------ replies (OSC in)

/* [udpreceive] output: the OSC address is the message name, e.g. "/musicgen/done <id> <path>...". The
 * handlers read the arguments by name (decodeReply), so they follow the export's reply table. */
function anything() {
    var args = Array.prototype.slice.call(arguments);
    var verb = replyVerb(messagename);
    if (verb === null || !REPLY_HANDLERS.hasOwnProperty(verb)) {
        post("MusicGen Bridge: ignored message " + messagename + "\n");
        return;
    }
    try {
        var reply = decodeReply(verb, args);
        acknowledge(reply.id); // any reply naming a request means the daemon has it
        REPLY_HANDLERS[verb](reply);
    } catch (e) {
        report(e);
    }
}

var REPLY_HANDLERS = {
    welcome: function (reply) {
        state.connected = true;
        state.welcome = { version: reply.version, model: reply.model };
        var text = "Connected: daemon " + reply.version + ", model " + reply.model;
        if (reply.protocol !== PROTOCOL.protocol) {
            text += ". Protocol " + reply.protocol + " differs from the device's " + PROTOCOL.protocol + ": update the device";
        }
        say(text);
    },
    pong: function () {
        state.connected = true;
        say("The daemon answers on port " + settings.daemonPort);
    },
    ack: function (reply) {
        var job = state.jobs[reply.id];
        if (!job) {
            return;
        }
        state.connected = true;
        job.acked = true;
        var ahead = reply.queue_position;
        say(ahead > 0 ? "Queued: " + ahead + " job" + (ahead === 1 ? "" : "s") + " ahead" : "Generating...");
    },
    progress: function (reply) {
        var id = reply.id;
        var job = state.jobs[id];
        if (!job) {
            return;
        }
        job.acked = true;
        if (state.active === id) {
            var f = reply.fraction;
            setProgress(f);
            say("Generating... " + Math.round(f * 100) + "%");
        }
    },
    chunk: function (reply) {
        var job = state.jobs[reply.id];
        if (job && state.active === job.id && reply.index === 0) {
            post("MusicGen Bridge: preview " + reply.path + "\n");
        }
    },
    grid: function (reply) {
        var job = state.jobs[reply.id];
        var take = Math.floor(Number(reply.take));
        if (!job || !(take >= 1)) {
            return;
        }
        var fit = {
            status: reply.status === undefined ? "" : reply.status,
            message: reply.message === undefined ? "" : reply.message,
            playedBpm: Number(reply.played_bpm),
            ratio: Number(reply.ratio),
            downbeat: Number(reply.downbeat),
            confidence: Number(reply.confidence)
        };
        job.fits[take] = fit;
        post("MusicGen Bridge: take " + take + ": " + fitDetails(fit) + "\n");
    },
    done: function (reply) {
        var id = reply.id;
        var job = state.jobs[id];
        if (!job) {
            return;
        }
        delete state.jobs[id];
        if (state.active === id) {
            setProgress(1);
        }
        insertTakes(job, reply.path);
    },
    error: function (reply) {
        var id = reply.id;
        var code = reply.code;
        var message = String(reply.message);
        var job = state.jobs[id];
        if (job) {
            delete state.jobs[id];
            if (state.active === id) {
                setProgress(0);
            }
        } else if (id !== "" && !state.sent.hasOwnProperty(id)) {
            return; // another client's job
        }
        if (state.sent[id] === "cancel" && code === "not_found") {
            say("Nothing to cancel: the job had already finished");
        } else if (code === "cancelled") {
            say("Cancelled");
        } else {
            warn("Daemon error (" + code + "): " + message);
        }
    },
    ok: function (reply) {
        if (reply.verb === "cancel" && reply.count === 0) {
            say("Nothing was running to cancel");
        }
    }
};

// --------------------------------------------------------------------------- placing the result

function clipName(job, take) {
    var name = job.prompt || "MusicGen";
    if (name.length > CLIP_NAME_CHARS) {
        name = name.substring(0, CLIP_NAME_CHARS - 3) + "...";
    }
    return job.variations > 1 ? name + " #" + take : name;
}

/* An audio track: takes audio in, not MIDI, not a group. */
function trackIsAudio(track) {
    if (getNumber(track, "is_foldable") === 1) {
        return false;
    }
    var audioIn = getNumber(track, "has_audio_input");
    var midiIn = getNumber(track, "has_midi_input");
    return audioIn === 1 ? midiIn !== 1 : isNaN(audioIn) && midiIn === 0;
}

function slotIsEmpty(path) {
    var slot = liveApi(path);
    if (!slot) {
        return false;
    }
    var hasClip = getNumber(slot, "has_clip");
    return isFinite(hasClip) ? hasClip !== 1 : !liveApi(path + " clip");
}

function trackLabel(track) {
    return "'" + (getString(track, "name") || "track") + "'";
}

function checkTrackTakesAudio(track) {
    if (!trackIsAudio(track)) {
        fail("Track " + trackLabel(track) + " is not an audio track: select an audio track to receive the loop");
    }
    if (getNumber(track, "is_frozen") === 1) {
        fail("Track " + trackLabel(track) + " is frozen: unfreeze it or select another audio track");
    }
}

/* The index of a track in live_set tracks, by id. */
function trackIndex(trackId) {
    var song = liveApi("live_set");
    var ids = song ? getIds(song, "tracks") : [];
    for (var i = 0; i < ids.length; i++) {
        if (ids[i] === trackId) {
            return i;
        }
    }
    return -1;
}

/* Where the highlighted clip slot is: {track, scene} (indices), or null. */
function locateHighlightedSlot(selectedIndex) {
    var slot = liveApi("live_set view highlighted_clip_slot");
    if (!slot) {
        return null;
    }
    var path = String(slot.unquotedpath || slot.path || "").replace(/"/g, "");
    var m = /tracks (\d+) clip_slots (\d+)/.exec(path);
    if (m) {
        return { track: Number(m[1]), scene: Number(m[2]) };
    }
    var slotId = Number(slot.id);
    var song = liveApi("live_set");
    var count = song ? getIds(song, "tracks").length : 0;
    var order = [];
    if (selectedIndex >= 0) {
        order.push(selectedIndex);
    }
    for (var t = 0; t < count; t++) {
        if (t !== selectedIndex) {
            order.push(t);
        }
    }
    for (var k = 0; k < order.length; k++) {
        var track = liveApi("live_set tracks " + order[k]);
        var slots = track ? getIds(track, "clip_slots") : [];
        for (var s = 0; s < slots.length; s++) {
            if (slots[s] === slotId) {
                return { track: order[k], scene: s };
            }
        }
    }
    return null;
}

/* Session: the highlighted slot if it is an empty slot of an audio track, else the next empty slots
 * below it on the selected audio track. Returns {trackIndex, track, scenes: [...]} (may hold fewer
 * scenes than asked for). */
function sessionTarget(count) {
    var selected = liveApi("live_set view selected_track");
    var selectedIndex = selected ? trackIndex(Number(selected.id)) : -1;
    var hl = locateHighlightedSlot(selectedIndex);
    var index = -1;
    var from = hl ? hl.scene : 0; // scenes are rows: "below" means from the highlighted scene down
    if (hl) {
        var hlTrack = liveApi("live_set tracks " + hl.track);
        if (hlTrack && trackIsAudio(hlTrack)) {
            index = hl.track;
        }
    }
    if (index < 0) {
        if (selectedIndex < 0) {
            fail("Select an audio track in Session View to receive the loop");
        }
        index = selectedIndex;
    }
    var track = liveApi("live_set tracks " + index);
    if (!track) {
        fail("Cannot read the selected track");
    }
    checkTrackTakesAudio(track);
    var slotCount = getIds(track, "clip_slots").length;
    var scenes = [];
    for (var s = from; s < slotCount && scenes.length < count; s++) {
        if (slotIsEmpty("live_set tracks " + index + " clip_slots " + s)) {
            scenes.push(s);
        }
    }
    return { trackIndex: index, track: track, from: from, scenes: scenes };
}

/* The one file name a path ends with, and the path in one spelling (Live may report a Windows path with
 * backslashes, and macOS's /tmp and /var as /private/...). */
function normalPath(path) {
    var p = String(path || "").replace(/\\/g, "/").replace(/\/+/g, "/");
    if (/^[A-Za-z]:\//.test(p)) {
        p = p.toLowerCase(); // Windows paths are not case-sensitive
    }
    return p.replace(/^\/private\/(tmp|var)\//, "/$1/");
}

function samePath(a, b) {
    return a !== "" && normalPath(a) === normalPath(b);
}

/* Is this LiveAPI object a clip playing our file? A refused create can leave us holding anything
 * (Live 12.4 answers a refusal with a bare 1, which is not object 1). */
function isOurClip(api, path) {
    if (!api) {
        return false;
    }
    if (api.type !== undefined && api.type !== null && api.type !== "" && String(api.type) !== "Clip") {
        return false;
    }
    return samePath(getString(api, "file_path"), path);
}

/* What create_audio_clip answered, read strictly: {id: n} for ["id", n] with n > 0, {refused: true} for
 * anything else Live answered (a bare 1 or 0 is a refusal, not an id), {} for no answer at all. */
function readCreateResult(result) {
    if (isList(result) && result.length >= 2 && String(result[0]) === "id") {
        var n = Number(result[1]);
        return n > 0 ? { id: n } : { refused: true };
    }
    if (result === undefined || result === null || (isList(result) && !result.length)) {
        return {};
    }
    return { refused: true };
}

/* Why a create failed, for the status line: the Live version only words the message, it never decides
 * whether to try (public sources disagree on when create_audio_clip appeared). */
function notCreatedReason(label, path, answer) {
    var version = liveVersion();
    if (version && version[0] < 12) {
        return "Live " + version.join(".") + " cannot put audio on the timeline from Max for Live (Live 12 can): " +
            "drag the file shown below into Live, or use the desktop panel";
    }
    return "Live did not create the clip on " + label + " (" + answer + "; Max for Live needs Live 12 with " +
        "create_audio_clip): drag the file shown below into Live";
}

function describeAnswer(result) {
    if (result === undefined || result === null) {
        return "no answer";
    }
    return "Live answered " + (isList(result) ? Array.prototype.join.call(result, " ") : String(result));
}

/* Create one clip from path with `create` (a function making the call), and find it: the object the
 * id Live answered names, else what `find()` sees where the clip must be (the slot's clip, the track's
 * new arrangement clip: in case a Live answers a successful call without an id). Either way it must be
 * a clip playing our file. Returns {clip} or {why}. */
function createClip(label, path, create, find) {
    var result = create();
    forgetLiveApis(true); // a slot's clip path now names the new clip
    var answer = readCreateResult(result);
    var named = answer.id ? liveApi("id " + answer.id) : null;
    if (isOurClip(named, path)) {
        return { clip: named };
    }
    var found = find();
    if (isOurClip(found, path)) {
        return { clip: found };
    }
    if (named || found) {
        return { why: "Live answered with an object that is not a clip of " + path };
    }
    return { why: notCreatedReason(label, path, describeAnswer(result)), refused: true };
}

function insertSession(job, paths, outcome) {
    var target = sessionTarget(paths.length);
    var label = trackLabel(target.track);
    outcome.where = label;
    for (var i = 0; i < paths.length; i++) {
        if (i >= target.scenes.length) {
            outcome.failed.push(paths[i]);
            outcome.reasons.push(
                "no empty clip slot left on " + label + " from scene " + (target.from + 1) + " down: add a scene or clear a slot"
            );
            continue;
        }
        var base = "live_set tracks " + target.trackIndex + " clip_slots " + target.scenes[i];
        var slot = liveApi(base);
        var made = createClip(label, paths[i], function () {
            return callLive(slot, "create_audio_clip", paths[i]);
        }, function () {
            return liveApi(base + " clip");
        });
        if (!made.clip) {
            outcome.failed.push(paths[i]);
            outcome.reasons.push(made.why);
            if (made.refused && !outcome.inserted.length) {
                failRest(paths, i + 1, made.why, outcome);
                return;
            }
            continue;
        }
        finishClip(made.clip, job, i + 1);
        outcome.inserted.push("scene " + (target.scenes[i] + 1));
    }
}

/* Live refused the first take: the others would be refused the same way, so they are not tried. */
function failRest(paths, from, why, outcome) {
    for (var k = from; k < paths.length; k++) {
        outcome.failed.push(paths[k]);
        outcome.reasons.push(why);
    }
}

/* The song-beat spans [start, end) of a track's arrangement clips, sorted by start. */
function arrangementSpans(trackIndex) {
    var track = liveApi("live_set tracks " + trackIndex);
    var ids = track ? getIds(track, "arrangement_clips") : [];
    var spans = [];
    for (var i = 0; i < ids.length; i++) {
        var clip = liveApi("id " + ids[i]);
        var start = clip ? getNumber(clip, "start_time") : NaN;
        var end = clip ? getNumber(clip, "end_time") : NaN;
        if (!isFinite(start) || !isFinite(end)) {
            fail("Cannot read where the clips on " + trackLabel(track) + " lie, so the loop was not inserted (it could replace one)");
        }
        spans.push({ id: ids[i], start: start, end: end, name: getString(clip, "name") });
    }
    spans.sort(function (a, b) {
        return a.start - b.start;
    });
    return spans;
}

/* The first position at or after `from` where `length` beats lie free of every span: create_audio_clip
 * replaces whatever lies under the new clip, so the loop only goes where nothing is. */
function freePosition(spans, from, length) {
    var at = from;
    for (var i = 0; i < spans.length; i++) {
        if (spans[i].start < at + length && spans[i].end > at) {
            at = spans[i].end;
        }
    }
    return at;
}

function insertArrangement(job, paths, outcome) {
    var selected = liveApi("live_set view selected_track");
    var index = selected ? trackIndex(Number(selected.id)) : -1;
    if (index < 0) {
        fail("Select an audio track in Arrangement View to receive the loop");
    }
    var track = liveApi("live_set tracks " + index);
    checkTrackTakesAudio(track);
    var song = liveApi("live_set");
    var marker = getNumber(song, "start_time"); // the insert marker
    if (!isFinite(marker)) {
        marker = getNumber(song, "current_song_time");
    }
    if (!isFinite(marker) || marker < 0) {
        marker = 0;
    }
    var label = trackLabel(track);
    outcome.where = label;
    var next = marker; // takes follow one another
    for (var i = 0; i < paths.length; i++) {
        var spans = arrangementSpans(index);
        var at = freePosition(spans, next, job.loopBeats);
        if (at + job.loopBeats > ARRANGEMENT_END) {
            outcome.failed.push(paths[i]);
            outcome.reasons.push("no free place on " + label + " after beat " + round(next, 3) + " for " + job.loopBeats + " beats");
            continue;
        }
        var before = getIds(liveApi("live_set tracks " + index), "arrangement_clips");
        var made = createClip(label, paths[i], function () {
            return callLive(liveApi("live_set tracks " + index), "create_audio_clip", paths[i], at);
        }, function () {
            return newArrangementClip(index, before);
        });
        if (!made.clip) {
            outcome.failed.push(paths[i]);
            outcome.reasons.push(made.why);
            if (made.refused && !outcome.inserted.length) {
                failRest(paths, i + 1, made.why, outcome);
                return;
            }
            continue;
        }
        checkNothingReplaced(index, before, made.clip, outcome);
        finishClip(made.clip, job, i + 1);
        outcome.inserted.push("beat " + round(at, 3));
        if (at > next + 1e-9) {
            outcome.moved = true;
        }
        next = at + job.loopBeats;
    }
}

/* The clip that appeared on the track since `before` (its arrangement clip ids), or null. */
function newArrangementClip(index, before) {
    var after = getIds(liveApi("live_set tracks " + index), "arrangement_clips");
    for (var k = 0; k < after.length; k++) {
        if (before.indexOf(after[k]) < 0) {
            return liveApi("id " + after[k]);
        }
    }
    return null;
}

/* The loop went where nothing was, but Live sizes the new clip by its own guess of the file's tempo:
 * if that made it longer and it replaced a clip, say so loudly (Undo brings it back). */
function checkNothingReplaced(index, before, clip, outcome) {
    var after = getIds(liveApi("live_set tracks " + index), "arrangement_clips");
    var lost = 0;
    for (var k = 0; k < before.length; k++) {
        if (after.indexOf(before[k]) < 0) {
            lost++;
        }
    }
    if (lost) {
        outcome.replaced += lost;
    }
}

/* Name the new clip after the prompt and turn warping on; once Live has analysed it (its warp markers
 * appear), set it looping over the whole loop and check the warp puts the loop end on the bar line
 * (fixing it if Live guessed the tempo wrong). */
function finishClip(clip, job, take) {
    setLive(clip, "name", clipName(job, take));
    setLive(clip, "warping", 1);
    var waited = 0;
    var poll = function () {
        var markers = readWarpMarkers(clip);
        if (!markers && waited < WARP_WAIT_MS) {
            waited += WARP_POLL_MS;
            later(WARP_POLL_MS, poll);
            return;
        }
        settleClip(clip, job, take, markers);
    };
    later(WARP_POLL_MS, poll);
}

function settleClip(clip, job, take, markers) {
    var tempo = markers ? fixClipTempo(clip, job, markers) : "unknown";
    setLive(clip, "looping", 1);
    setLive(clip, "loop_start", 0);
    setLive(clip, "loop_end", job.loopBeats);
    setLive(clip, "end_marker", job.loopBeats);
    if (tempo === "off") {
        warn(
            "Live warped take " + take + " off the bar grid: set its Seg. BPM to " + job.bpm +
            " in Clip View (its file is exactly " + job.bars + " bars at " + job.bpm + " BPM)"
        );
    } else if (tempo === "unknown") {
        post("MusicGen Bridge: take " + take + ": Live reported no warp markers, its warp was not checked\n");
    }
}

/* The file's real length in seconds: sample_length is frames (per channel, whatever the channel count)
 * at sample_rate. NaN when Live does not say. */
function fileSeconds(clip) {
    var frames = getNumber(clip, "sample_length");
    var rate = getNumber(clip, "sample_rate");
    return frames > 0 && rate > 0 ? frames / rate : NaN;
}

/* "ok", "fixed" or "off". The file is loopBeats long at job.bpm, so a right warp maps second 0 to beat 0
 * and the loop end to loopBeats. The loop end is clamped to the file's real length: a file of whole
 * frames can end up to half a frame before loopBeats * 60 / bpm, and Live refuses a warp marker past
 * the file end. */
function fixClipTempo(clip, job, markers) {
    var seconds = (job.loopBeats * 60) / job.bpm;
    var length = fileSeconds(clip);
    if (isFinite(length)) {
        seconds = Math.min(seconds, length);
    }
    if (Math.abs(secondsToBeats(markers, seconds) - job.loopBeats) <= BEAT_TOLERANCE) {
        return "ok";
    }
    markers = addWarpMarker(clip, job.loopBeats, seconds);
    if (markers && Math.abs(secondsToBeats(markers, seconds) - job.loopBeats) <= BEAT_TOLERANCE) {
        return "fixed";
    }
    return "off";
}

/* Clip.add_warp_marker takes a dict {beat_time, sample_time} (LOM). Classic [js] passes a Max Dict as
 * a dict; v8 [js] also turns a plain object into one. So: a Dict first, then a plain object if the Dict
 * did not take; each checked by reading the markers back. Returns the markers, or null. */
function addWarpMarker(clip, beat, seconds) {
    var forms = typeof Dict === "function" ? ["dict", "object"] : ["object"];
    for (var i = 0; i < forms.length; i++) {
        var arg;
        if (forms[i] === "dict") {
            arg = new Dict();
            arg.set("beat_time", beat);
            arg.set("sample_time", seconds);
        } else {
            arg = { beat_time: beat, sample_time: seconds };
        }
        callLive(clip, "add_warp_marker", arg);
        if (forms[i] === "dict" && typeof arg.freepeer === "function") {
            arg.freepeer();
        }
        var markers = readWarpMarkers(clip);
        if (markers && hasMarkerAt(markers, beat)) {
            return markers;
        }
    }
    return null;
}

function hasMarkerAt(markers, beat) {
    for (var i = 0; i < markers.length; i++) {
        if (Math.abs(markers[i].beat - beat) <= 1e-6) {
            return true;
        }
    }
    return false;
}

/* One take's fit in the daemon's words (its message), or from its status when the message is missing. */
function describeFit(fit) {
    if (fit.message) {
        return fit.message;
    }
    var played = fit.playedBpm > 0 ? " (played " + fit.playedBpm.toFixed(1) + " bpm)" : "";
    if (fit.status === ON_GRID) {
        return "on grid" + played;
    }
    if (fit.status === "beatless") {
        return "beatless (kept the generated timing)";
    }
    if (fit.status === "too_far") {
        return "too far off" + played;
    }
    if (fit.status === "off") {
        return "grid off (kept the generated timing)";
    }
    return "grid: " + (fit.status || "not reported");
}

/* For the Max window: the fit and what was measured, like the CLI's summary line. */
function fitDetails(fit) {
    var parts = [describeFit(fit)];
    if (fit.playedBpm > 0 && isFinite(fit.ratio)) {
        parts.push("stretched x" + fit.ratio.toFixed(3));
    }
    if (fit.downbeat >= 0) {
        parts.push("bar line at " + fit.downbeat.toFixed(2) + " s");
    }
    if (isFinite(fit.confidence)) {
        parts.push("confidence " + fit.confidence.toFixed(2));
    }
    return parts.join(", ");
}

/* The status line's word on the grid: take 1's fit, and for several takes how many of the others
 * landed on the grid. "" when the daemon sent no grid reply (an older daemon). */
function gridSummary(job, count) {
    var takes = [];
    for (var key in job.fits) {
        if (job.fits.hasOwnProperty(key)) {
            takes.push(Number(key));
        }
    }
    if (!takes.length) {
        return "";
    }
    takes.sort(function (a, b) {
        return a - b;
    });
    var first = takes[0];
    var text = describeFit(job.fits[first]);
    if (count < 2) {
        return text;
    }
    var others = count - 1;
    var onGrid = 0;
    for (var i = 1; i < takes.length; i++) {
        if (takes[i] <= count && job.fits[takes[i]].status === ON_GRID) {
            onGrid++;
        }
    }
    return "take " + first + " " + text + ", " + onGrid + " of " + others + " other" + (others === 1 ? "" : "s") + " on grid";
}

function doneText(job, count, text) {
    var grid = gridSummary(job, count);
    return "Done: " + (grid ? grid + "; " : "") + text;
}

function insertTakes(job, paths) {
    var many = paths.length === 1 ? "the loop" : paths.length + " takes";
    if (!paths.length) {
        warn("The daemon finished but sent no file");
        return;
    }
    forgetLiveApis();
    var outcome = { inserted: [], failed: [], reasons: [], where: "", moved: false, replaced: 0 };
    var where = DESTINATIONS[settings.destination];
    try {
        if (where === "arrangement") {
            insertArrangement(job, paths, outcome);
        } else {
            insertSession(job, paths, outcome);
        }
    } catch (e) {
        if (!e || !e.user) {
            throw e;
        }
        showPaths(paths);
        warn(doneText(job, paths.length, many + " saved but not inserted: " + e.message + ". The file is shown below"));
        return;
    }
    var note = outcome.moved ? "; placed after the clips at the insert marker, nothing overwritten" : "";
    var replaced = outcome.replaced
        ? ". Live made a new clip longer than the loop (its own tempo guess) and it replaced " + outcome.replaced +
          " clip" + (outcome.replaced === 1 ? "" : "s") + " after it: Edit > Undo brings " + (outcome.replaced === 1 ? "it" : "them") + " back"
        : "";
    if (!outcome.failed.length) {
        showPaths(paths.slice(0, 1));
        var text = doneText(job, paths.length, many + " in " + where + " on " + outcome.where + " (" + outcome.inserted.join(", ") + ")" + note);
        if (replaced) {
            warn(text + replaced);
        } else {
            say(text);
        }
        return;
    }
    showPaths(outcome.failed);
    if (!outcome.inserted.length) {
        warn(doneText(job, paths.length, many + " saved but not inserted: " + outcome.reasons[0]));
        return;
    }
    var grid = gridSummary(job, paths.length);
    warn(
        "Inserted " + outcome.inserted.length + " of " + paths.length + ": " + outcome.reasons[0] +
        ". Not inserted: the file(s) shown below" + (grid ? ". Grid: " + grid : "") + replaced
    );
}

// Helpers are not messages the patch may send (Max: function.local = 1).
(function () {
    var helpers = [
        UserError, fail, requestSpec, requestAddress, keySpec, replyVerb, replySpec, typedArg, decodeReply,
        inRange, composeRequest,
        newRequestId, send, sendReliable, acknowledge, say, warn, showPaths, clearPaths, setProgress, later, report,
        validId, liveApi, forgetLiveApis, getRaw, isList, getNumber, getString, getIds, callLive, firstNumber, setLive,
        liveVersion, round, readSong, readWarpMarkers, interpolate, beatsToSeconds, secondsToBeats, readSelectedClip,
        clipRegion, currentBars, composeGenerate, describeRequest, sayHello, noAnswerText, validPort, settlePorts,
        cancelGaveUp, sentTimes, clipName, trackIsAudio, slotIsEmpty, trackLabel, checkTrackTakesAudio, trackIndex,
        locateHighlightedSlot, sessionTarget, normalPath, samePath, isOurClip, readCreateResult, notCreatedReason,
        describeAnswer, createClip, insertSession, failRest, arrangementSpans, freePosition, insertArrangement,
        newArrangementClip, checkNothingReplaced, finishClip, settleClip, fileSeconds, fixClipTempo, addWarpMarker,
        hasMarkerAt, describeFit, fitDetails, gridSummary, doneText, insertTakes
    ];
    for (var i = 0; i < helpers.length; i++) {
        helpers[i].local = 1;
    }
})();

// BEGIN GENERATED PROTOCOL (written by `musicgen-bridge m4l build` from `musicgen-bridge protocol --json`; do not edit)
PROTOCOL = {
    "protocol": 1,
    "prefix": "/musicgen",
    "default_host": "127.0.0.1",
    "default_port": 9000,
    "default_reply_port": 9001,
    "max_datagram": 8192,
    "max_string": 1024,
    "request_id": {
        "max_length": 64,
        "pattern": "[A-Za-z0-9._:-]{1,64}"
    },
    "requests": [
        {
            "address": "/musicgen/hello",
            "verb": "hello",
            "doc": "register this client: replies (and, with watch 1, every job's news) go to reply_port",
            "args": [
                {
                    "name": "request_id",
                    "type": "string",
                    "doc": "1 to 64 characters from A-Z a-z 0-9 . _ : -"
                }
            ],
            "keys": [
                {
                    "name": "name",
                    "type": "string",
                    "required": false,
                    "default": "",
                    "max_length": 64,
                    "doc": "client name for logs and history"
                },
                {
                    "name": "reply_port",
                    "type": "int",
                    "required": false,
                    "min": 1,
                    "max": 65535,
                    "doc": "UDP port on the sender's address where replies go (overrides hello's)"
                },
                {
                    "name": "watch",
                    "type": "bool",
                    "required": false,
                    "default": 0,
                    "doc": "also receive progress/chunk/done/error of other clients' jobs"
                }
            ],
            "replies": [
                "/musicgen/welcome"
            ]
        },
        {
            "address": "/musicgen/ping",
            "verb": "ping",
            "doc": "liveness check",
            "args": [
                {
                    "name": "request_id",
                    "type": "string",
                    "doc": "1 to 64 characters from A-Z a-z 0-9 . _ : -"
                }
            ],
            "keys": [
                {
                    "name": "reply_port",
                    "type": "int",
                    "required": false,
                    "min": 1,
                    "max": 65535,
                    "doc": "UDP port on the sender's address where replies go (overrides hello's)"
                }
            ],
            "replies": [
                "/musicgen/pong"
            ]
        },
        {
            "address": "/musicgen/generate",
            "verb": "generate",
            "doc": "queue a loop; replies ack, then progress, chunk(s), and done or error",
            "args": [
                {
                    "name": "request_id",
                    "type": "string",
                    "doc": "1 to 64 characters from A-Z a-z 0-9 . _ : -"
                }
            ],
            "keys": [
                {
                    "name": "prompt",
                    "type": "string",
                    "required": false,
                    "default": "",
                    "max_length": 500,
                    "doc": "text description of the loop"
                },
                {
                    "name": "bpm",
                    "type": "float",
                    "required": true,
                    "min": 20.0,
                    "max": 400.0,
                    "doc": "song tempo, quarter notes per minute"
                },
                {
                    "name": "bars",
                    "type": "int",
                    "required": true,
                    "min": 1,
                    "max": 512,
                    "doc": "loop length in bars"
                },
                {
                    "name": "time_signature",
                    "type": "string",
                    "required": false,
                    "default": "4/4",
                    "max_length": 16,
                    "pattern": " *[0-9]{1,3} */ *[0-9]{1,3} *",
                    "doc": "e.g. 4/4, 3/4, 6/8, 7/8"
                },
                {
                    "name": "melody",
                    "type": "path",
                    "required": false,
                    "max_length": 1024,
                    "doc": "absolute path of an audio clip whose melody (chroma) steers the loop"
                },
                {
                    "name": "melody_bpm",
                    "type": "float",
                    "required": false,
                    "min": 20.0,
                    "max": 400.0,
                    "doc": "the clip's own tempo, if known: a melody's chroma is retimed and a continue source time-stretched to the song tempo"
                },
                {
                    "name": "region_start",
                    "type": "float",
                    "required": false,
                    "min": 0.0,
                    "max": 86400.0,
                    "doc": "start of the used part of the clip(s), seconds"
                },
                {
                    "name": "region_end",
                    "type": "float",
                    "required": false,
                    "min": 0.0,
                    "max": 86400.0,
                    "doc": "end of the used part of the clip(s), seconds"
                },
                {
                    "name": "continue",
                    "type": "path",
                    "required": false,
                    "max_length": 1024,
                    "doc": "absolute path of an audio clip to continue (its end prompts the model)"
                },
                {
                    "name": "prompt_seconds",
                    "type": "float",
                    "required": false,
                    "default": 4.0,
                    "min": 0.0,
                    "min_exclusive": true,
                    "max": 20.0,
                    "doc": "continuation prompt length at the song tempo: the clip's last whole beats that fit"
                },
                {
                    "name": "keep_prompt",
                    "type": "bool",
                    "required": false,
                    "default": 0,
                    "doc": "with continue: the file starts with the prompt audio"
                },
                {
                    "name": "variations",
                    "type": "int",
                    "required": false,
                    "default": 1,
                    "min": 1,
                    "max": 8,
                    "doc": "takes generated in one pass; done lists one path each"
                },
                {
                    "name": "seed",
                    "type": "int",
                    "required": false,
                    "default": -1,
                    "min": -1,
                    "max": 2147483647,
                    "doc": "random seed; -1 = pick one (recorded in the file)"
                },
                {
                    "name": "temperature",
                    "type": "float",
                    "required": false,
                    "default": 1.0,
                    "min": 0.0,
                    "max": 5.0,
                    "doc": "sampling temperature; 0 = greedy"
                },
                {
                    "name": "top_k",
                    "type": "int",
                    "required": false,
                    "default": 250,
                    "min": 0,
                    "max": 2048,
                    "doc": "top-k sampling; 0 = off"
                },
                {
                    "name": "top_p",
                    "type": "float",
                    "required": false,
                    "default": 0.0,
                    "min": 0.0,
                    "max": 1.0,
                    "doc": "nucleus sampling; 0 = off"
                },
                {
                    "name": "cfg",
                    "type": "float",
                    "required": false,
                    "default": 3.0,
                    "min": 0.0,
                    "max": 20.0,
                    "doc": "classifier-free guidance scale"
                },
                {
                    "name": "sample_rate",
                    "type": "int",
                    "required": false,
                    "default": 44100,
                    "choices": [
                        22050,
                        32000,
                        44100,
                        48000,
                        88200,
                        96000
                    ],
                    "doc": "output sample rate in Hz"
                },
                {
                    "name": "bpm_in_prompt",
                    "type": "bool",
                    "required": false,
                    "default": 1,
                    "doc": "append '<bpm> bpm' to the text the model sees"
                },
                {
                    "name": "loudness",
                    "type": "float",
                    "required": false,
                    "default": -14.0,
                    "min": -60.0,
                    "max": 0.0,
                    "doc": "integrated loudness target, LUFS"
                },
                {
                    "name": "normalize",
                    "type": "bool",
                    "required": false,
                    "default": 1,
                    "doc": "0 = skip loudness normalisation"
                },
                {
                    "name": "bit_depth",
                    "type": "string",
                    "required": false,
                    "default": "24",
                    "choices": [
                        "16",
                        "24",
                        "float"
                    ],
                    "max_length": 8,
                    "doc": "WAV sample format"
                },
                {
                    "name": "channels",
                    "type": "int",
                    "required": false,
                    "default": 0,
                    "choices": [
                        0,
                        1,
                        2
                    ],
                    "doc": "channels of the file: 0 = the model's (mono, or stereo from a stereo checkpoint), 1 = mono (a stereo take downmixed), 2 = stereo (a mono take in both channels)"
                },
                {
                    "name": "grid",
                    "type": "string",
                    "required": false,
                    "default": "on",
                    "choices": [
                        "off",
                        "on",
                        "strict"
                    ],
                    "max_length": 8,
                    "doc": "fit the take onto the song's bars: off = cut as generated, on = warp whatever tempo the model played onto the grid, strict = also generate again a take further off than grid_tolerance"
                },
                {
                    "name": "grid_shift",
                    "type": "float",
                    "required": false,
                    "default": 0.0,
                    "min": -64.0,
                    "max": 64.0,
                    "doc": "beats the bar line moves (e.g. -1, 1, half a bar) when the downbeat was found in the wrong place"
                },
                {
                    "name": "grid_margin",
                    "type": "int",
                    "required": false,
                    "default": 1,
                    "min": 1,
                    "max": 4,
                    "doc": "bars generated before and after the loop for the fit to choose from"
                },
                {
                    "name": "grid_tolerance",
                    "type": "float",
                    "required": false,
                    "default": 5.0,
                    "min": 0.5,
                    "max": 50.0,
                    "doc": "strict: percent off the song tempo a take may play and still be kept"
                },
                {
                    "name": "reply_port",
                    "type": "int",
                    "required": false,
                    "min": 1,
                    "max": 65535,
                    "doc": "UDP port on the sender's address where replies go (overrides hello's)"
                }
            ],
            "replies": [
                "/musicgen/ack",
                "/musicgen/progress",
                "/musicgen/chunk",
                "/musicgen/grid",
                "/musicgen/done",
                "/musicgen/error"
            ]
        },
        {
            "address": "/musicgen/cancel",
            "verb": "cancel",
            "doc": "cancel a queued or running job (by its request id or job id); without job: all of this client's jobs",
            "args": [
                {
                    "name": "request_id",
                    "type": "string",
                    "doc": "1 to 64 characters from A-Z a-z 0-9 . _ : -"
                }
            ],
            "keys": [
                {
                    "name": "job",
                    "type": "string",
                    "required": false,
                    "max_length": 64,
                    "doc": "request id or job id of the job to cancel"
                },
                {
                    "name": "reply_port",
                    "type": "int",
                    "required": false,
                    "min": 1,
                    "max": 65535,
                    "doc": "UDP port on the sender's address where replies go (overrides hello's)"
                }
            ],
            "replies": [
                "/musicgen/ok"
            ]
        },
        {
            "address": "/musicgen/status",
            "verb": "status",
            "doc": "daemon status, or one job's status with job",
            "args": [
                {
                    "name": "request_id",
                    "type": "string",
                    "doc": "1 to 64 characters from A-Z a-z 0-9 . _ : -"
                }
            ],
            "keys": [
                {
                    "name": "job",
                    "type": "string",
                    "required": false,
                    "max_length": 64,
                    "doc": "request id or job id"
                },
                {
                    "name": "reply_port",
                    "type": "int",
                    "required": false,
                    "min": 1,
                    "max": 65535,
                    "doc": "UDP port on the sender's address where replies go (overrides hello's)"
                }
            ],
            "replies": [
                "/musicgen/status"
            ]
        },
        {
            "address": "/musicgen/history",
            "verb": "history",
            "doc": "recent jobs, newest first, one history reply each: at most limit, and fewer when their bytes would pass the reply budget (16384 bytes per request datagram); page on with offset += count until count is 0",
            "args": [
                {
                    "name": "request_id",
                    "type": "string",
                    "doc": "1 to 64 characters from A-Z a-z 0-9 . _ : -"
                }
            ],
            "keys": [
                {
                    "name": "limit",
                    "type": "int",
                    "required": false,
                    "default": 20,
                    "min": 1,
                    "max": 100,
                    "doc": "how many jobs"
                },
                {
                    "name": "offset",
                    "type": "int",
                    "required": false,
                    "default": 0,
                    "min": 0,
                    "max": 1000000,
                    "doc": "skip this many of the newest"
                },
                {
                    "name": "reply_port",
                    "type": "int",
                    "required": false,
                    "min": 1,
                    "max": 65535,
                    "doc": "UDP port on the sender's address where replies go (overrides hello's)"
                }
            ],
            "replies": [
                "/musicgen/history"
            ]
        }
    ],
    "replies": [
        {
            "address": "/musicgen/welcome",
            "verb": "welcome",
            "doc": "answer to hello",
            "args": [
                {
                    "name": "id",
                    "type": "s",
                    "doc": "request id"
                },
                {
                    "name": "protocol",
                    "type": "i",
                    "doc": "protocol version"
                },
                {
                    "name": "version",
                    "type": "s",
                    "doc": "daemon version"
                },
                {
                    "name": "model",
                    "type": "s",
                    "doc": "loaded model"
                }
            ],
            "variadic": false
        },
        {
            "address": "/musicgen/pong",
            "verb": "pong",
            "doc": "answer to ping",
            "args": [
                {
                    "name": "id",
                    "type": "s",
                    "doc": "request id"
                }
            ],
            "variadic": false
        },
        {
            "address": "/musicgen/ack",
            "verb": "ack",
            "doc": "a generate request was accepted (also re-sent for a retransmitted request)",
            "args": [
                {
                    "name": "id",
                    "type": "s",
                    "doc": "request id"
                },
                {
                    "name": "queue_position",
                    "type": "i",
                    "doc": "jobs ahead of this one; 0 = runs now"
                },
                {
                    "name": "job",
                    "type": "s",
                    "doc": "the daemon's job id"
                }
            ],
            "variadic": false
        },
        {
            "address": "/musicgen/progress",
            "verb": "progress",
            "doc": "rate-limited (<= 20/s), monotonic, 0 when the job starts and 1 when its files are written",
            "args": [
                {
                    "name": "id",
                    "type": "s",
                    "doc": "request id"
                },
                {
                    "name": "fraction",
                    "type": "f",
                    "doc": "0..1"
                }
            ],
            "variadic": false
        },
        {
            "address": "/musicgen/chunk",
            "verb": "chunk",
            "doc": "a streamed preview chunk of take 1 was written (32 kHz WAV in the job's folder)",
            "args": [
                {
                    "name": "id",
                    "type": "s",
                    "doc": "request id"
                },
                {
                    "name": "index",
                    "type": "i",
                    "doc": "0, 1, 2, ..."
                },
                {
                    "name": "path",
                    "type": "s",
                    "doc": "absolute WAV path"
                },
                {
                    "name": "start_seconds",
                    "type": "f",
                    "doc": "where the chunk starts in the generated audio"
                }
            ],
            "variadic": false
        },
        {
            "address": "/musicgen/grid",
            "verb": "grid",
            "doc": "how one take was fitted onto the grid; sent for every take just before done",
            "args": [
                {
                    "name": "id",
                    "type": "s",
                    "doc": "request id"
                },
                {
                    "name": "take",
                    "type": "i",
                    "doc": "1, 2, ... (the order of done's paths)"
                },
                {
                    "name": "status",
                    "type": "s",
                    "doc": "on_grid, beatless (kept the generated timing), off, or too_far (strict)"
                },
                {
                    "name": "played_bpm",
                    "type": "f",
                    "doc": "tempo the model actually played; 0 when not measured"
                },
                {
                    "name": "ratio",
                    "type": "f",
                    "doc": "stretch applied: played / song tempo (1 = none)"
                },
                {
                    "name": "downbeat",
                    "type": "f",
                    "doc": "seconds into the generated take where the bar line was found; -1 if none"
                },
                {
                    "name": "confidence",
                    "type": "f",
                    "doc": "0..1, how clear the beat was"
                },
                {
                    "name": "message",
                    "type": "s",
                    "doc": "one line for the user, e.g. 'on grid (played 121.7 bpm)'"
                }
            ],
            "variadic": false
        },
        {
            "address": "/musicgen/done",
            "verb": "done",
            "doc": "the job finished: one path per variation",
            "args": [
                {
                    "name": "id",
                    "type": "s",
                    "doc": "request id"
                },
                {
                    "name": "path",
                    "type": "s",
                    "doc": "absolute WAV path"
                }
            ],
            "variadic": true
        },
        {
            "address": "/musicgen/error",
            "verb": "error",
            "doc": "a request or job failed; message starts with the field name when one is to blame",
            "args": [
                {
                    "name": "id",
                    "type": "s",
                    "doc": "request id ('' if unreadable)"
                },
                {
                    "name": "code",
                    "type": "s",
                    "doc": "one of the error codes"
                },
                {
                    "name": "message",
                    "type": "s",
                    "doc": "human-readable, <= 1000 characters"
                }
            ],
            "variadic": false
        },
        {
            "address": "/musicgen/ok",
            "verb": "ok",
            "doc": "a command without other data succeeded",
            "args": [
                {
                    "name": "id",
                    "type": "s",
                    "doc": "request id"
                },
                {
                    "name": "verb",
                    "type": "s",
                    "doc": "e.g. cancel"
                },
                {
                    "name": "count",
                    "type": "i",
                    "doc": "jobs affected"
                }
            ],
            "variadic": false
        },
        {
            "address": "/musicgen/status",
            "verb": "status",
            "doc": "key value pairs: daemon (state, queued, running, model, device, dtype, engine, version, clients, uptime, recv_buffer, and counters: datagrams, messages, errors, ignored_replies, errors_unsent, rate_limited, over_budget) or one job (job, request, state, progress, position, error)",
            "args": [
                {
                    "name": "id",
                    "type": "s",
                    "doc": "request id"
                },
                {
                    "name": "key",
                    "type": "s",
                    "doc": "then its value (s, i or f)"
                }
            ],
            "variadic": true
        },
        {
            "address": "/musicgen/history",
            "verb": "history",
            "doc": "one reply per job, newest first; count 0 with no job fields means no jobs",
            "args": [
                {
                    "name": "id",
                    "type": "s",
                    "doc": "request id"
                },
                {
                    "name": "index",
                    "type": "i",
                    "doc": "0-based"
                },
                {
                    "name": "count",
                    "type": "i",
                    "doc": "replies in this answer"
                },
                {
                    "name": "job",
                    "type": "s",
                    "doc": "job id"
                },
                {
                    "name": "request",
                    "type": "s",
                    "doc": "its request id"
                },
                {
                    "name": "state",
                    "type": "s",
                    "doc": "queued, running, done, failed, cancelled or interrupted"
                },
                {
                    "name": "created",
                    "type": "s",
                    "doc": "local time, ISO 8601"
                },
                {
                    "name": "prompt",
                    "type": "s",
                    "doc": "first 200 chars"
                },
                {
                    "name": "error",
                    "type": "s",
                    "doc": "'' or the error"
                },
                {
                    "name": "path",
                    "type": "s",
                    "doc": "absolute WAV path"
                }
            ],
            "variadic": true
        }
    ],
    "errors": {
        "bad_message": "the datagram is not a well-formed OSC message or bundle",
        "unknown_address": "no such address (see the request table)",
        "bad_argument": "an argument has the wrong type, an unknown key, or an invalid value",
        "missing_argument": "a required argument or a key's value is missing",
        "out_of_range": "a number lies outside its allowed range",
        "too_long": "a string, or the whole datagram, is longer than allowed",
        "bad_path": "an audio path is not a regular, readable audio file under the size limit",
        "queue_full": "too many jobs are waiting; try again when one finishes",
        "duplicate_id": "the request id was already used for a different request",
        "not_found": "no job with that id",
        "cancelled": "the job was cancelled",
        "interrupted": "the job was running or waiting when the daemon stopped",
        "shutting_down": "the daemon is shutting down and accepts no new jobs",
        "rate_limited": "this client sent too many requests of this kind (generate, status/history); wait a moment",
        "io_error": "a file could not be read or written (disk full, permissions, the clip vanished)",
        "model_error": "the model failed on this request",
        "out_of_memory": "the GPU (or CPU) ran out of memory on this request",
        "internal": "an unexpected error inside the daemon (see its log)"
    },
    "job_states": [
        "queued",
        "running",
        "done",
        "failed",
        "cancelled",
        "interrupted"
    ]
};
// END GENERATED PROTOCOL

settings.daemonPort = PROTOCOL.default_port;
settings.replyPort = PROTOCOL.default_reply_port;
