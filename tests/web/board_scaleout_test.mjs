// The board on a scale-out core (docs/scale-out.md, "Read side"), in Debian's headless Chromium
// driven by playwright-core, against two real vigild cores on the mock Kafka cluster:
// the board of core B shows the incidents of every partition (core A's too), an incident that
// core A opens later streams in without a reload, and Acknowledge on one of A's incidents, clicked
// on B's board, is applied by A.
//
//   node board_scaleout_test.mjs --vigild PATH --mock PATH --source-dir REPO --artifacts DIR [--chromium PATH]
//
// Every wait is on a condition, with generous timeouts: the machine may be loaded.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { freePort, run, waitFor as poll } from "./support.mjs";

const T = 60_000;
const args = { chromium: "/usr/bin/chromium" };
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
for (const need of ["vigild", "mock", "source-dir", "artifacts"]) {
  if (!args[need]) { console.error("usage: board_scaleout_test.mjs --vigild PATH --mock PATH --source-dir REPO --artifacts DIR"); process.exit(2); }
}
const ARTIFACTS = resolve(args.artifacts);
mkdirSync(ARTIFACTS, { recursive: true });
let failed = 0;
const ok = (what) => console.log(`ok - ${what}`);
function check(cond, what, detail = "") {
  if (cond) return ok(what);
  failed++;
  console.log(`not ok - ${what}${detail ? ": " + detail : ""}`);
}
const waitFor = (what, fn) => poll(what, fn, T, 200);

const dir = mkdtempSync(join(tmpdir(), "vigil-board-scaleout-"));
const children = [];
let browser = null;
async function cleanup() {
  try { if (browser) await browser.close(); } catch (e) { /* gone */ }
  for (const c of children) { try { c.kill("SIGKILL"); } catch (e) { /* gone */ } }
}
process.on("uncaughtException", async (e) => { console.log("not ok - " + (e.stack || e)); await cleanup(); process.exit(1); });
process.on("unhandledRejection", async (e) => { console.log("not ok - " + (e.stack || e)); await cleanup(); process.exit(1); });

// ---- the mock cluster and two cores -------------------------------------------------------------
const mockOut = join(dir, "mock.out");
children.push(spawn(args.mock, ["ingest:6", "changelog:6"], { stdio: ["ignore", openSync(mockOut, "w"), "ignore"] }));
const brokers = await waitFor("the mock cluster", () => readFileSync(mockOut, "utf8").split("\n")[0].trim());

async function startCore(name) {
  const port = await freePort();
  const coreDir = join(dir, name);
  mkdirSync(coreDir);
  const config = join(coreDir, "vigil.yaml");
  writeFileSync(config, [
    `data_dir: ${join(coreDir, "data")}`,
    `log: {level: info}`,
    `http: {listen: 127.0.0.1:${port}}`,
    `kafka:`,
    `  brokers: "${brokers}"`,
    `  topics: [ingest]`,
    `  group: board`,
    `  properties: {session.timeout.ms: "6000", heartbeat.interval.ms: "500", topic.metadata.refresh.interval.ms: "1000"}`,
    `scaleout: {role: core, ingest_topic: ingest, changelog_topic: changelog}`,
    ``].join("\n"));
  const logPath = join(ARTIFACTS, `vigild-board-scaleout-${name}.log`);
  children.push(spawn(args.vigild, ["--config", config], { stdio: ["ignore", openSync(logPath, "w"), openSync(logPath, "a")] }));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`core ${name} /readyz`, async () => (await fetch(base + "/readyz")).status === 200);
  return base;
}
const owned = async (base) => {
  const m = /^vigil_scaleout_owned_partitions (\S+)$/m.exec(await (await fetch(base + "/metrics")).text());
  return m ? Number(m[1]) : -1;
};
async function incidents(base) {
  const out = [];
  let cursor = null;
  do {
    const r = await (await fetch(`${base}/api/v1/incidents?limit=1000${cursor ? "&cursor=" + cursor : ""}`)).json();
    out.push(...r.incidents);
    cursor = r.next_cursor;
  } while (cursor);
  return out;
}
async function produce(hosts) {
  const file = join(dir, `events-${hosts[0]}.txt`);
  writeFileSync(file, hosts.map((h) => `${h}\t{"host":"${h}","type":"disk","state":"problem","severity":"major","message":"disk on ${h}"}\n`).join(""));
  const r = await run("kcat", ["-b", brokers, "-P", "-q", "-t", "ingest", "-K", "\t", "-l", file]);
  check(r.code === 0, `kcat produces ${hosts.length} events`, r.stderr);
}

const a = await startCore("a");
await waitFor("core a owns the 6 partitions", async () => (await owned(a)) === 6);
const b = await startCore("b");
await waitFor("the two cores share the partitions", async () => {
  const [na, nb] = [await owned(a), await owned(b)];
  return na > 0 && nb > 0 && na + nb === 6;
});
ok("two cores share the 6 partitions");
const first = Array.from({ length: 12 }, (_, i) => `h${i}`);
await produce(first);
await waitFor("core b lists 12 incidents of both cores", async () => {
  const list = await incidents(b);
  return list.length === 12 && new Set(list.map((i) => i.owner)).size === 2;
});
ok("core b's API lists the 12 incidents, owned by both cores");

// ---- the board of core b --------------------------------------------------------------------------
browser = await chromium.launchPersistentContext(join(dir, "chromium-profile"), {
  executablePath: args.chromium,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1600, height: 900 },
  timeout: 60_000,
});
browser.setDefaultTimeout(T);
const page = browser.pages()[0] || await browser.newPage();
const consoleErrors = [];
page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) consoleErrors.push(m.text()); });
page.on("pageerror", (e) => consoleErrors.push(String(e)));
await page.goto(b + "/", { waitUntil: "domcontentloaded", timeout: T });
await page.waitForSelector("body[data-loaded]", { timeout: T });
await page.locator("#conn.live").waitFor({ timeout: T });
const rows = () => page.locator("#spacer .row[data-id]").count();
await waitFor("12 rows", async () => (await rows()) === 12);
ok("core b's board shows the incidents of every partition (12 rows)");

// New incidents, some in core a's partitions, stream in without a reload.
await page.evaluate(() => { window.__noReload = "still here"; });
const later = Array.from({ length: 12 }, (_, i) => `later${i}`);
await produce(later);
await waitFor("24 rows", async () => (await rows()) === 24);
check(await page.evaluate(() => window.__noReload) === "still here", "…without a reload");
const all = await incidents(b);
const aLater = all.filter((i) => i.host.startsWith("later") && i.owner === a);
check(aLater.length > 0, "some of the new incidents are core a's", JSON.stringify(all.map((i) => [i.host, i.owner])));
ok("incidents core a opened later stream into core b's board (24 rows)");

// Acknowledge, clicked on b's board, on an incident core a owns: applied by a.
const target = aLater[0];
await page.locator(`#spacer .row[data-id="${target.id}"]`).click();
await page.locator("#detail:not([hidden])").waitFor({ timeout: T });
await page.getByRole("button", { name: "Acknowledge", exact: true }).click();
await page.locator(`#spacer .row[data-id="${target.id}"][data-state="acknowledged"]`).waitFor({ timeout: T });
ok("Acknowledge on core b's board: the row shows acknowledged");
const onOwner = await (await fetch(`${a}/api/v1/incidents/${target.id}`)).json();
check(onOwner.state === "acknowledged" && onOwner.owner === a, "core a, the owner, applied it", JSON.stringify(onOwner.state));
await page.screenshot({ path: join(ARTIFACTS, "board-scaleout.png") });
check(consoleErrors.length === 0, "no script errors in the browser console", consoleErrors.join(" | "));

await cleanup();
console.log(failed === 0 ? "PASS" : `FAIL (${failed})`);
process.exit(failed === 0 ? 0 : 1);
