"use strict";
// Runs under node with NODE_PATH at the cached @fal-ai/client: the official client, unchanged, pointed at the
// emulator through its documented `proxyUrl` setting. The proxy applies only in browsers unless told otherwise,
// so it is configured as `{url, when: "always"}` (the object form the client documents for Node and servers).
//
// argv[2]: a JSON file {"proxy_url", "credentials" (null: the proxy's own key), "reference", "webhook"}.
// stdout: one JSON line of what the client saw.

const fs = require("node:fs");
const { createFalClient, ApiError, ValidationError } = require("@fal-ai/client");

const APP = "fal-ai/bytedance/seedream/v4/text-to-image";
const EDIT = "fal-ai/bytedance/seedream/v4/edit";
const request = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const options = { proxyUrl: { url: request.proxy_url, when: "always" } };
if (request.credentials) {
  options.credentials = request.credentials;
}
const fal = createFalClient(options);

async function failure(call) {
  try {
    await call();
  } catch (error) {
    return {
      name: error.name,
      is_api_error: error instanceof ApiError,
      is_validation_error: error instanceof ValidationError,
      status: error.status,
      body: error.body,
    };
  }
  return null;
}

async function main() {
  const seen = {};
  const updates = [];
  const subscribed = await fal.subscribe(APP, {
    input: { prompt: "a lighthouse at dusk", image_size: "square_hd", seed: 7 },
    logs: true,
    pollInterval: 50,
    onQueueUpdate: (update) => updates.push(update.status),
  });
  seen.subscribe = { data: subscribed.data, request_id: subscribed.requestId };
  seen.updates = updates;

  const queued = await fal.queue.submit(EDIT, { input: { prompt: "add a cat", image_urls: [request.reference] } });
  seen.submitted = queued;
  seen.first_status = await fal.queue.status(EDIT, { requestId: queued.request_id, logs: true });
  const done = await fal.queue.subscribeToStatus(EDIT, { requestId: queued.request_id, logs: true, pollInterval: 50 });
  seen.completed = done;
  seen.result = await fal.queue.result(EDIT, { requestId: queued.request_id });

  const slow = await fal.queue.submit(APP, { input: { prompt: "a slow one" } });
  await fal.queue.cancel(APP, { requestId: slow.request_id });
  seen.cancelled = await failure(() => fal.queue.result(APP, { requestId: slow.request_id }));
  seen.invalid = await failure(() => fal.queue.submit(APP, { input: { prompt: "x", num_images: 9 } }));

  const hooked = await fal.queue.submit(APP, { input: { prompt: "a webhook" }, webhookUrl: request.webhook });
  seen.hooked = hooked.request_id;
  await fal.queue.subscribeToStatus(APP, { requestId: hooked.request_id, pollInterval: 50 });
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
