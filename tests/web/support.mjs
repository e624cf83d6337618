// What the board tests share: free loopback ports, polling for a condition, running a command.
import { execFile } from "node:child_process";
import net from "node:net";

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

// Polls `fn` every `every` ms until it returns something truthy, which it returns; throws after
// `timeout` ms with the last value or error seen.
export async function waitFor(what, fn, timeout = 30_000, every = 100) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export function run(cmd, argv) {
  return new Promise((res) => execFile(cmd, argv, { timeout: 60_000 }, (err, stdout, stderr) =>
    res({ code: err ? (err.code ?? 1) : 0, stdout, stderr })));
}
