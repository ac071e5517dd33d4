import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The headless browser the HTML timeline is tested in: $FLEETWARDEN_CHROMIUM, else Debian's
 * `chromium` (.ci/run installs it), else another usual name. Undefined when there is none.
 */
export function findChromium(env: Record<string, string | undefined> = process.env): string | undefined {
  const candidates = [
    env.FLEETWARDEN_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
  ];
  return candidates.find((c): c is string => typeof c === 'string' && c !== '' && existsSync(c));
}

/** Flags that work as root in a container with no GPU, no sandbox and no network at view time. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
];

/** Run chromium once with a fresh profile directory (removed afterwards). */
async function chromium(binary: string, args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'fw-chromium-'));
  try {
    const { stdout } = await run(binary, [...FLAGS, `--user-data-dir=${profile}`, ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM of a local HTML file after the browser has parsed and laid it out (serialized). */
export function dumpDom(binary: string, file: string): Promise<string> {
  return chromium(binary, ['--window-size=1400,900', '--dump-dom', pathToFileURL(file).href]);
}

/**
 * Headless Chromium never makes its window narrower than 500 px (a 420 px window still lays the page
 * out 500 px wide and crops it). A phone is emulated the way a browser embeds a page: in an iframe
 * of the phone's width, whose own viewport (and media queries) are that width.
 */
const MIN_WINDOW = 500;

function framed(file: string, width: number, height: number): string {
  const frame = join(dirname(file), `frame-${width}-${basename(file)}`);
  writeFileSync(
    frame,
    `<!doctype html><html><body style="margin:0"><script>addEventListener("message",(e)=>document.body.setAttribute("data-probe",String(e.data)))</script><iframe src="${basename(file)}" style="width:${width}px;height:${height}px;border:0;display:block"></iframe></body></html>`,
  );
  return frame;
}

/** A PNG of the page's first screen at that width and height. */
export async function screenshot(
  binary: string,
  file: string,
  png: string,
  width: number,
  height: number,
): Promise<void> {
  const page = width < MIN_WINDOW ? framed(file, width, height) : file;
  await chromium(binary, [
    `--window-size=${width},${height}`,
    `--screenshot=${png}`,
    pathToFileURL(page).href,
  ]);
}

/**
 * How wide the page lays out in a viewport `width` px wide: the right edge of its widest element
 * (measured by a copy of the page with a probe script; the page itself runs no script).
 */
export async function layoutWidth(
  binary: string,
  file: string,
  width: number,
): Promise<{ width: number; widest: string }> {
  const probe = join(dirname(file), `probe-${basename(file)}`);
  writeFileSync(
    probe,
    readFileSync(file, 'utf8').replace(
      '</body>',
      '<script>addEventListener("load",()=>{let w=0,who="";for(const e of document.querySelectorAll("body *")){const r=e.getBoundingClientRect().right;if(r>w){w=r;who=e.tagName+"."+e.className}}parent.postMessage(Math.ceil(Math.max(w,document.documentElement.scrollWidth))+" "+who,"*")})</script></body>',
    ),
  );
  const dom = await chromium(binary, [
    `--window-size=${Math.max(width, MIN_WINDOW)},900`,
    '--virtual-time-budget=2000',
    '--dump-dom',
    pathToFileURL(framed(probe, width, 900)).href,
  ]);
  const [w, widest] = dom.match(/data-probe="([^"]*)"/)?.[1]?.split(' ') ?? [];
  if (w === undefined) throw new Error(`no layout probe result in the DOM of ${probe}`);
  return { width: Number(w), widest: widest ?? '' };
}
