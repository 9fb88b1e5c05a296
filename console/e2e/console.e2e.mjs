// The console's end-to-end browser test, run by console/e2e_test.go (go test
// ./console): headless Debian Chromium driven by playwright-core, against a
// real notifyd behind the test's same-origin proxy. Inputs come from the
// environment; it prints one line per step and exits non-zero on failure.
import { chromium } from "playwright-core";
import path from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error("missing " + k);
  return v;
};
const consoleURL = env("CONSOLE_URL");
const site = env("CONSOLE_SITE");
const bobToken = env("CONSOLE_USER_TOKEN");
const aliceToken = env("CONSOLE_OTHER_TOKEN");
const publisherToken = env("CONSOLE_PUBLISHER_TOKEN");
const shots = env("CONSOLE_SHOTS");
const chromiumPath = env("CONSOLE_CHROMIUM");

const step = (s) => console.log("step: " + s);
const errors = [];

async function publish(title, message, status = "info") {
  const resp = await fetch(site + "/api/chat/messages", {
    method: "POST",
    headers: { Authorization: "Bearer " + publisherToken, "Content-Type": "application/json" },
    body: JSON.stringify({
      host: site, action: "notify", category: "deploy", status, title, message,
      source: { id: "bots:ci", title: "CI" }, target: { principals: ["users:bob"] },
    }),
  });
  if (resp.status !== 202) throw new Error("publish: " + resp.status + " " + (await resp.text()));
}

// open signs in on a fresh page; refused: the 401 it logs is expected;
// noWebSocket: the page cannot open websockets, as behind a proxy that blocks them.
async function open(browser, token, refused = false, noWebSocket = false) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light", reducedMotion: "reduce", deviceScaleFactor: 1 });
  const page = await context.newPage();
  if (noWebSocket) {
    await page.addInitScript(() => {
      window.WebSocket = class {
        constructor() {
          throw new SyntaxError("websockets are blocked here");
        }
      };
    });
  }
  page.on("pageerror", (e) => errors.push("page error: " + e.message));
  page.on("console", (m) => {
    if (m.type() !== "error" || (refused && m.text().includes("status of 401"))) return;
    errors.push("console error: " + m.text());
  });
  await page.goto(consoleURL);
  await page.locator("#token").fill(token);
  await page.locator("#signin").click();
  return page;
}

const badge = (page, n) => page.locator(`#unread-badge[data-count="${n}"]`).waitFor({ state: "attached" });

const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
try {
  step("a refused token stays on the sign-in screen with a toast");
  const stranger = await open(browser, bobToken.slice(0, -4) + "AAAA", true);
  await stranger.locator(".toast", { hasText: "refused" }).waitFor();
  await stranger.screenshot({ path: path.join(shots, "console-signin.png") });
  if ((await stranger.locator("#signin").count()) !== 1) throw new Error("left the sign-in screen with a bad token");
  await stranger.context().close();

  step("bob signs in");
  const bob = await open(browser, bobToken);
  await bob.locator('#conn-state[data-state="open"]').waitFor();
  await badge(bob, 2);
  await bob.locator(".space-item", { hasText: "Design review" }).waitFor();
  if (await bob.evaluate(() => sessionStorage.length + localStorage.length)) throw new Error("the token was stored");
  if (bob.url().includes("eyJ")) throw new Error("the token is in the page URL");

  step("a notification is published over HTTP and arrives live");
  const title = "Deploy finished: notifyd 2.4.0";
  await publish(title, "Production is on 2.4.0. Rollout took 3 min 12 s, no errors.", "success");
  const item = bob.locator(".notification", { hasText: title });
  await item.waitFor();
  await badge(bob, 3);
  await bob.screenshot({ path: path.join(shots, "console.png") });

  step("bob marks it read and the badge drops");
  await item.locator(".mark-read").click();
  await badge(bob, 2);
  await item.locator(".read-mark").waitFor();

  step("links are http(s) only; metrics parse");
  const checks = await bob.evaluate(async () => {
    const dom = await import("./dom.js");
    const admin = await import("./admin.js");
    return {
      urls: ["javascript:alert(1)", "data:text/html,x", " JavaScript:x", "//evil.example/x", "/reviews/1", "https://a.example/p"].map((u) => dom.safeURL(u, "https://app.example")),
      metrics: admin.parseMetrics('# HELP x\nnotifyd_ws_connections 3\nnotifyd_ws_dropped_total{reason="slow"} 2\nnotifyd_ws_dropped_total{reason="closing"} 1\nother 9\n', ["notifyd_ws_connections", "notifyd_ws_dropped_total"]),
    };
  });
  const wantURLs = [null, null, null, "https://evil.example/x", "https://app.example/reviews/1", "https://a.example/p"];
  if (JSON.stringify(checks.urls) !== JSON.stringify(wantURLs)) throw new Error("safeURL: " + JSON.stringify(checks.urls));
  if (JSON.stringify(checks.metrics) !== JSON.stringify({ notifyd_ws_connections: 3, notifyd_ws_dropped_total: 3 })) {
    throw new Error("parseMetrics: " + JSON.stringify(checks.metrics));
  }

  step("markup in a notification stays text");
  const markup = '<img src=x onerror="window.pwned=1"><b>bold</b>';
  await publish(markup, "<script>window.pwned=2</script>");
  await bob.locator(".notification .notif-title", { hasText: markup }).waitFor();
  if ((await bob.locator("#feed img, #feed b, #feed script").count()) || (await bob.evaluate(() => window.pwned))) {
    throw new Error("markup from a notification was interpreted");
  }
  await badge(bob, 3);
  await bob.locator(".notification", { hasText: markup }).locator(".mark-read").click();
  await badge(bob, 2);

  step("alice signs in; both open Design review");
  const alice = await open(browser, aliceToken);
  await alice.locator('#conn-state[data-state="open"]').waitFor();
  await bob.locator(".space-item", { hasText: "Design review" }).click();
  await bob.locator("#messages .message", { hasText: "first pass of the new onboarding" }).waitFor();
  await alice.locator(".space-item", { hasText: "Design review" }).click();
  await alice.locator("#messages .message").first().waitFor();

  step("bob sends a message; alice gets it live");
  await bob.locator("#composer-input").fill("Looks great. One nit: the empty state needs a call to action.");
  await bob.locator("#composer-input").press("Enter");
  await bob.locator("#messages .message", { hasText: "One nit" }).waitFor();
  await alice.locator("#messages .message", { hasText: "One nit" }).waitFor();

  step("alice reacts and types; bob sees both");
  await alice.locator("#messages .message", { hasText: "One nit" }).hover();
  await alice.locator("#messages .message", { hasText: "One nit" }).locator(".quick-react button", { hasText: "👍" }).click();
  await bob.locator("#messages .message", { hasText: "One nit" }).locator(".reaction", { hasText: "👍" }).waitFor();
  await alice.locator("#composer-input").pressSequentially("On it", { delay: 20 });
  await bob.locator("#typing", { hasText: "Alice Chen is typing" }).waitFor();
  await bob.screenshot({ path: path.join(shots, "console-space.png") });
  await alice.locator("#composer-input").press("Enter");
  await bob.locator("#messages .message", { hasText: "On it" }).waitFor();

  step("the admin view publishes to bob and shows the gateway's figures");
  const admin = await open(browser, publisherToken);
  await admin.locator("#publish-form").waitFor();
  await admin.locator('.stat[data-stat="sessions"] .stat-value', { hasText: /^\d+$/ }).waitFor();
  await admin.locator('.stat[data-stat="connections"] .stat-value', { hasText: /^\d+$/ }).waitFor();
  await admin.locator("#pub-target").fill("users:bob");
  await admin.locator("#pub-title").fill("Maintenance tonight at 22:00 UTC");
  await admin.locator("#pub-status").selectOption("warning");
  await admin.locator("#publish").click();
  await admin.locator("#recent .recent-item", { hasText: "Maintenance tonight" }).waitFor();
  await badge(bob, 3);
  await admin.locator('.stat[data-stat="delivered"] .stat-sub', { hasText: "/s now" }).waitFor();
  await admin.screenshot({ path: path.join(shots, "console-admin.png") });

  step("dark scheme");
  await bob.locator(".nav-item").click();
  await bob.emulateMedia({ colorScheme: "dark" });
  await bob.screenshot({ path: path.join(shots, "console-dark.png") });

  step("with websockets blocked, the console falls back to server-sent events");
  const blocked = await open(browser, bobToken, false, true);
  await blocked.locator('#conn-state[data-state="open"][data-transport="sse"]', { hasText: "SSE" }).waitFor();
  await publish("Over server-sent events", "This page cannot open websockets.");
  await blocked.locator(".notification", { hasText: "Over server-sent events" }).waitFor();
  await blocked.context().close();

  if (errors.length) throw new Error("the page reported errors:\n" + errors.join("\n"));
  step("done");
} finally {
  await browser.close();
}
