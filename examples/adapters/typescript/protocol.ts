// The harness's JSON-lines adapter protocol as TypeScript types, and the loop that speaks it.
// These types mirror contracts/adapter/protocol.json by hand; `seedream-conformance
// adapter-check COMMAND` checks an adapter's real messages against that schema.

import * as readline from "node:readline";

export type Capability = "cancel" | "webhooks" | "websocket";

export type FailureKind =
  | "invalid_request"
  | "auth"
  | "rate_limited"
  | "server_error"
  | "generation_failed"
  | "timeout"
  | "connection"
  | "canceled"
  | "crash";

export interface Ready {
  ready: true;
  name?: string;
  capabilities?: Capability[];
}

interface RequestBase {
  id: string;
  provider: string;
  base_url: string;
  credentials: Record<string, string>;
  body: Record<string, unknown>;
  timeout: number; // seconds
  webhook_url?: string | null;
}

export interface GenerateRequest extends RequestBase {
  op: "generate";
}
export interface StartRequest extends RequestBase {
  op: "start";
}
export interface CancelRequest extends RequestBase {
  op: "cancel";
  job_id: string;
}
export interface WaitRequest extends RequestBase {
  op: "wait";
  job_id: string;
}
export interface VerifyWebhookRequest extends RequestBase {
  op: "verify_webhook";
  headers: Record<string, string>;
  body_base64: string;
}
export type Request = GenerateRequest | StartRequest | CancelRequest | WaitRequest | VerifyWebhookRequest;

export type Image = { url: string } | { base64: string };

export interface Failure {
  kind: FailureKind;
  message: string;
  code?: string | number | null;
  exception?: string | null;
}

export type GenerateReply = ({ images: Image[] } | { failure: Failure }) & { job_id?: string | null };
export interface StartReply {
  job_id: string;
}
export type CancelReply = Record<string, never>;
export interface VerifyReply {
  accepted: boolean;
  reason?: string;
}

export interface Handlers {
  generate(request: GenerateRequest): Promise<GenerateReply>;
  start?(request: StartRequest): Promise<StartReply>;
  cancel?(request: CancelRequest): Promise<CancelReply>;
  wait?(request: WaitRequest): Promise<GenerateReply>;
  verify_webhook?(request: VerifyWebhookRequest): Promise<VerifyReply>;
}

function write(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function answer(handlers: Handlers, request: Request): Promise<object> {
  switch (request.op) {
    case "generate":
      return handlers.generate(request);
    case "start":
      if (handlers.start) return handlers.start(request);
      break;
    case "cancel":
      if (handlers.cancel) return handlers.cancel(request);
      break;
    case "wait":
      if (handlers.wait) return handlers.wait(request);
      break;
    case "verify_webhook":
      if (handlers.verify_webhook) return handlers.verify_webhook(request);
      break;
  }
  return { failure: { kind: "crash", message: `this adapter does not answer ${(request as Request).op}` } };
}

/** Print the ready line, then answer each request in order, one reply line per request, until stdin closes. */
export function serve(name: string, capabilities: Capability[], handlers: Handlers): void {
  const ready: Ready = { ready: true, name, capabilities };
  write(ready);
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let queue: Promise<void> = Promise.resolve();
  lines.on("line", (line) => {
    let request: Request;
    try {
      request = JSON.parse(line) as Request;
    } catch {
      return;
    }
    queue = queue.then(async () => {
      let reply: object;
      try {
        reply = await answer(handlers, request);
      } catch (error) {
        const name = error instanceof Error ? error.name : typeof error;
        reply = { failure: { kind: "crash", message: `${name}: ${String(error)}`, exception: name } };
      }
      write({ id: request.id, ...reply });
    });
  });
  lines.on("close", () => {
    void queue.then(() => process.stdout.write("", () => process.exit(0)));
  });
}
