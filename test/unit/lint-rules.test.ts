import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const root = new URL('../../', import.meta.url).pathname;

async function lint(code: string, filePath: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

test('planners may not import I/O packages', async () => {
  const cases = [
    "import { request } from 'undici';",
    "import { CoreV1Api } from '@kubernetes/client-node';",
    "import { readFileSync } from 'node:fs';",
    "import { pino } from 'pino';",
    "import { Counter } from 'prom-client';",
  ];
  for (const line of cases) {
    const messages = await lint(`${line}\nexport const x = [${line.match(/\{ (\w+) \}/)?.[1]}];\n`, 'agent/plan/plan-example.ts');
    assert.ok(
      messages.some((m) => m.startsWith('no-restricted-imports') && m.includes('planners are pure')),
      `${line} → ${messages.join('; ')}`,
    );
  }
});

test('the same imports are fine outside planners, and planners may import pure project code', async () => {
  assert.deepEqual(await lint("import { request } from 'undici';\nexport const r = request;\n", 'agent/execute/example.ts'), []);
  assert.deepEqual(
    await lint("import type { Notice } from '../../core/domain/notice.ts';\nexport const n: Notice[] = [];\n", 'agent/plan/plan-example.ts'),
    [],
  );
});

test('process.env is read only where configuration is parsed', async () => {
  const messages = await lint('export const v = process.env.SPOTGUARD_X;\n', 'agent/sources/example.ts');
  assert.ok(messages.some((m) => m.startsWith('no-restricted-properties')), messages.join('; '));
  assert.deepEqual(await lint('export const v = process.env.SPOTGUARD_X;\n', 'cli/example.ts'), []);
});
