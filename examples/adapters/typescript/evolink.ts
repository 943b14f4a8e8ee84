// An EvoLink client in TypeScript with nothing but Node's own fetch, as a JSON-lines adapter for the harness:
//
//   seedream-conformance run --provider evolink --adapter "subprocess:node examples/adapters/typescript/build/evolink.js"
//
// What it does is what EvoLink documents (docs/evolink.md): POST /v1/images/generations with a Bearer key, then
// GET /v1/tasks/{id} until the task is completed, failed or cancelled. The create is sent once: only a 429 (the
// server refused it, nothing was created) is retried, after its Retry-After; a 5xx or a dropped connection on the
// create is reported, never re-sent, because the task may exist already. Polls are reads, so they are retried.

import { serve, type Failure, type FailureKind, type GenerateReply, type GenerateRequest } from "./protocol";

const FIRST_POLL_MS = 500;
const MAX_POLL_MS = 4000;
const MAX_RETRIES = 4;

class Refused extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function kindOf(status: number): FailureKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server_error";
  return "invalid_request";
}

function retryAfterMs(response: Response, attempt: number): number {
  const seconds = Number(response.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 500 * 2 ** attempt;
}

async function call(
  url: string,
  init: RequestInit,
  deadline: number,
  safe: boolean,
): Promise<Record<string, unknown>> {
  for (let attempt = 0; ; attempt += 1) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Refused({ kind: "timeout", message: "the deadline passed" });
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(left) });
    } catch (error) {
      if (error instanceof Error && error.name === "TimeoutError") {
        throw new Refused({ kind: "timeout", message: "the deadline passed during a request" });
      }
      if (safe && attempt < MAX_RETRIES) {
        await sleep(500 * 2 ** attempt);
        continue;
      }
      throw new Refused({ kind: "connection", message: String((error as Error).cause ?? error), exception: "TypeError" });
    }
    const text = await response.text();
    if (response.ok) return JSON.parse(text) as Record<string, unknown>;
    const retryable = response.status === 429 || (safe && response.status >= 500);
    if (retryable && attempt < MAX_RETRIES) {
      await sleep(Math.min(retryAfterMs(response, attempt), Math.max(0, deadline - Date.now())));
      continue;
    }
    let message = text;
    try {
      const parsed = JSON.parse(text) as { error?: { message?: string } };
      message = parsed.error?.message ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new Refused({ kind: kindOf(response.status), message, code: response.status });
  }
}

async function generate(request: GenerateRequest): Promise<GenerateReply> {
  const deadline = Date.now() + request.timeout * 1000;
  const base = request.base_url.replace(/\/$/, "");
  const headers = { Authorization: `Bearer ${request.credentials.api_key}`, "Content-Type": "application/json" };
  let taskId: string | undefined;
  try {
    const created = await call(
      `${base}/v1/images/generations`,
      { method: "POST", headers, body: JSON.stringify(request.body) },
      deadline,
      false,
    );
    taskId = String(created.id);
    for (let wait = FIRST_POLL_MS; ; wait = Math.min(wait * 1.5, MAX_POLL_MS)) {
      await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
      const task = await call(`${base}/v1/tasks/${encodeURIComponent(taskId)}`, { headers }, deadline, true);
      if (task.status === "completed") {
        const results = (task.results as string[] | undefined) ?? [];
        return { images: results.map((url) => ({ url })), job_id: taskId };
      }
      if (task.status === "failed" || task.status === "cancelled") {
        const error = (task.error as { code?: string; message?: string } | undefined) ?? {};
        const kind: FailureKind = task.status === "failed" ? "generation_failed" : "canceled";
        return { failure: { kind, message: error.message ?? String(task.status), code: error.code ?? null }, job_id: taskId };
      }
    }
  } catch (error) {
    if (error instanceof Refused) return { failure: error.failure, job_id: taskId ?? null };
    throw error;
  }
}

serve("evolink-typescript-example", [], { generate });
