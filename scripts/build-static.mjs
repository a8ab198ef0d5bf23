// Copy the compiled NHS.UK frontend assets from node_modules into
// static/vendor/nhsuk/ so Django's staticfiles can serve them.
//
// Usage: npm ci && npm run build
//
// Uses only node's standard library. The output folder is gitignored and is
// rebuilt from scratch on every run.
//
// Output:
//   static/vendor/nhsuk/nhsuk-frontend.min.css   (asset URLs made relative)
//   static/vendor/nhsuk/nhsuk-frontend.min.js    (ES module: import { initAll } ...)
//   static/vendor/nhsuk/nhsuk-frontend.min.js.map
//   static/vendor/nhsuk/assets/images/*          (icons, favicons, logos)
//   static/vendor/nhsuk/assets/manifest.json
//   static/vendor/nhsuk/VERSION

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = path.join(root, 'node_modules', 'nhsuk-frontend');
const srcDir = path.join(pkgDir, 'dist', 'nhsuk');
const outDir = path.join(root, 'static', 'vendor', 'nhsuk');

function fail(message) {
  console.error(`build-static: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(srcDir)) {
  fail(`${path.relative(root, srcDir)} not found. Run "npm ci" first.`);
}

const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));

function requireFile(name) {
  const file = path.join(srcDir, name);
  if (!fs.existsSync(file)) fail(`missing ${name} in nhsuk-frontend ${version}`);
  return file;
}

fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });

// CSS: the compiled stylesheet points at "/assets/images/..." (the package's
// default $nhsuk-assets-path). Make those URLs relative to the stylesheet so
// they resolve under STATIC_URL/vendor/nhsuk/assets/. The source map comment is
// dropped because the rewrite shifts columns; the web fonts stay on
// https://assets.nhs.uk (they are not shipped in the npm package).
let css = fs.readFileSync(requireFile('nhsuk-frontend.min.css'), 'utf8');
const absoluteAssetUrl = /url\((["']?)\/assets\//g;
const rewrites = (css.match(absoluteAssetUrl) || []).length;
css = css.replace(absoluteAssetUrl, 'url($1assets/');
css = css.replace(/\/\*# sourceMappingURL=[^*]*\*\/\s*$/, '');
fs.writeFileSync(path.join(outDir, 'nhsuk-frontend.min.css'), css);

// JS: the minified bundle is an ES module exporting initAll() and friends.
fs.copyFileSync(requireFile('nhsuk-frontend.min.js'), path.join(outDir, 'nhsuk-frontend.min.js'));
fs.copyFileSync(requireFile('nhsuk-frontend.min.js.map'), path.join(outDir, 'nhsuk-frontend.min.js.map'));

// Images (favicons, touch icons, NHS icons used by the CSS) and the web app manifest.
fs.cpSync(path.join(srcDir, 'assets'), path.join(outDir, 'assets'), { recursive: true });

fs.writeFileSync(path.join(outDir, 'VERSION'), `${version}\n`);

// Sanity check: every relative url() in the CSS must now exist on disk.
const missing = [];
for (const match of css.matchAll(/url\((["']?)(assets\/[^"')]+)\1\)/g)) {
  if (!fs.existsSync(path.join(outDir, match[2]))) missing.push(match[2]);
}
if (missing.length) fail(`CSS references missing files: ${[...new Set(missing)].join(', ')}`);

const external = [...new Set([...css.matchAll(/url\((["']?)(https?:\/\/[^/"')]+)/g)].map((m) => m[2]))];

let files = 0;
(function count(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) count(path.join(dir, entry.name));
    else files += 1;
  }
})(outDir);

console.log(`build-static: nhsuk-frontend ${version} -> ${path.relative(root, outDir)} (${files} files, ${rewrites} CSS asset URLs made relative)`);
if (external.length) {
  console.log(`build-static: note: the CSS loads web fonts from ${external.join(', ')} (allow it in CSP font-src, or browsers fall back to Arial)`);
}
