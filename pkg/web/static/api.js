// api.js talks to the Second Me HTTP API (same origin, session cookie).

/**
 * ApiError carries the JSON error of the API: status, code, message and the fields at fault, and for
 * a 429 the seconds its Retry-After asks to wait (0 when it names none).
 */
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const e = (body && body.error) || {};
    super(e.message || `request failed (${status})`);
    this.status = status;
    this.code = e.code || "unknown";
    this.fields = e.fields || {};
    this.retryAfter = Number(retryAfter) || 0;
  }
}

/** call sends a request and returns the decoded JSON (null for 204). */
export async function call(method, path, body) {
  const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch {
    throw new ApiError(0, { error: { code: "offline", message: "Cannot reach Second Me. Check your connection." } });
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw new ApiError(res.status, data, res.headers.get("Retry-After"));
  return data;
}

export const get = (p) => call("GET", p);
export const post = (p, b) => call("POST", p, b);
export const put = (p, b) => call("PUT", p, b);
export const patch = (p, b) => call("PATCH", p, b);
export const del = (p) => call("DELETE", p);

/** items returns the list of a page response, whatever its key. */
export function items(page, key) {
  if (!page) return [];
  if (Array.isArray(page)) return page;
  return page[key] || page.items || [];
}

/** nextCursor returns the cursor of the next page, "" on the last. */
export function nextCursor(page) {
  return (page && (page.nextCursor || page.next || page.cursor)) || "";
}

/**
 * stream posts a chat turn to the SSE endpoint and calls on[event](data) for each event
 * (session, delta, done, error). It resolves when the stream ends.
 */
export async function stream(path, body, on, signal) {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, data, res.headers.get("Retry-After"));
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let event = "message";
  let data = [];
  const dispatch = () => {
    if (data.length) {
      let payload = data.join("\n");
      try { payload = JSON.parse(payload); } catch { /* plain text */ }
      (on[event] || (() => {}))(payload);
    }
    event = "message";
    data = [];
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.search(/\r?\n/)) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + (buf[i] === "\r" ? 2 : 1));
      if (line === "") dispatch();
      else if (line.startsWith(":")) continue;
      else {
        const c = line.indexOf(":");
        const field = c < 0 ? line : line.slice(0, c);
        let val = c < 0 ? "" : line.slice(c + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (field === "event") event = val;
        else if (field === "data") data.push(val);
      }
    }
  }
  dispatch();
}

/** newId returns a random id for clientMessageId (idempotent retries). */
export function newId() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
