/*
 * musicgen_bridge.js - the [js] object of the "MusicGen Bridge" Max for Live device.
 *
 * Ableton Live -> daemon: on Generate it reads the song tempo and time signature (and, for Melody and
 * Continue, the clip selected in Clip View: its file, the region that plays, the clip's own tempo) and
 * sends /musicgen/generate over [udpsend]. Daemon -> Live: replies arrive from [udpreceive @defer 1];
 * /musicgen/grid says how each take was fitted onto the song's grid (shown on the status line with the
 * result); on /musicgen/done it creates the clip(s) in Session or Arrangement (Live 12.0.5+), names them
 * after the prompt, turns warping and looping on. Where Live cannot do that (Live 11, MIDI or frozen track,
 * no empty slot) the status line says why and the file path is shown - never a silent failure.
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
var INSERT_MIN_VERSION = [12, 0, 5]; // ClipSlot/Track.create_audio_clip appeared in Live 12.0.5
var CONNECT_TIMEOUT_MS = 2500; // no welcome after hello => say the daemon is not answering
var ACK_TIMEOUT_MS = 4000; // no ack after generate => same
var WARP_CHECK_DELAY_MS = 400; // Live defers "warping" and analyses new clips asynchronously
var BEAT_TOLERANCE = 0.01; // beats: how far Live's warp may put the loop end from the bar line
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
    welcome: null
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

function liveApi(path) {
    var api;
    try {
        api = new LiveAPI(path);
    } catch (e) {
        return null;
    }
    return api && validId(api.id) ? api : null;
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

function compareVersion(a, b) {
    for (var i = 0; i < 3; i++) {
        if (a[i] !== b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    return 0;
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

function daemon_port(p) {
    var n = validPort(p);
    if (n && n !== settings.daemonPort) {
        settings.daemonPort = n;
        if (state.ready) {
            outlet(OUTLET_OSC, "port", n);
            state.connected = false;
            sayHello();
        }
    }
}

function reply_port(p) {
    var n = validPort(p);
    if (n && n !== settings.replyPort) {
        settings.replyPort = n;
        if (state.ready) {
            outlet(OUTLET_RECEIVE, "port", n);
            state.connected = false;
            sayHello();
        }
    }
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
        send(msg, "generate");
        setProgress(0);
        clearPaths();
        var note = req.region && req.region.note ? " (" + req.region.note + ")" : "";
        say("Requested " + describeRequest(req) + note + "...");
        later(ACK_TIMEOUT_MS, function () {
            if (state.jobs[id] && !state.jobs[id].acked) {
                warn(noAnswerText());
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
        send(composeRequest("cancel", newRequestId(), ["job", ids[i], "reply_port", settings.replyPort]), "cancel");
    }
    say("Cancelling " + ids.length + " job" + (ids.length === 1 ? "" : "s") + "...");
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
        REPLY_HANDLERS[verb](decodeReply(verb, args));
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

function insertSession(job, paths, outcome) {
    var target = sessionTarget(paths.length);
    var label = trackLabel(target.track);
    for (var i = 0; i < paths.length; i++) {
        if (i >= target.scenes.length) {
            outcome.failed.push(paths[i]);
            outcome.reasons.push(
                "no empty clip slot left on " + label + " from scene " + (target.from + 1) + " down: add a scene or clear a slot"
            );
            continue;
        }
        var base = "live_set tracks " + target.trackIndex + " clip_slots " + target.scenes[i];
        callLive(liveApi(base), "create_audio_clip", paths[i]);
        var clip = liveApi(base + " clip");
        if (!clip) {
            outcome.failed.push(paths[i]);
            outcome.reasons.push("Live did not create the clip on " + label + " (needs Live 12.0.5+ and an unfrozen audio track)");
            continue;
        }
        finishClip(clip, job, i + 1);
        outcome.inserted.push("scene " + (target.scenes[i] + 1));
    }
    outcome.where = label;
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
    var position = getNumber(song, "start_time"); // the insert marker
    if (!isFinite(position)) {
        position = getNumber(song, "current_song_time");
    }
    if (!isFinite(position) || position < 0) {
        position = 0;
    }
    var label = trackLabel(track);
    for (var i = 0; i < paths.length; i++) {
        var at = position + i * job.loopBeats; // takes follow each other
        var before = getIds(track, "arrangement_clips");
        var result = callLive(track, "create_audio_clip", paths[i], at);
        var after = getIds(track, "arrangement_clips");
        var clip = null;
        for (var k = 0; k < after.length && !clip; k++) {
            if (before.indexOf(after[k]) < 0) {
                clip = liveApi("live_set tracks " + index + " arrangement_clips " + k);
            }
        }
        if (!clip && validId(firstNumber(result))) {
            clip = liveApi("id " + firstNumber(result));
        }
        if (!clip) {
            outcome.failed.push(paths[i]);
            outcome.reasons.push("Live did not create the clip on " + label + " (needs Live 12.0.5+ and an unfrozen audio track)");
            continue;
        }
        finishClip(clip, job, i + 1);
        outcome.inserted.push("beat " + round(at, 3));
    }
    outcome.where = label;
}

/* Name the new clip after the prompt, turn warping on; once Live has analysed it, set it looping over
 * the whole loop and check the warp puts the file end on the bar line (fixing it if Live guessed the
 * tempo wrong). */
function finishClip(clip, job, take) {
    setLive(clip, "name", clipName(job, take));
    setLive(clip, "warping", 1);
    later(WARP_CHECK_DELAY_MS, function () {
        var tempo = fixClipTempo(clip, job);
        setLive(clip, "looping", 1);
        setLive(clip, "loop_start", 0);
        setLive(clip, "loop_end", job.loopBeats);
        setLive(clip, "end_marker", job.loopBeats);
        if (tempo === "off") {
            warn(
                "Live warped take " + take + " off the bar grid: set its Seg. BPM to " + job.bpm +
                " in Clip View (its file is exactly " + job.bars + " bars at " + job.bpm + " BPM)"
            );
        }
    });
}

/* "ok", "fixed", "off" or "unknown". The file is exactly loopBeats long at job.bpm, so a right warp
 * maps second 0 to beat 0 and the file end to loopBeats. */
function fixClipTempo(clip, job) {
    var seconds = (job.loopBeats * 60) / job.bpm;
    var markers = readWarpMarkers(clip);
    if (!markers) {
        return "unknown";
    }
    if (Math.abs(secondsToBeats(markers, seconds) - job.loopBeats) <= BEAT_TOLERANCE) {
        return "ok";
    }
    callLive(clip, "add_warp_marker", { beat_time: job.loopBeats, sample_time: seconds });
    markers = readWarpMarkers(clip);
    if (markers && Math.abs(secondsToBeats(markers, seconds) - job.loopBeats) <= BEAT_TOLERANCE) {
        return "fixed";
    }
    return "off";
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
    var version = liveVersion();
    if (version && compareVersion(version, INSERT_MIN_VERSION) < 0) {
        showPaths(paths);
        warn(
            doneText(job, paths.length, many + " saved. Live " + version.join(".") + " cannot put audio on the timeline from Max for Live " +
            "(Live 12.0.5+ can): drag the file shown below into Live, or use the desktop panel")
        );
        return;
    }
    var outcome = { inserted: [], failed: [], reasons: [], where: "" };
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
    if (!outcome.failed.length) {
        showPaths(paths.slice(0, 1));
        say(doneText(job, paths.length, many + " in " + where + " on " + outcome.where + " (" + outcome.inserted.join(", ") + ")"));
        return;
    }
    showPaths(outcome.failed);
    var grid = gridSummary(job, paths.length);
    warn(
        "Inserted " + outcome.inserted.length + " of " + paths.length + ": " + outcome.reasons[0] +
        ". Not inserted: the file(s) shown below" + (grid ? ". Grid: " + grid : "")
    );
}

// Helpers are not messages the patch may send (Max: function.local = 1).
(function () {
    var helpers = [
        UserError, fail, requestSpec, requestAddress, keySpec, replyVerb, replySpec, typedArg, decodeReply,
        inRange, composeRequest,
        newRequestId, send, say, warn, showPaths, clearPaths, setProgress, later, report, validId, liveApi, getRaw,
        isList, getNumber, getString, getIds, callLive, firstNumber, setLive, liveVersion, compareVersion,
        round, readSong, readWarpMarkers, interpolate, beatsToSeconds, secondsToBeats, readSelectedClip,
        clipRegion, currentBars, composeGenerate, describeRequest, sayHello, noAnswerText, validPort,
        clipName, trackIsAudio, slotIsEmpty, trackLabel, checkTrackTakesAudio, trackIndex, locateHighlightedSlot,
        sessionTarget, insertSession, insertArrangement, finishClip, fixClipTempo, describeFit, fitDetails,
        gridSummary, doneText, insertTakes
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
            "doc": "recent jobs, newest first, one history reply each",
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
            "doc": "key value pairs: daemon (state, queued, running, model, device, dtype, engine, version, clients, uptime) or one job (job, request, state, progress, position, error)",
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
