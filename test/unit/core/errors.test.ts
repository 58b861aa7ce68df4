import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorCatalogue, SpotguardError, toSpotguardError } from '../../../core/errors.ts';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

test('every error code is documented in docs/errors.md, and the doc lists no code that does not exist', () => {
  const documented = new Set([...doc.matchAll(/^\| `(E_[A-Z_]+)` \|/gm)].map((m) => m[1]));
  const codes = Object.keys(errorCatalogue);
  assert.deepEqual([...codes].sort(), [...documented].sort());
});

test('the doc says for each code whether spotguard retries it, as the catalogue does', () => {
  for (const [code, entry] of Object.entries(errorCatalogue)) {
    const row = new RegExp(`^\\| \`${code}\` \\| (yes|no) \\|`, 'm').exec(doc);
    assert.ok(row, `${code} has a row`);
    assert.equal(row[1] === 'yes', entry.retryable, `${code} retried column`);
  }
});

test('a SpotguardError keeps its code, retryability and cause; wrapping keeps an existing one', () => {
  const cause = new Error('socket hang up');
  const err = toSpotguardError(cause, 'E_METADATA_UNAVAILABLE');
  assert.equal(err.code, 'E_METADATA_UNAVAILABLE');
  assert.equal(err.retryable, true);
  assert.equal(err.cause, cause);
  assert.equal(err.message, 'socket hang up');
  const original = new SpotguardError('E_CONFIG_INVALID', 'bad');
  assert.equal(toSpotguardError(original, 'E_INTERNAL'), original);
  assert.equal(new SpotguardError('E_KUBE_API', 'x', { retryable: false }).retryable, false);
});
