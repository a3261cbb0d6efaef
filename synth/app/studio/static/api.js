// Requests to the studio's server: JSON in, JSON out; the cookie carries the token.
export const status = (text, isError = false) => {
  const el = document.getElementById("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
};

export async function api(path, body, options = {}) {
  const init = { credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.method = "POST";
    if (body instanceof Blob || body instanceof ArrayBuffer) {
      init.body = body;
      init.headers["Content-Type"] = "application/octet-stream";
    } else {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
  }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) {
    status(data.error || `HTTP ${response.status}`, true);
    if (!options.quiet) throw new Error(data.error);
  }
  return data;
}
