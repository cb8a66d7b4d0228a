// The REST API as the page uses it: the API key as a bearer token, problem+json turned into ApiError.

export class ApiError extends Error {
  constructor(status, detail, errors = []) {
    super(detail);
    this.status = status;
    this.errors = errors; // [{field, message}]
  }
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  async request(method, path, { json, form } = {}) {
    const headers = { Authorization: `Bearer ${this.key}`, Accept: "application/json" };
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form;
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body });
    } catch {
      throw new ApiError(0, "the server cannot be reached; check your connection");
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const detail = (data && data.detail) || `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, detail, (data && data.errors) || []);
    }
    return data;
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, json) {
    return this.request("POST", path, { json });
  }

  patch(path, json) {
    return this.request("PATCH", path, { json });
  }
}

export const videoPath = (id, rest = "") => `/v1/videos/${encodeURIComponent(id)}${rest}`;
