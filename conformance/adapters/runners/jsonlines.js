"use strict";
// The harness's JSON-lines protocol (conformance/adapters/jsonlines.py, contracts/adapter/protocol.json) for the
// Node runners: print the ready line, then answer each request line with one reply line carrying its id.
// Requests are answered one at a time, in order, as the harness sends them (it never overlaps two).

const readline = require("node:readline");

function write(message) {
  // Node queues what the pipe does not take at once and writes it in order; `close` below waits for the queue.
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function crash(error) {
  const name = (error && error.constructor && error.constructor.name) || typeof error;
  const text = error instanceof Error ? error.message : JSON.stringify(error);
  return { failure: { kind: "crash", message: `${name}: ${text}`, exception: name } };
}

function serve(name, capabilities, handlers) {
  write({ ready: true, name, capabilities });
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let queue = Promise.resolve();
  lines.on("line", (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      return; // not a request; the harness never sends such lines
    }
    queue = queue.then(async () => {
      const handler = handlers[message.op];
      let reply;
      try {
        reply = handler
          ? await handler(message)
          : { failure: { kind: "crash", message: `unsupported op ${message.op}` } };
      } catch (error) {
        reply = crash(error); // whatever the client throws that the runner cannot place
      }
      write({ id: message.id, ...reply });
    });
  });
  // The clients keep sockets and timers alive; the harness closing stdin is the end.
  lines.on("close", () => queue.then(() => process.stdout.write("", () => process.exit(0))));
}

module.exports = { serve, crash };
