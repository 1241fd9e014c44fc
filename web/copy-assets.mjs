// Copies the pinned npm packages' browser builds into the Python package's static
// folder, so an installed streamcore serves them itself (an offline install works).
// Run by `make setup` and by the Dockerfile; the copies are not committed.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "streamcore", "web", "static", "vendor");
const modules = join(here, "node_modules");

/** [package path, file or folder inside it, name under vendor/] */
const FILES = [
  ["hls.js/dist/hls.min.js", "hls.min.js"],
  ["media-chrome/dist/iife/index.js", "media-chrome.js"],
  ["media-chrome/dist/iife/all.js", "media-chrome-all.js"],
  ["tus-js-client/dist/tus.min.js", "tus.min.js"],
  ["socket.io-client/dist/socket.io.min.js", "socket.io.min.js"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"],
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"],
  ["swagger-ui-dist/favicon-32x32.png", "swagger-ui/favicon-32x32.png"],
];

rmSync(out, { recursive: true, force: true });
for (const [from, to] of FILES) {
  const target = join(out, to);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(modules, from), target);
}
console.log(`copied ${FILES.length} files to ${out}`);
