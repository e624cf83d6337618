// Browser test of the vigil board, against the real vigild, in Debian's headless Chromium driven
// by playwright-core (which never downloads a browser here: executablePath is /usr/bin/chromium).
//
//   node board_test.mjs --vigild PATH --source-dir REPO --artifacts DIR [--chromium PATH]
//                       [--mode live|load] [--load-count 5000]
//
// mode "live" (board_browser_test): open the board, send a syslog line with util-linux logger,
//   see the incident appear without a reload, acknowledge it with the button (state in the DOM
//   and through the API), see an API-side change stream in, see an error shown inline, save a
//   screenshot of the board with demo data, stop vigild with SIGTERM and expect exit code 0.
// mode "load" (board_load_test): post N incidents in arrays of 500, time the board's load in
//   the browser until the rows are rendered, and how a live change shows up with N loaded.
//
// Every wait is on a condition, with generous timeouts: the machine may be loaded.
// Env VIGIL_BOARD_HTML=path serves that file at "/" instead of vigild's compiled-in board
// (for working on the board without rebuilding vigild).

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, rmSync, openSync } from "node:fs";
import { tmpdir, hostname } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { freePort, run, waitFor } from "./support.mjs";

const T = 30_000;   // default wait for any condition

// ---- arguments --------------------------------------------------------------------------------
const args = { mode: "live", "load-count": "5000", chromium: "/usr/bin/chromium" };
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
for (const need of ["vigild", "source-dir", "artifacts"]) {
  if (!args[need]) { console.error(`usage: board_test.mjs --vigild PATH --source-dir REPO --artifacts DIR`); process.exit(2); }
}
const SRC = resolve(args["source-dir"]);
const ARTIFACTS = resolve(args.artifacts);
mkdirSync(ARTIFACTS, { recursive: true });

let passed = 0, failed = 0;
function ok(what) { passed++; console.log(`ok - ${what}`); }
function check(cond, what, detail = "") {
  if (cond) return ok(what);
  failed++;
  console.log(`not ok - ${what}${detail ? ": " + detail : ""}`);
}
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

// ---- vigild -----------------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), "vigil-board-"));
const httpPort = await freePort();
const syslogPort = await freePort();
const base = `http://127.0.0.1:${httpPort}`;
const configPath = join(dir, "vigil.yaml");
let config = [
  `data_dir: ${join(dir, "data")}`,
  `log: {level: info}`,
  `http:`,
  `  listen: 127.0.0.1:${httpPort}`,
  `syslog:`,
  `  listen: [tcp://127.0.0.1:${syslogPort}]`,
  `rules: {files: [${SRC}/config/rules.d/*.yaml, ${join(dir, "board-rules.yaml")}]}`,
  `sla:`,
  `  P1: {acknowledge: 15m, resolve: 4h}`,
  `  P2: {acknowledge: 30m, resolve: 8h}`,
  `  P3: {acknowledge: 4h, resolve: 3d}`,
  `  P5: {acknowledge: 1s, resolve: 3d}`,
  `escalation:`,
  `  - {name: board-p5-unacked, on: acknowledge_breach, match: {priority: [P5]}, set: {assignment_group: noc-l2}}`,
  ``,
].join("\n");
// A threshold rule for the detail pane's "Why" (mode live): three CRC errors open a P5 incident,
// whose 1 s acknowledge target breaches at once and escalates.
writeFileSync(join(dir, "board-rules.yaml"), [
  `rules:`,
  `  - name: board-crc-errors`,
  `    match: {message: {regex: 'CRC error on (?P<port>\\S+)'}}`,
  `    set: {type: crc, state: problem, severity: minor}`,
  `    priority: P5`,
  `    key: '{{host}}/crc/{{port}}'`,
  `    title: 'CRC errors on {{port}}'`,
  `    threshold: {count: 3, window: 5m}`,
  ``,
].join("\n"));
// mode auth: vigild wants bearer tokens; the board asks for one and passes it to the stream.
const TOKENS = { viewer: "viewer-token-board-test-0001", operator: "operator-token-board-test-0001" };
if (args.mode === "auth") {
  config = config.replace(`  listen: 127.0.0.1:${httpPort}\n`, `  listen: 127.0.0.1:${httpPort}\n  tokens:\n` +
    `    - {name: wall-screen, token: ${TOKENS.viewer}, role: viewer}\n` +
    `    - {name: ops-alice, token: ${TOKENS.operator}, role: operator}\n`);
}
// The example CMDB gives the demo incidents their CIs, groups and services; used when this
// vigild accepts it, so the board test does not depend on the CMDB work.
const cmdbFile = join(SRC, "config/cmdb.yaml");
if (existsSync(cmdbFile)) {
  writeFileSync(configPath, config + `cmdb: {files: [${cmdbFile}]}\n`);
  const chk = await run(args.vigild, ["--check-config", "--config", configPath]);
  if (chk.code === 0) config += `cmdb: {files: [${cmdbFile}]}\n`;
  else log("vigild does not accept config/cmdb.yaml; running without a CMDB:", chk.stderr.trim());
}
writeFileSync(configPath, config);

const logPath = join(ARTIFACTS, `vigild-board-${args.mode}.log`);
const vigild = spawn(args.vigild, ["--config", configPath], { stdio: ["ignore", openSync(logPath, "w"), openSync(logPath, "a")] });
let vigildExit = null;
const vigildExited = new Promise((res) => vigild.on("exit", (code, signal) => { vigildExit = { code, signal }; res(vigildExit); }));
log(`vigild pid ${vigild.pid} on ${base}, syslog tcp ${syslogPort}, log ${logPath}`);

let browser = null;
async function cleanup() {
  try { if (browser) await browser.close(); } catch (e) { /* already gone */ }
  if (vigildExit === null) vigild.kill("SIGKILL");
}
process.on("uncaughtException", async (e) => { console.log("not ok - " + (e.stack || e)); await cleanup(); process.exit(1); });

async function api(path, opts = {}) {
  const headers = opts.body ? { "Content-Type": "application/json" } : {};
  if (args.mode === "auth") headers.Authorization = "Bearer " + TOKENS.operator;
  const r = await fetch(base + path, { method: opts.method || "GET", headers,
                                       body: opts.body ? JSON.stringify(opts.body) : undefined });
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch (e) { body = text; }
  return { status: r.status, body };
}
async function allIncidents(query = "") {
  const out = [];
  let cursor = null;
  do {
    const r = await api(`/api/v1/incidents?limit=1000${query}${cursor ? "&cursor=" + cursor : ""}`);
    if (r.status !== 200) throw new Error(`GET incidents: ${r.status} ${JSON.stringify(r.body)}`);
    out.push(...r.body.incidents);
    cursor = r.body.next_cursor;
  } while (cursor);
  return out;
}

async function main() {
  await waitFor("vigild /readyz", async () => {
    if (vigildExit) throw new Error(`vigild exited early: ${JSON.stringify(vigildExit)}; see ${logPath}`);
    return (await fetch(base + "/readyz")).status === 200;
  });
  ok("vigild is ready");

  // ---- the browser ----------------------------------------------------------------------------
  const profile = join(dir, "chromium-profile");
  browser = await chromium.launchPersistentContext(profile, {
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
  // HTTP errors the board handles (404 from an absent endpoint, the 400 provoked below) are logged
  // by Chromium as "Failed to load resource"; those are not script errors.
  page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  if (process.env.VIGIL_BOARD_HTML) {
    const html = readFileSync(process.env.VIGIL_BOARD_HTML, "utf8");
    await page.route(base + "/", (route) => route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: html }));
    log(`serving ${process.env.VIGIL_BOARD_HTML} at / (VIGIL_BOARD_HTML)`);
  }

  if (args.mode === "load") await loadTest(page);
  else if (args.mode === "auth") await authTest(page);
  else await liveTest(page);

  check(consoleErrors.length === 0, "no script errors in the browser console", consoleErrors.join(" | "));
  await browser.close();
  browser = null;

  // ---- a clean stop ---------------------------------------------------------------------------
  vigild.kill("SIGTERM");
  const exit = await Promise.race([vigildExited, new Promise((r) => setTimeout(() => r(null), 60_000))]);
  check(exit && exit.code === 0, "vigild stops on SIGTERM with exit code 0", JSON.stringify(exit));
}

// ---- mode live ----------------------------------------------------------------------------------
async function liveTest(page) {
  const demo = (host, type, severity, message, extra = {}) =>
    ({ host, type, severity, state: "problem", source: "demo", message, ...extra });
  const r = await api("/api/v1/events", { method: "POST", body: [
    demo("web-par1-1", "http", "critical", "HTTP 503 on /checkout for 4 min"),
    demo("sw-core-par1", "bgp", "critical", "BGP neighbour 192.0.2.2 (AS64500) down"),
    demo("db-pay-1", "disk", "major", "filesystem /var/lib/postgresql 94% full"),
    demo("db-orders-1", "replication", "major", "replication lag 45 s behind primary"),
    demo("pay-api", "latency", "minor", "p99 latency 1.8 s above the 1 s objective"),
    demo("shop-app", "process", "warning", "worker restarted 3 times in 10 min"),
    demo("rtr-edge-par1", "cpu", "warning", "CPU above 90% for 5 min"),
    demo("web-par1-2", "certificate", "info", "TLS certificate expires in 14 days"),
  ] });
  check(r.status === 202, "POST /api/v1/events takes the demo events (202)", JSON.stringify(r.body));
  const demoIncidents = await waitFor("8 demo incidents", async () => { const l = await allIncidents(); return l.length >= 8 && l; });
  const byHost = Object.fromEntries(demoIncidents.map((i) => [i.host, i]));
  // Some history for the screenshot: one acknowledged and assigned, one resolved.
  await api(`/api/v1/incidents/${byHost["db-pay-1"].id}/ack`, { method: "POST", body: { actor: "alice", comment: "looking" } });
  await api(`/api/v1/incidents/${byHost["db-pay-1"].id}/assign`, { method: "POST", body: { group: "dba", assignee: "alice", actor: "alice" } });
  await api(`/api/v1/incidents/${byHost["web-par1-2"].id}/resolve`, { method: "POST", body: { actor: "bob", comment: "renewed" } });

  const tGoto = Date.now();
  await page.goto(base + "/", { waitUntil: "domcontentloaded", timeout: 60_000 });
  await page.waitForSelector("body[data-loaded]", { timeout: T });
  await page.locator("#spacer .row[data-id]").first().waitFor({ timeout: T });
  ok(`the board loads and renders its rows (${Date.now() - tGoto} ms)`);
  await page.locator("#conn.live").waitFor({ timeout: T });
  ok("the board's live stream is connected");
  // With the CMDB, incidents on CIs behind a failed dependency are symptoms folded under it.
  const active = (await allIncidents()).filter((i) => i.state === "open" || i.state === "acknowledged");
  const roots = active.filter((i) => i.parent === null).length;
  check(roots < active.length, "the CMDB folds some demo incidents as symptoms", `${roots} roots of ${active.length}`);
  const activeRows = await page.locator("#spacer .row[data-id]").count();
  check(activeRows === roots, `the board shows the ${roots} active root incidents by default`, `rows: ${activeRows}`);
  const firstSev = await page.locator("#spacer .row[data-id] .c-sev").first().textContent();
  check(firstSev === "critical", "sorted by severity: a critical incident first", firstSev);

  // A marker that a reload would wipe out.
  await page.evaluate(() => { window.__noReload = "still here"; });

  // ---- syslog → incident appears without reload --------------------------------------------
  const tSend = Date.now();
  const lg = await run("logger", ["-n", "127.0.0.1", "-P", String(syslogPort), "--tcp", "-t", "ios",
                                  "%LINK-3-UPDOWN: Interface Gi0/7, changed state to down"]);
  check(lg.code === 0, "logger sends the syslog line over TCP", lg.stderr);
  const row = page.locator("#spacer .row[data-id]", { hasText: "Gi0/7" });
  await row.waitFor({ timeout: T });
  const appearMs = Date.now() - tSend;
  ok(`the syslog incident appears on the board without reload in ${appearMs} ms`);
  check(await page.evaluate(() => window.__noReload) === "still here", "the page was not reloaded");
  check(appearMs < 20_000, "…within seconds", `${appearMs} ms`);
  const rowState = await row.getAttribute("data-state");
  check(rowState === "open", "the new incident is open", rowState);
  const linkId = Number(await row.getAttribute("data-id"));
  const openCount = await page.locator('#stateCounts [data-state="open"] .n').textContent();
  check(openCount === "7", "the header counts it (7 open)", openCount);

  // ---- acknowledge with the button ---------------------------------------------------------
  await row.click();
  await page.locator("#detail:not([hidden])").waitFor({ timeout: T });
  await page.locator("#dTimeline li .what").first().waitFor({ timeout: T });
  check((await page.locator("#dTitle").textContent()).includes("Gi0/7"), "clicking the row opens its detail");
  const ackBtn = page.getByRole("button", { name: "Acknowledge", exact: true });
  await ackBtn.click();
  await page.locator(`#spacer .row[data-id="${linkId}"][data-state="acknowledged"]`).waitFor({ timeout: T });
  ok("after Acknowledge the row shows the state acknowledged");
  await page.locator('#dState[data-state="acknowledged"]').waitFor({ timeout: T });
  ok("…and so does the detail pane");
  await page.locator("#dTimeline li", { hasText: /ack/i }).first().waitFor({ timeout: T });
  ok("…with the acknowledgement on the timeline");
  const viaApi = await api(`/api/v1/incidents/${linkId}`);
  check(viaApi.status === 200 && viaApi.body.state === "acknowledged", "the API says acknowledged", JSON.stringify(viaApi.body.state));
  check(await ackBtn.isDisabled(), "Acknowledge is disabled once acknowledged");

  // ---- a change made elsewhere streams in -------------------------------------------------
  const other = byHost["sw-core-par1"];  // a root incident, so its row is visible
  await api(`/api/v1/incidents/${other.id}/assign`, { method: "POST", body: { group: "payments-oncall", assignee: "carol", actor: "carol" } });
  await page.locator(`#spacer .row[data-id="${other.id}"] .c-group`, { hasText: "carol" }).waitFor({ timeout: T });
  ok("an assignment made through the API streams into the row");

  // ---- errors are shown inline -------------------------------------------------------------
  await page.getByRole("button", { name: "Comment", exact: true }).click();   // empty text → 400
  await page.locator("#dMsg.err", { hasText: "400" }).waitFor({ timeout: T });
  ok(`an API error shows inline: "${(await page.locator("#dMsg").textContent()).trim()}"`);
  await page.getByLabel("Comment text").fill("BGP flap upstream, carrier ticket 4711 opened");
  await page.getByRole("button", { name: "Comment", exact: true }).click();
  await page.locator("#dTimeline li", { hasText: "carrier ticket 4711" }).waitFor({ timeout: T });
  ok("a comment from the board lands on the timeline");

  // ---- filters --------------------------------------------------------------------------------
  await page.getByLabel("Search incidents").fill("Gi0/7");
  await waitFor("the search to leave one row", async () => (await page.locator("#spacer .row[data-id]").count()) === 1);
  ok("the search box filters the list");
  await page.getByLabel("Search incidents").fill("");
  await waitFor("all rows back", async () => (await page.locator("#spacer .row[data-id]").count()) === roots + 1);
  await page.locator('#sevCounts [data-sev="critical"]').click();
  await waitFor("two critical rows", async () => (await page.locator("#spacer .row[data-id]").count()) === 2);
  ok("clicking a severity count filters by severity");
  await page.locator('#sevCounts [data-sev="critical"]').click();
  await waitFor("all rows back", async () => (await page.locator("#spacer .row[data-id]").count()) === roots + 1);

  // ---- SLA countdown (web-par1-1 has criticality 2 and the event is critical: P2, 30 min to
  // acknowledge; an acknowledged one counts down to resolve) -----------------------------------
  const slaOf = async (id) => ((await page.locator(`#spacer .row[data-id="${id}"] .c-sla`).textContent()) || "").trim();
  const p2Sla = await slaOf(byHost["web-par1-1"].id);
  check(/^ack (2\dm|30m)$/.test(p2Sla), "the SLA column counts down to the P2 acknowledge due time", p2Sla);
  const ackedSla = await slaOf(linkId);  // the syslog incident, acknowledged with the button above
  check(/^fix (\d+h \d+m|\d+d \d+h)$/.test(ackedSla), "an acknowledged incident counts down to its resolve due time", ackedSla);

  // ---- the screenshot -------------------------------------------------------------------------
  await page.locator(`#spacer .row[data-id="${linkId}"]`).click();
  await page.locator("#dTimeline li", { hasText: "carrier ticket 4711" }).waitFor({ timeout: T });
  const shot = join(ARTIFACTS, "board.png");
  await page.screenshot({ path: shot });
  ok(`screenshot saved: ${shot}`);
  console.log(`board screenshot: ${shot}`);

  await whyTest(page);

  // ---- keyboard ---------------------------------------------------------------------------------
  await page.keyboard.press("Escape");
  await page.locator("#detail[hidden]").waitFor({ state: "attached", timeout: T });
  ok("Esc closes the detail pane");
  await page.keyboard.press("Home");
  await page.locator("#spacer .row.sel").first().waitFor({ timeout: T });
  const firstSel = await page.locator("#spacer .row.sel").getAttribute("data-id");
  await page.keyboard.press("j");
  await waitFor("j to move the selection", async () => (await page.locator("#spacer .row.sel").getAttribute("data-id")) !== firstSel);
  ok("Home and j move the selection");
  await page.screenshot({ path: join(ARTIFACTS, "board-list.png") });
  await page.keyboard.press("w");
  await page.locator("body.wall").waitFor({ timeout: T });
  await page.screenshot({ path: join(ARTIFACTS, "board-wall.png") });
  ok("w switches to wall mode (screenshots board-list.png, board-wall.png)");
}

// The detail pane's "Why": provenance of a threshold incident (rule, rule-set version, primitive,
// the triggering events — one of them carrying markup that must stay text), its SLA breach and
// escalation, and the verdicts of the events on its CI that opened nothing (held below the
// threshold, held by a maintenance window).
async function whyTest(page) {
  const ci = "rtr-edge-par1";
  const hostile = `CRC error on Gi0/3 <img src=x onerror="window.__xss=1"> {{incident.title}}`;
  const crc = (message) => ({ host: ci, source: "why-test", severity: "minor", message });
  const r = await api("/api/v1/events", { method: "POST", body: [crc("CRC error on Gi0/3 (1)"), crc(hostile), crc("CRC error on Gi0/3 (3)")] });
  check(r.status === 202, "three CRC events are taken (202)", JSON.stringify(r.body));
  const crcIncident = await waitFor("the threshold incident, breached and escalated", async () => {
    const inc = (await allIncidents()).find((i) => i.rule === "board-crc-errors");
    return inc && inc.escalations.includes("board-p5-unacked") && inc;
  });
  const full = (await api(`/api/v1/incidents/${crcIncident.id}`)).body;
  check(full.provenance.primitive.startsWith("threshold") && full.provenance.events.length === 3,
        "the API gives the threshold incident's provenance", JSON.stringify(full.provenance));

  const now = Date.now();
  const mw = await api("/api/v1/maintenance", { method: "POST", body: {
    author: "board-test", reason: "fan tray swap", start: new Date(now - 60_000).toISOString(),
    end: new Date(now + 3_600_000).toISOString(), scope: [{ ci }] } });
  check(mw.status === 201, "a maintenance window on the CI is created (201)", JSON.stringify(mw.body));
  const windowId = mw.body.id;
  await api("/api/v1/events", { method: "POST", body: { host: ci, type: "fan", source: "why-test", severity: "major",
                                                         state: "problem", message: "fan tray 2 failed" } });
  await waitFor("the maintenance verdict on the CI", async () =>
    (await api(`/api/v1/verdicts?ci=${ci}`)).body.verdicts.some((v) => v.reason === "maintenance" && v.window_id === windowId));
  ok("the event in the window opened nothing and has a maintenance verdict");

  await page.locator(`#spacer .row[data-id="${crcIncident.id}"]`).click();
  const why = page.locator("#dWhy");
  await page.locator("#dTrigger tr", { hasText: "(3)" }).waitFor({ timeout: T });
  const fields = await page.locator("#dWhyFields").textContent();
  check(fields.includes("board-crc-errors"), "Why names the rule", fields);
  check(fields.includes(full.provenance.rule_set_version), "…the rule-set version", full.provenance.rule_set_version);
  check(fields.includes(full.provenance.primitive) && fields.includes("threshold"), "…the primitive that fired", fields);
  check(/acknowledge by.*breached/.test(fields) && await page.locator("#dWhyFields dd.breached").count() === 1,
        "…the acknowledge due time, breached", fields);
  check(fields.includes("board-p5-unacked"), "…and the escalation applied", fields);
  const triggers = await page.locator("#dTrigger tr").allTextContents();
  check(triggers.length === 3 && triggers.every((t) => t.includes("why-test") && t.includes("CRC error on Gi0/3")),
        "the three triggering events are listed with source and message", triggers.join(" | "));
  check(await page.locator("#dTrigger td.msg", { hasText: hostile }).count() === 1,
        "markup in an event's message shows as text", triggers.join(" | "));
  check(await page.locator("#detail img").count() === 0 && await page.evaluate(() => window.__xss) === undefined,
        "…and never becomes an element or runs");
  const maint = page.locator('#dVerdicts tr[data-reason="maintenance"]', { hasText: windowId });
  await maint.waitFor({ timeout: T });
  ok(`the CI's verdicts show the event held by window ${windowId}`);
  const held = await page.locator('#dVerdicts tr[data-reason="held"]').allTextContents();
  check(held.length === 2 && held.every((t) => t.includes("below threshold")),
        "…and the two CRC events held below the threshold", held.join(" | "));
  check(await why.locator('#dVerdicts tr[data-reason="deduplicated"]').count() === 0,
        "…but not the events that updated this incident");
  const shot = join(ARTIFACTS, "board-why.png");
  await page.locator("#dWhy").scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot });
  ok(`screenshot saved: ${shot}`);
  await page.keyboard.press("Escape");
}

// ---- mode auth ----------------------------------------------------------------------------------
async function authTest(page) {
  await page.goto(base + "/", { waitUntil: "domcontentloaded", timeout: 60_000 });
  await page.locator("#tokenDlg[open]").waitFor({ timeout: T });
  ok("without a token the board asks for one");
  await page.getByLabel("Token", { exact: true }).fill(TOKENS.viewer);
  await page.getByRole("button", { name: "Use token" }).click();
  await page.waitForSelector("body[data-loaded]", { timeout: T });
  await page.locator("#conn.live").waitFor({ timeout: T });
  ok("with a viewer token the board loads and its stream connects (access_token)");

  const lg = await run("logger", ["-n", "127.0.0.1", "-P", String(syslogPort), "--tcp", "-t", "ios",
                                  "%LINK-3-UPDOWN: Interface Gi0/9, changed state to down"]);
  check(lg.code === 0, "logger sends the syslog line over TCP", lg.stderr);
  const row = page.locator("#spacer .row[data-id]", { hasText: "Gi0/9" });
  await row.waitFor({ timeout: T });
  ok("the syslog incident streams in with the token");
  const id = Number(await row.getAttribute("data-id"));
  await row.click();
  await page.getByRole("button", { name: "Acknowledge", exact: true }).click();
  await page.locator("#dMsg.err", { hasText: "403" }).waitFor({ timeout: T });
  ok(`a viewer cannot acknowledge, said inline: "${(await page.locator("#dMsg").textContent()).trim()}"`);

  await page.getByRole("button", { name: "Set API token" }).click();
  await page.getByLabel("Token", { exact: true }).fill(TOKENS.operator);
  await page.getByRole("button", { name: "Use token" }).click();
  await page.locator("#conn.live").waitFor({ timeout: T });
  await page.locator(`#spacer .row[data-id="${id}"]`).click();
  await page.getByRole("button", { name: "Acknowledge", exact: true }).click();
  await page.locator(`#spacer .row[data-id="${id}"][data-state="acknowledged"]`).waitFor({ timeout: T });
  await page.locator("#dTimeline li", { hasText: "ops-alice" }).first().waitFor({ timeout: T });
  ok("with an operator token Acknowledge works, recorded as ops-alice");
  const viaApi = await api(`/api/v1/incidents/${id}`);
  check(viaApi.body.state === "acknowledged", "the API says acknowledged", JSON.stringify(viaApi.body.state));
}

// ---- mode load ----------------------------------------------------------------------------------
async function loadTest(page) {
  const n = Number(args["load-count"]);
  const sevs = ["critical", "major", "minor", "warning", "info"];
  const groups = ["network", "platform", "dba", "payments", "storage"];
  const tPost = Date.now();
  for (let b = 0; b < n; b += 500) {
    const batch = [];
    for (let i = b; i < Math.min(n, b + 500); i++) {
      batch.push({ host: `load-host-${String(i).padStart(5, "0")}`, type: "ping", source: "loadtest",
                   severity: sevs[i % 5], state: "problem", message: `host unreachable (${i})`,
                   labels: { team: groups[i % 5] } });
    }
    const r = await api("/api/v1/events", { method: "POST", body: batch });
    if (r.status !== 202) throw new Error(`POST events: ${r.status} ${JSON.stringify(r.body)}`);
  }
  log(`posted ${n} events in ${Date.now() - tPost} ms`);
  await waitFor(`${n} incidents in the API`, async () => (await allIncidents("&state=open")).length >= n, 120_000, 500);
  ok(`${n} open incidents exist`);

  const tGoto = Date.now();
  await page.goto(base + "/", { waitUntil: "domcontentloaded", timeout: 60_000 });
  await page.waitForFunction((n) => Number(document.body.dataset.loaded) >= n && document.querySelector("#spacer .row[data-id]"), n,
                             { timeout: 120_000, polling: 50 });
  const loadMs = Date.now() - tGoto;
  const inBrowser = await page.evaluate(() => window.vigilBoard);
  const perf = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    return { domContentLoaded: Math.round(nav.domContentLoadedEventEnd), rowsInDom: document.querySelectorAll("#spacer .row").length,
             shown: document.getElementById("shown").textContent };
  });
  ok(`board with ${n} incidents: page.goto → rows rendered in ${loadMs} ms ` +
     `(board's own list load ${inBrowser.loadMs} ms; DOMContentLoaded ${perf.domContentLoaded} ms; ` +
     `${perf.rowsInDom} row elements in the DOM; "${perf.shown}")`);
  console.log(`BOARD_LOAD_MS=${loadMs} BOARD_LIST_LOAD_MS=${inBrowser.loadMs} INCIDENTS=${inBrowser.incidents}`);
  check(inBrowser.incidents >= n, `the board holds all ${n} incidents`, String(inBrowser.incidents));
  check(perf.rowsInDom < 200, "only the visible rows are in the DOM (virtualised)", String(perf.rowsInDom));

  // Filtering and scrolling 5 000 rows must stay interactive.
  let t = Date.now();
  await page.getByLabel("Search incidents").fill("load-host-04999");
  await waitFor("search to narrow to one row", async () => (await page.locator("#spacer .row[data-id]").count()) === 1);
  ok(`search over ${n} incidents answered in ${Date.now() - t} ms`);
  await page.getByLabel("Search incidents").fill("");
  t = Date.now();
  await page.locator("#list").evaluate((e) => { e.scrollTop = e.scrollHeight; });
  await waitFor("the last row rendered", async () => await page.locator("#spacer .row[data-id]").last().isVisible());
  ok(`scrolled to the end in ${Date.now() - t} ms`);
  await page.locator("#list").evaluate((e) => { e.scrollTop = 0; });

  // A live change with N loaded.
  t = Date.now();
  await api("/api/v1/events", { method: "POST", body: { host: "load-new-host", type: "ping", source: "loadtest", severity: "critical",
                                                         state: "problem", message: "new while loaded" } });
  await page.locator("#spacer .row[data-id]", { hasText: "load-new-host" }).waitFor({ timeout: T });
  ok(`a new incident shows up with ${n} loaded in ${Date.now() - t} ms`);
  const shot = join(ARTIFACTS, "board-5000.png");
  await page.screenshot({ path: shot });
  console.log(`board screenshot: ${shot}`);
}

try {
  await main();
} catch (e) {
  failed++;
  console.log("not ok - " + (e.stack || e));
  try {
    if (browser) {
      const p = browser.pages()[0];
      if (p) { const f = join(ARTIFACTS, `board-failure-${args.mode}.png`); await p.screenshot({ path: f }); console.log(`failure screenshot: ${f}`); }
    }
  } catch (e2) { /* best effort */ }
  console.log(`vigild log: ${logPath}`);
} finally {
  await cleanup();
  if (failed === 0) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir} for a look`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
