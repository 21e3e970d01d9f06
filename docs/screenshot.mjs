// Takes the README's screenshot of the chat page: sends one message to a running `hearth serve`
// and waits for the streamed reply. Usage (from a directory where `npm install playwright-core`):
//   node docs/screenshot.mjs http://127.0.0.1:7860/ docs/chat.png
import { chromium } from 'playwright-core';

const [url = 'http://127.0.0.1:7860/', out = 'docs/chat.png'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
await page.goto(url);
await page.fill('#text', 'We keep having the same fight about chores and I feel invisible. How do I bring it up without it blowing up?');
await page.click('#send');
await page.waitForSelector('.coach .meta', { timeout: 180_000 });
await page.screenshot({ path: out, fullPage: true });
await browser.close();
console.log(`saved ${out}`);
