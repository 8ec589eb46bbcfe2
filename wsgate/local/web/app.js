// The wsgate browser client. A browser cannot set headers on a WebSocket handshake, so it sends
// its token in the `token` query string, and the API key comes from the authorizer
// (usageIdentifierKey, from the token's apiKey claim). No build step: plain DOM code.
"use strict";

const $ = (id) => document.getElementById(id);
let socket = null;
let session = null; // {user, token, websocketUrl}
let currentRoom = null;
let wantOpen = false;
let retryDelayMs = 500;

function show(text, kind, from) {
  const item = document.createElement("li");
  item.className = kind;
  if (from) {
    const who = document.createElement("span");
    who.className = "from";
    who.textContent = from;
    item.append(who);
  }
  item.append(document.createTextNode(text));
  $("log").append(item);
  $("log").scrollTop = $("log").scrollHeight;
}

function setOnline(online) {
  $("status").textContent = online ? `online as ${session.user}` : "offline";
  $("status").className = `status ${online ? "online" : "offline"}`;
  $("join").hidden = !online;
  $("send").hidden = !online;
  $("login").hidden = online || wantOpen;
}

function render(frame) {
  switch (frame.type) {
    case "message":
      show(frame.message, "message", frame.from);
      break;
    case "joined":
      if (frame.user === session.user && frame.room) currentRoom = frame.room;
      show(frame.user === session.user ? `you joined ${frame.room}` : `${frame.user} joined ${frame.room}`,
           "notice");
      break;
    case "help":
      show(`${frame.message} ${JSON.stringify(frame.actions)}`, "notice");
      break;
    case "error":
      show(frame.message, "error");
      break;
    default:
      // API Gateway's own error frames: {"message": "...", "connectionId": ..., "requestId": ...}
      show(frame.message || JSON.stringify(frame), frame.connectionId ? "error" : "notice");
  }
}

function open() {
  const url = `${session.websocketUrl}?token=${encodeURIComponent(session.token)}`;
  socket = new WebSocket(url);
  socket.onopen = () => {
    retryDelayMs = 500;
    setOnline(true);
    show("connected", "notice");
    if (currentRoom) socket.send(JSON.stringify({ action: "joinroom", roomname: currentRoom }));
  };
  socket.onmessage = (event) => {
    try { render(JSON.parse(event.data)); } catch { show(event.data, "notice"); }
  };
  socket.onclose = (event) => {
    setOnline(false);
    show(`disconnected (${event.code})`, "notice");
    if (wantOpen) {
      setTimeout(open, retryDelayMs);
      retryDelayMs = Math.min(retryDelayMs * 2, 10000);
    }
  };
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const user = $("name").value.trim();
  const response = await fetch(`dev/token?user=${encodeURIComponent(user)}`);
  if (!response.ok) { show(`could not get a token: ${await response.text()}`, "error"); return; }
  session = { user, ...(await response.json()) };
  wantOpen = true;
  open();
});

$("join").addEventListener("submit", (event) => {
  event.preventDefault();
  socket.send(JSON.stringify({ action: "joinroom", roomname: $("room").value.trim() }));
});

$("send").addEventListener("submit", (event) => {
  event.preventDefault();
  socket.send(JSON.stringify({ action: "sendmessage", message: $("message").value }));
  $("message").value = "";
});

$("disconnect").addEventListener("click", () => {
  wantOpen = false;
  socket.close(1000, "bye");
});
