// node play.mjs PAGE_URL MASTER_URL: open the hls.js page in headless Chromium and print
// window.result as JSON once playback got past 1.5 s, failed, or 60 s passed.
import { chromium } from "playwright-core";

const [pageUrl, master] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
  ],
});
try {
  const page = await browser.newPage();
  const logs = [];
  page.on("console", (m) => logs.push(m.text()));
  await page.goto(`${pageUrl}?src=${encodeURIComponent(master)}`);
  await page.waitForFunction(() => window.result && window.result.done, null, { timeout: 60000 })
    .catch(() => {});
  const result = await page.evaluate(() => window.result);
  console.log(JSON.stringify({ ...result, logs: logs.slice(-20) }));
} finally {
  await browser.close();
}
