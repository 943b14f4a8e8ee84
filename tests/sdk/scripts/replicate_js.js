"use strict";
// Runs under node with NODE_PATH at the cached `replicate` 1.4.0: the official client, unchanged but for baseUrl.
//
// argv[2]: a JSON file {"base_url": "http://.../v1", "case": NAME, "input": {...}}. stdout: one JSON line.
// Cases: run (FileOutputs read as blobs), create_wait (predictions.create + replicate.wait), refused (an ApiError),
// webhook (a Node http server receives the signed webhook, validateWebhook judges it and a tampered copy),
// cancel (predictions.create, then predictions.cancel, then wait on the canceled prediction), bounded_run (run with
// an AbortSignal of "timeout_ms" in poll mode).

const fs = require("node:fs");
const http = require("node:http");
const Replicate = require("replicate");
const { validateWebhook } = require("replicate");

const MODEL = "bytedance/seedream-4";
const request = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const replicate = new Replicate({ auth: "r8_emulator", baseUrl: request.base_url });

async function fileOutput(item) {
  const blob = await item.blob();
  return {
    is_file_output: item instanceof ReadableStream && typeof item.blob === "function",
    url: String(item.url()),
    type: blob.type,
    base64: Buffer.from(await blob.arrayBuffer()).toString("base64"),
  };
}

async function run() {
  const output = await replicate.run(MODEL, { input: request.input });
  return { outputs: await Promise.all(output.map(fileOutput)) };
}

async function createWait() {
  const created = await replicate.predictions.create({ model: MODEL, input: request.input });
  const seen = [];
  const done = await replicate.wait(created, { interval: 50 }, async (update) => {
    seen.push(update.status);
    return false;
  });
  return { created: created.status, seen, status: done.status, output: done.output, id: done.id };
}

async function refused() {
  try {
    await replicate.run(MODEL, { input: request.input });
  } catch (error) {
    return { name: error.name, status: error.response.status, message: error.message, is_error: error instanceof Error };
  }
  return { name: null };
}

async function listen() {
  // What a Node service does to receive webhooks: a plain http server, headers as Node gives them.
  let deliver;
  const received = new Promise((resolve) => {
    deliver = resolve;
  });
  const server = http.createServer((incoming, outgoing) => {
    const chunks = [];
    incoming.on("data", (chunk) => chunks.push(chunk));
    incoming.on("end", () => {
      outgoing.end("ok");
      server.close();
      deliver({ headers: incoming.headers, body: Buffer.concat(chunks).toString("utf8") });
    });
  });
  await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
  return { url: `http://127.0.0.1:${server.address().port}/hooks/replicate`, received };
}

async function webhook() {
  const { url, received } = await listen();
  const created = await replicate.predictions.create({
    model: MODEL,
    input: request.input,
    webhook: url,
    webhook_events_filter: ["completed"],
  });
  const delivery = await received;
  const { key } = await replicate.webhooks.default.secret.get();
  const tampered = delivery.body.replace('"succeeded"', '"failed"');
  return {
    id: created.id,
    secret_prefix: key.split("_")[0],
    delivered: JSON.parse(delivery.body),
    genuine: await validateWebhook({ headers: delivery.headers, body: delivery.body }, key),
    tampered: await validateWebhook({ headers: delivery.headers, body: tampered }, key),
    wrong_secret: await validateWebhook({ headers: delivery.headers, body: delivery.body }, "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
  };
}

async function cancel() {
  const created = await replicate.predictions.create({ model: MODEL, input: request.input });
  const canceled = await replicate.predictions.cancel(created.id);
  const waited = await replicate.wait(created, { interval: 50 });
  return { created: created.status, canceled: canceled.status, waited: waited.status, output: waited.output };
}

async function boundedRun() {
  // run() with an AbortSignal and `wait: {mode: "poll"}`: the create returns at once, the poll loop sees the
  // signal, cancels the prediction and resolves with its output (null), without an error.
  const signal = AbortSignal.timeout(request.timeout_ms);
  const started = Date.now();
  const output = await replicate.run(MODEL, { input: request.input, signal, wait: { mode: "poll", interval: 100 } });
  return { output, aborted: signal.aborted, elapsed_ms: Date.now() - started };
}

const CASES = { run, create_wait: createWait, refused, webhook, cancel, bounded_run: boundedRun };

CASES[request.case]().then(
  (result) => {
    // Exit only once the line is written: a pipe may take a large line in several writes.
    process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
