"use strict";
// Runs under node with NODE_PATH at the cached @runware/sdk-js 1.3.2: the official client, unchanged but for `url`.
//
// argv[2]: a JSON file {"url": "ws://.../runware/v1", "timeout_ms"?: number, "max_retries"?: number,
//   "cases": [{"name", "task", "extra"?}]}.
// `extra` is imageInference's second argument, which the client spreads over the task as given.
// Each task goes through imageInference; an async task's acknowledgement is then followed by getResponse polls
// (every 100 ms) until every item is a success, as the Runware docs show. stdout: one JSON line
// {name: {"ok": items, "ack"?: item, "polls"?: n} | {"error": what the client rejected with, "is_error": bool}}.

const fs = require("node:fs");
const { Runware } = require("@runware/sdk-js");

const request = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function runCase(runware, task, extra) {
  const items = await runware.imageInference(task, extra);
  if (task.deliveryMethod !== "async") return { ok: items };
  const [ack] = items;
  for (let polls = 1; ; polls += 1) {
    const found = (await runware.getResponse({ taskUUID: ack.taskUUID })) || [];
    if (found.length > 0 && found.every((item) => item.status === "success")) return { ok: found, ack, polls };
    await sleep(100);
  }
}

async function main() {
  const runware = new Runware({
    apiKey: "sdk-test-key",
    url: request.url,
    timeoutDuration: request.timeout_ms ?? 30000,
    ...(request.max_retries ? { globalMaxRetries: request.max_retries } : {}),
  });
  const outcomes = {};
  for (const { name, task, extra } of request.cases) {
    try {
      outcomes[name] = await runCase(runware, task, extra);
    } catch (error) {
      outcomes[name] = { error: error instanceof Error ? { message: error.message } : error, is_error: error instanceof Error };
    }
  }
  await runware.disconnect();
  return outcomes;
}

main().then(
  // Exit only once the line is written: a pipe may take a large line in several writes.
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0)),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
