"use strict";
// JSON-lines runner for the official `replicate` npm client (1.4.x), used as its README shows, unchanged but for
// `baseUrl`. Run by the harness as `node replicate_js.js` with NODE_PATH naming its cached node_modules.
//
// The harness's timeout reaches the client as the `signal` option of `run` (an AbortSignal.timeout): that is the
// client's own way to bound a call. Errors are placed by what the client throws: ApiError (with the HTTP status
// of its `response`), a plain Error "Prediction failed: ..." for a failed prediction, fetch's TypeError for a
// connection that failed, and an AbortError / TimeoutError once the signal fires.

const Replicate = require("replicate");
const { validateWebhook } = require("replicate");
const { serve } = require("./jsonlines.js");

const MODEL = "bytedance/seedream-4";

function client(message) {
  return new Replicate({ auth: message.credentials.api_key, baseUrl: `${message.base_url.replace(/\/$/, "")}/v1` });
}

function options(body) {
  const picked = {};
  for (const key of ["input", "webhook", "webhook_events_filter"]) {
    if (key in body) picked[key] = body[key];
  }
  return picked;
}

function kindOfStatus(status) {
  if (status === 401 || status === 403) return "auth";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server_error";
  return "invalid_request";
}

function failure(error) {
  if (error && error.name === "ApiError" && error.response) {
    const status = error.response.status;
    return { kind: kindOfStatus(status), message: error.message, code: status, exception: "ApiError" };
  }
  if (error && (error.name === "AbortError" || error.name === "TimeoutError")) {
    return { kind: "timeout", message: error.message, exception: error.name };
  }
  if (error instanceof Error && error.message.startsWith("Prediction failed")) {
    return { kind: "generation_failed", message: error.message, exception: "Error" };
  }
  if (error instanceof TypeError && error.message === "fetch failed") {
    return { kind: "connection", message: String(error.cause || error.message), exception: "TypeError" };
  }
  const name = (error && error.constructor && error.constructor.name) || typeof error;
  return { kind: "crash", message: `${name}: ${error && error.message}`, exception: name };
}

async function image(item) {
  // A FileOutput (https: or data: output) is a ReadableStream with blob(); anything else reaches the caller as a
  // plain string URL (an http: URL, or every URL when the prediction was polled).
  if (item && typeof item.blob === "function") {
    const blob = await item.blob();
    return { base64: Buffer.from(await blob.arrayBuffer()).toString("base64") };
  }
  return { url: String(item) };
}

async function generate(message) {
  const signal = AbortSignal.timeout(Math.round(message.timeout * 1000));
  let output;
  try {
    output = await client(message).run(MODEL, { ...options(message.body), signal });
  } catch (error) {
    return { failure: failure(error) };
  }
  if (signal.aborted) {
    // run() stops polling and cancels the prediction once the signal fires, then returns its (empty) output
    // without an error: the caller has to look at the signal to know.
    return { failure: { kind: "timeout", message: "the signal fired; run() canceled the prediction" } };
  }
  try {
    return { images: await Promise.all((output || []).map(image)) };
  } catch (error) {
    return { failure: failure(error) };
  }
}

async function start(message) {
  const prediction = await client(message).predictions.create({ model: MODEL, ...options(message.body) });
  return { job_id: prediction.id };
}

async function cancel(message) {
  await client(message).predictions.cancel(message.job_id);
  return {};
}

async function wait(message) {
  const replicate = client(message);
  let prediction;
  try {
    prediction = await replicate.wait(await replicate.predictions.get(message.job_id));
  } catch (error) {
    return { failure: failure(error), job_id: message.job_id };
  }
  if (prediction.status === "canceled") {
    return { failure: { kind: "canceled", message: "the prediction was canceled" }, job_id: message.job_id };
  }
  return { images: await Promise.all((prediction.output || []).map(image)), job_id: message.job_id };
}

async function verifyWebhook(message) {
  const { key } = await client(message).webhooks.default.secret.get();
  // Node's http server hands a handler its headers as a plain object with lower-case names.
  const headers = Object.fromEntries(Object.entries(message.headers).map(([name, value]) => [name.toLowerCase(), value]));
  const body = Buffer.from(message.body_base64, "base64").toString("utf8");
  try {
    const valid = await validateWebhook({ headers, body }, key);
    return { accepted: valid === true, reason: valid ? "" : "signature mismatch" };
  } catch (error) {
    return { accepted: false, reason: error.message };
  }
}

serve("replicate-js-1.4.0", ["cancel", "webhooks"], {
  generate,
  start,
  cancel,
  wait,
  verify_webhook: verifyWebhook,
});
