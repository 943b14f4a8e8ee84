"use strict";
// JSON-lines runner for the official npm `@fal-ai/client` (1.10.x), pointed at the emulator only through its
// documented `proxyUrl` setting: each request goes to `{base_url}/proxy` with the real fal URL in
// `x-fal-target-url`. The proxy applies only in browsers unless told otherwise, so it is given in its object form
// with `when: "always"`. Run by the harness as `node fal_js.js` with NODE_PATH naming its cached node_modules.
//
// The harness's timeout reaches the client as subscribe's own `timeout` (it cancels the request and rejects).
// Failures are placed by the HTTP status of the ApiError and by the step that met it: the submit, a status poll,
// or the result (where fal answers a failed app with its error).

const { createFalClient } = require("@fal-ai/client");
const { serve } = require("./jsonlines.js");

const clients = new Map();

function client(message) {
  const key = `${message.base_url}\n${message.credentials.api_key}`;
  if (!clients.has(key)) {
    const proxy = `${message.base_url.replace(/\/$/, "")}/proxy`;
    clients.set(key, createFalClient({ credentials: message.credentials.api_key, proxyUrl: { url: proxy, when: "always" } }));
  }
  return clients.get(key);
}

function kindOfStatus(status, step) {
  if (status === 401 || status === 403) return "auth";
  if (status === 429) return "rate_limited";
  if (status === 499) return "canceled";
  if (step === "result" && (status === 422 || status >= 500)) return "generation_failed";
  if (status >= 500) return "server_error";
  return "invalid_request";
}

function failure(error, step) {
  if (error && typeof error.status === "number" && (error.name === "ApiError" || error.name === "ValidationError")) {
    const detail = error.body && error.body.detail;
    const message = typeof detail === "string" ? detail : JSON.stringify(detail || error.message);
    return { kind: kindOfStatus(error.status, step), message, code: error.status, exception: error.name };
  }
  if (error instanceof Error && error.message.startsWith("Client timed out")) {
    return { kind: "timeout", message: error.message, exception: "Error" };
  }
  if (error && (error.name === "AbortError" || error.name === "TimeoutError")) {
    return { kind: "timeout", message: error.message, exception: error.name };
  }
  if (error instanceof TypeError && error.message === "fetch failed") {
    return { kind: "connection", message: String(error.cause || error.message), exception: "TypeError" };
  }
  const name = (error && error.constructor && error.constructor.name) || typeof error;
  return { kind: "crash", message: `${name}: ${error && error.message}`, exception: name };
}

function request(message) {
  const body = message.body || {};
  const options = { input: body.input || {} };
  const webhook = body.webhook || message.webhook_url;
  if (webhook) options.webhookUrl = webhook;
  return { app: body.app, options };
}

function images(data) {
  return data.images.map((image) => ({ url: image.url }));
}

async function generate(message) {
  const { app, options } = request(message);
  if (typeof app !== "string") {
    return { failure: { kind: "invalid_request", message: "@fal-ai/client needs an endpoint id" } };
  }
  const fal = client(message);
  const step = { name: "submit", requestId: null };
  try {
    // subscribe() is submit, then polling the status, then the result: its callbacks tell which step failed.
    const result = await fal.subscribe(app, {
      ...options,
      timeout: Math.round(message.timeout * 1000),
      onEnqueue: (requestId) => {
        step.name = "poll";
        step.requestId = requestId;
      },
      onQueueUpdate: (status) => {
        if (status.status === "COMPLETED") step.name = "result";
      },
    });
    return { images: images(result.data), job_id: result.requestId || step.requestId };
  } catch (error) {
    return { failure: failure(error, step.name), job_id: step.requestId };
  }
}

async function start(message) {
  const { app, options } = request(message);
  const queued = await client(message).queue.submit(app, options);
  return { job_id: queued.request_id };
}

async function cancel(message) {
  await client(message).queue.cancel(request(message).app, { requestId: message.job_id });
  return {};
}

async function wait(message) {
  const { app } = request(message);
  const fal = client(message);
  let step = "poll";
  try {
    const timeout = Math.round(message.timeout * 1000);
    await fal.queue.subscribeToStatus(app, { requestId: message.job_id, timeout });
    step = "result";
    const result = await fal.queue.result(app, { requestId: message.job_id });
    return { images: images(result.data), job_id: message.job_id };
  } catch (error) {
    return { failure: failure(error, step), job_id: message.job_id };
  }
}

serve("fal-ai-client-js-1.10.1", ["cancel"], { generate, start, cancel, wait });
