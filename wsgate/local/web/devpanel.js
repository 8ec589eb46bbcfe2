// The developer panel: the local gateway's connections, events and usage counters (through the
// console's /dev/* routes, which read the gateway's local-only /_wsgate surface and call
// @connections signed with SigV4), plus raw frames on the chat tab's socket.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const REFRESH_MS = 2000;
  const MAX_EVENTS = 500;
  let refreshTimer = null;

  const time = (ms) => (ms ? new Date(ms).toLocaleTimeString([], { hour12: false }) : "");

  function say(text, kind = "info") {
    $("panel-message").textContent = text;
    $("panel-message").className = `panel-message ${kind}`;
  }

  async function call(path, options) {
    const response = await fetch(path, options);
    const text = await response.text();
    let body;
    try { body = JSON.parse(text); } catch { body = { message: text }; }
    if (!response.ok) throw new Error(`${response.status}: ${body.message || text}`);
    return body;
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text ?? "";
    row.append(td);
    return td;
  }

  function button(label, handler) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", handler);
    return b;
  }

  async function push(id) {
    try {
      say((await call(`dev/connections/${id}`, { method: "POST", body: $("push-data").value })).message);
    } catch (error) { say(`push failed: ${error.message}`, "error"); }
  }

  async function kick(id) {
    try {
      say((await call(`dev/connections/${id}`, { method: "DELETE" })).message);
    } catch (error) { say(`kick failed: ${error.message}`, "error"); }
    refresh();
  }

  async function refreshConnections() {
    const { connections } = await call("dev/connections");
    const body = $("connections").tBodies[0];
    body.replaceChildren();
    for (const c of connections) {
      const row = document.createElement("tr");
      row.dataset.connectionId = c.connectionId;
      row.dataset.user = c.user ?? "";
      cell(row, c.connectionId).className = "id";
      cell(row, c.user);
      cell(row, c.room ?? "—");
      cell(row, time(c.connectedAt));
      cell(row, time(c.lastActiveAt));
      const actions = cell(row, "");
      actions.append(button("Push", () => push(c.connectionId)),
                     button("Kick", () => kick(c.connectionId)));
      body.append(row);
    }
    $("connection-count").textContent = `(${connections.length})`;
  }

  function usageRow(body, label, values) {
    const row = document.createElement("tr");
    cell(row, label).className = "label";
    cell(row, values);
    body.append(row);
  }

  const tokens = (b) => (b ? `burst ${b.burst}, rate ${b.rate}/s, ${Math.floor(b.tokensLeft)} tokens left` : "none");

  async function refreshUsage() {
    const usage = await call("dev/usage");
    const body = $("usage").tBodies[0];
    body.replaceChildren();
    usageRow(body, "stage default", tokens(usage.stage.default));
    for (const [route, bucket] of Object.entries(usage.stage.routes)) usageRow(body, `route ${route}`, tokens(bucket));
    for (const plan of usage.usagePlans) {
      for (const key of plan.keys) {
        const quota = plan.quotaLimit === null
          ? "no quota"
          : `quota ${key.quotaLeft} of ${plan.quotaLimit} left this ${String(plan.quotaPeriod).toLowerCase()}`;
        const bucket = plan.burst === null ? "no throttle"
          : `burst ${plan.burst}, rate ${plan.rate}/s, ${Math.floor(key.tokensLeft)} tokens left`;
        usageRow(body, `plan ${plan.name} key ${key.key}`, `${bucket}; ${quota}`);
      }
    }
  }

  async function refresh() {
    try {
      await Promise.all([refreshConnections(), refreshUsage()]);
    } catch (error) { say(`panel refresh failed: ${error.message}`, "error"); }
  }

  function describe(e) {
    const parts = [e.kind];
    if (e.user) parts.push(e.user);
    if (e.route) parts.push(e.route);
    if (e.status !== undefined && e.status !== null) parts.push(`status ${e.status}`);
    if (e.latencyMs !== undefined) parts.push(`${e.latencyMs} ms`);
    if (e.code !== undefined) parts.push(`code ${e.code}`);
    if (e.reason) parts.push(e.reason);
    if (e.problems) parts.push(e.problems.join("; "));
    if (e.error) parts.push(e.error);
    if (e.preview) parts.push(e.preview);
    return parts.join(" · ");
  }

  function addEvent(e) {
    const item = document.createElement("li");
    item.className = `event ${e.kind}`;
    item.dataset.kind = e.kind;
    item.dataset.connectionId = e.connectionId;
    const at = document.createElement("time");
    at.textContent = time(e.at);
    const id = document.createElement("span");
    id.className = "id";
    id.textContent = e.connectionId;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = describe(e);
    item.append(at, id, text);
    const list = $("events");
    list.append(item);
    while (list.children.length > MAX_EVENTS) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
    if (e.kind === "connect" || e.kind === "disconnect") refresh();
  }

  const events = new EventSource("dev/events");
  events.addEventListener("gateway", (message) => addEvent(JSON.parse(message.data)));
  events.onerror = () => say("event stream interrupted; the browser retries on its own", "error");
  events.onopen = () => say("event stream connected");

  function selectTab(name) {
    for (const tab of ["chat", "dev"]) {
      $(tab).hidden = tab !== name;
      $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    }
    clearInterval(refreshTimer);
    if (name === "dev") {
      refresh();
      refreshTimer = setInterval(refresh, REFRESH_MS);
    }
  }

  $("tab-chat").addEventListener("click", () => selectTab("chat"));
  $("tab-dev").addEventListener("click", () => selectTab("dev"));
  $("clear-events").addEventListener("click", () => $("events").replaceChildren());
  $("raw-form").addEventListener("submit", (event) => {
    event.preventDefault();
    say(window.wsgateChat.sendRaw($("raw-frame").value) ? "raw frame sent" : "not connected", "info");
  });
})();
