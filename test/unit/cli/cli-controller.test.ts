import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { spotguardBin } from './run-cli.ts';

test('controller serves /healthz, /readyz and /metrics, and stops cleanly on SIGTERM', async () => {
  const child = spawn(spotguardBin, ['controller', '--ops-host', '127.0.0.1', '--ops-port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      const parsed = JSON.parse(line) as { msg?: string; url?: string; component?: string };
      if (parsed.msg === 'ops server listening' && parsed.url) {
        assert.equal(parsed.component, 'controller');
        resolve(parsed.url);
      }
    });
    child.once('exit', (code) => reject(new Error(`controller exited ${code}`)));
  });
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  assert.equal((await fetch(`${url}/readyz`)).status, 200);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /^spotguard_process_start_time_seconds /m);
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
