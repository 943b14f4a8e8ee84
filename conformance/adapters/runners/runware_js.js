"use strict";
// JSON-lines runner for the official `@runware/sdk-js` (1.3.x) over its WebSocket, unchanged but for `url`.
// Run by the harness as `node runware_js.js` with NODE_PATH naming its cached node_modules.
//
// The harness's timeout becomes the client's `timeoutDuration` (one client per base URL, key and timeout).
// `imageInference` waits on the socket for `numberResults` images; with `deliveryMethod: "async"` it resolves
// with the server's acknowledgement instead, and the caller polls `getResponse` (as the Runware docs show) until
// every item of the task is a success. The client rejects with the server's error object ({error: {code, ...}}),
// with a bare string when its own wait runs out, and with an Error when it cannot (re)connect.

const { Runware } = require("@runware/sdk-js");
const { serve } = require("./jsonlines.js");

const POLL_INTERVAL_MS = 1000;
const OUTPUTS = [
  ["imageURL", "url"],
  ["imageDataURI", "url"],
  ["imageBase64Data", "base64"],
];
const clients = new Map();

function client(message) {
  const url = message.base_url.replace(/^http/, "ws");
  const timeoutDuration = Math.round(message.timeout * 1000);
  const key = JSON.stringify([url, message.credentials.api_key, timeoutDuration]);
  if (!clients.has(key)) {
    clients.set(key, new Runware({ apiKey: message.credentials.api_key, url, timeoutDuration }));
  }
  return clients.get(key);
}

function kindOfCode(code) {
  if (["invalidApiKey", "missingApiKey", "forbidden", "insufficientCredits"].includes(code)) return "auth";
  if (code === "rateLimitExceeded") return "rate_limited";
  if (["internalServerError", "serviceUnavailable"].includes(code)) return "server_error";
  if (code === "timeoutProvider") return "timeout";
  if (code === "taskCancelled") return "canceled";
  if (/^(invalid|missing|unsupported|conflict)/.test(code)) return "invalid_request";
  return "generation_failed"; // providerError, contentPolicyViolation, taskFailedOrNotFound, ...
}

function failure(error) {
  if (error && typeof error === "object" && error.error && typeof error.error.code === "string") {
    const { code, message } = error.error;
    return { kind: kindOfCode(code), message: `${code}: ${message}`, code };
  }
  if (typeof error === "string" && error.startsWith("Response could not be received")) {
    return { kind: "timeout", message: error };
  }
  if (error instanceof Error && /WebSocket|connect/i.test(error.message)) {
    return { kind: "connection", message: error.message, exception: error.constructor.name };
  }
  const name = (error && error.constructor && error.constructor.name) || typeof error;
  const text = error instanceof Error ? error.message : JSON.stringify(error);
  return { kind: "crash", message: `${name}: ${text}`, exception: name };
}

function images(items) {
  const found = [];
  for (const item of items || []) {
    for (const [field, kind] of OUTPUTS) {
      if (item[field]) {
        found.push({ [kind]: item[field] });
        break;
      }
    }
  }
  return found;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function poll(runware, taskUUID, deadline) {
  while (Date.now() < deadline) {
    const items = (await runware.getResponse({ taskUUID })) || [];
    if (items.length > 0 && items.every((item) => item.status === "success")) return items;
    await sleep(POLL_INTERVAL_MS);
  }
  throw "Response could not be received from server for getResponse polling";
}

async function generate(message) {
  const runware = client(message);
  const deadline = Date.now() + message.timeout * 1000;
  const task = { ...message.body };
  try {
    const items = await runware.imageInference(task);
    if (task.deliveryMethod !== "async") return { images: images(items) };
    const [ack] = items;
    return { images: images(await poll(runware, ack.taskUUID, deadline)), job_id: ack.taskUUID };
  } catch (error) {
    return { failure: failure(error) };
  }
}

serve("runware-sdk-js-1.3.2", ["websocket"], { generate });
