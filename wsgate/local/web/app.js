// The wsgate browser client. A browser cannot set headers on a WebSocket handshake, so it sends
// its token in the `token` query string, and the API key comes from the authorizer
// (usageIdentifierKey, from the token's apiKey claim). No build step: plain DOM code.
"use strict";

const $ = (id) => document.getElementById(id);
const ROSTER_POLL_MS = 1500;

const state = {
  socket: null,
  session: null, // {user, token, websocketUrl}
  room: null,
  wantOpen: false, // set before the token request, so a second Connect is ignored at once
  retryDelayMs: 500,
  roster: null, // Set of users in the room, from the local console's view of the table
  rosterTimer: null,
};

function clock(epochMs) {
  return new Date(epochMs ?? Date.now()).toLocaleTimeString([], { hour12: false });
}

function show(text, kind, { from, at, title } = {}) {
  const item = document.createElement("li");
  item.className = kind;
  const time = document.createElement("time");
  time.dateTime = new Date(at ?? Date.now()).toISOString();
  time.textContent = clock(at);
  item.append(time);
  if (from) {
    const who = document.createElement("span");
    who.className = "from";
    who.textContent = from;
    item.append(who);
  }
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  item.append(body);
  if (title) item.title = title;
  $("log").append(item);
  $("log").scrollTop = $("log").scrollHeight;
}

function isOnline() {
  return state.socket !== null && state.socket.readyState === WebSocket.OPEN;
}

function setOnline(online) {
  const connecting = state.wantOpen && !online;
  $("status").textContent = online
    ? `online as ${state.session.user}`
    : connecting ? "connecting…" : "offline";
  $("status").className = `status ${online ? "online" : connecting ? "connecting" : "offline"}`;
  $("join-controls").disabled = !online;
  $("send-controls").disabled = !online;
  $("raw-controls").disabled = !online;
  $("connect").disabled = state.wantOpen;
  $("name").disabled = state.wantOpen;
  $("disconnect").disabled = !state.wantOpen;
}

// -- members ------------------------------------------------------------------------------

function renderMembers() {
  $("members-title").textContent = state.room ? `Members of ${state.room}` : "Not in a room";
  const list = $("member-list");
  list.replaceChildren();
  for (const user of [...(state.roster ?? [])].sort()) {
    const item = document.createElement("li");
    item.textContent = user === state.session?.user ? `${user} (you)` : user;
    list.append(item);
  }
}

function addMember(user) {
  if (state.roster === null) state.roster = new Set();
  state.roster.add(user);
  renderMembers();
}

// The service announces joins but not departures: the roster of the room (the connections
// table, read by the local console) tells who left, by difference with the previous one.
async function pollRoster() {
  const room = state.room;
  if (!room) return;
  let members;
  try {
    const response = await fetch(`dev/rooms/${encodeURIComponent(room)}`);
    if (!response.ok) return;
    members = new Set((await response.json()).members.map((m) => m.user));
  } catch {
    return;
  }
  if (room !== state.room) return;
  if (state.roster !== null && isOnline()) {
    for (const user of state.roster) {
      if (!members.has(user) && user !== state.session.user) {
        show(`${user} left ${room}`, "notice leave");
      }
    }
  }
  state.roster = members;
  renderMembers();
}

function enterRoom(room) {
  if (state.room !== room) state.roster = null;
  state.room = room;
  clearInterval(state.rosterTimer);
  state.rosterTimer = setInterval(pollRoster, ROSTER_POLL_MS);
  pollRoster();
}

// -- frames -------------------------------------------------------------------------------

function render(frame) {
  const me = state.session.user;
  switch (frame.type) {
    case "message":
    case "broadcast":
      if (frame.room && frame.room === state.room) addMember(frame.from);
      show(frame.message, frame.type, { from: frame.from, at: frame.sentAt });
      break;
    case "joined":
      if (frame.user === me && frame.room) enterRoom(frame.room);
      if (frame.room === state.room) addMember(frame.user);
      show(frame.user === me ? `you joined ${frame.room}` : `${frame.user} joined ${frame.room}`,
           "notice join");
      break;
    case "help":
      show(`${frame.message}`, "notice");
      break;
    case "error":
      show(frame.message, "error");
      break;
    default:
      // API Gateway's own error frames: {"message": "...", "connectionId": ..., "requestId": ...}
      if (typeof frame.message === "string") {
        const title = frame.requestId ? `request id ${frame.requestId}` : undefined;
        show(frame.message, frame.connectionId ? "error" : "notice", { title });
      } else {
        show(JSON.stringify(frame), "notice");
      }
  }
}

function open() {
  const url = `${state.session.websocketUrl}?token=${encodeURIComponent(state.session.token)}`;
  const socket = new WebSocket(url);
  state.socket = socket;
  socket.onopen = () => {
    state.retryDelayMs = 500;
    setOnline(true);
    show("connected", "notice");
    if (state.room) socket.send(JSON.stringify({ action: "joinroom", roomname: state.room }));
  };
  socket.onmessage = (event) => {
    let frame;
    try { frame = JSON.parse(event.data); } catch { show(event.data, "notice"); return; }
    render(frame);
  };
  socket.onclose = (event) => {
    if (state.socket !== socket) return;
    state.socket = null;
    setOnline(false);
    show(`disconnected (${event.code}${event.reason ? ` ${event.reason}` : ""})`, "notice");
    if (state.wantOpen) {
      setTimeout(() => { if (state.wantOpen && state.socket === null) open(); }, state.retryDelayMs);
      state.retryDelayMs = Math.min(state.retryDelayMs * 2, 10000);
    }
  };
}

async function errorText(response) {
  const text = await response.text();
  try { return JSON.parse(text).message || text; } catch { return text; }
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (state.wantOpen) return; // already connected or connecting: one socket per page
  const user = $("name").value.trim();
  state.wantOpen = true;
  setOnline(false);
  try {
    const response = await fetch(`dev/token?user=${encodeURIComponent(user)}`);
    if (!response.ok) throw new Error(await errorText(response));
    state.session = { user, ...(await response.json()) };
  } catch (error) {
    state.wantOpen = false;
    setOnline(false);
    show(`could not get a token: ${error.message}`, "error");
    return;
  }
  open();
});

$("join").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!isOnline()) return;
  state.socket.send(JSON.stringify({ action: "joinroom", roomname: $("room").value.trim() }));
});

$("send").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!isOnline()) return;
  state.socket.send(JSON.stringify({ action: "sendmessage", message: $("message").value }));
  $("message").value = "";
});

$("disconnect").addEventListener("click", () => {
  state.wantOpen = false;
  clearInterval(state.rosterTimer);
  if (state.socket) state.socket.close(1000, "bye");
  setOnline(false);
});

// The developer panel sends raw frames on this page's socket.
window.wsgateChat = {
  isOnline,
  sendRaw(text) {
    if (!isOnline()) return false;
    state.socket.send(text);
    return true;
  },
};

setOnline(false);
