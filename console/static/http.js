// http.js: one JSON request to notifyd, and the error it answers, for
// admin.js (a publisher's calls; a user's go through notifyd.js).

/** An error of a REST call or a command: status (HTTP) or code (websocket). */
export class NotifydError extends Error {
  constructor(message, { status = 0, code = "", field = "" } = {}) {
    super(message);
    this.name = "NotifydError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/**
 * request fetches url with the bearer token (when given) and body as JSON
 * (when given); it resolves to the decoded answer (null when not JSON) and
 * rejects with a NotifydError carrying the server's message and status.
 */
export async function request(method, url, { token = "", body } = {}) {
  const init = { method, headers: {}, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" };
  if (token) init.headers.Authorization = "Bearer " + token;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(url, init);
  } catch {
    throw new NotifydError("the server cannot be reached");
  }
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const msg = (data && typeof data.message === "string" && data.message) || resp.statusText || "request failed";
    const field = data && typeof data.field === "string" ? data.field : "";
    throw new NotifydError(field ? msg + " (" + field + ")" : msg, { status: resp.status, field });
  }
  return data;
}
