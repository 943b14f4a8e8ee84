"use strict";
// Runs under node with NODE_PATH at the cached `openai` npm client: the official client pointed at Ark, unchanged
// but for its baseURL (Ark's own fields are extra body keys, which the client sends as given).
//
// argv[2]: a JSON file {"base_url": "http://.../ark/api/v3", "key": "...", "cases": [{"name", "body", "stream"?}]}.
// stdout: one JSON line {name: {"ok": reply} | {"events": [...], "error"?: {...}} | {"error": {...}}}.

const fs = require("node:fs");
const OpenAI = require("openai");

const request = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

function describe(error) {
  return { class: error.constructor.name, status: error.status, code: error.code, param: error.param, message: error.message };
}

async function runCase(testCase) {
  const client = new OpenAI({ baseURL: request.base_url, apiKey: testCase.key || request.key, maxRetries: 0 });
  if (!testCase.stream) {
    return { ok: await client.images.generate(testCase.body) };
  }
  const events = [];
  try {
    const stream = await client.images.generate({ ...testCase.body, stream: true });
    for await (const event of stream) {
      events.push(event);
    }
  } catch (error) {
    return { events, error: describe(error) };
  }
  return { events };
}

async function main() {
  const outcomes = {};
  for (const testCase of request.cases) {
    try {
      outcomes[testCase.name] = await runCase(testCase);
    } catch (error) {
      outcomes[testCase.name] = { error: describe(error) };
    }
  }
  console.log(JSON.stringify(outcomes));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
