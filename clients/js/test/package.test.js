// What npm would publish, and the rule that no source builds HTML.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('npm pack publishes exactly the module, its types, README, LICENSE and package.json', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  const [pack] = JSON.parse(out);
  assert.equal(pack.name, '@notifyd/client');
  assert.deepEqual(pack.files.map((f) => f.path).sort(), ['LICENSE', 'README.md', 'notifyd.d.ts', 'notifyd.js', 'package.json']);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.license, 'MIT');
  assert.equal(pkg.dependencies, undefined, 'no runtime dependency');
  assert.equal(pkg.exports['.'].default, './notifyd.js');
  assert.equal(pkg.exports['.'].types, './notifyd.d.ts');
});

test('no source inserts text as HTML', () => {
  const sources = ['notifyd.js', 'notifyd.d.ts', ...readdirSync(join(root, 'test')).map((f) => join('test', f))];
  const forbidden = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write(ln)?)\b/; // forbidden-words-ok
  for (const f of sources) {
    const text = readFileSync(join(root, f), 'utf8');
    const lines = text.split('\n').filter((l) => forbidden.test(l) && !l.includes('forbidden-words-ok'));
    assert.deepEqual(lines, [], f);
  }
});

test('the module and the declarations export the same names', async () => {
  const mod = await import('../notifyd.js');
  const dts = readFileSync(join(root, 'notifyd.d.ts'), 'utf8');
  for (const name of Object.keys(mod)) {
    if (name === 'default') continue;
    assert.match(dts, new RegExp(`export (declare )?(class|const|function|interface|type) ${name}\\b`), name);
  }
});
