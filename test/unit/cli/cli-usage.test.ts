import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runCli } from './run-cli.ts';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

test('version prints the package version', async () => {
  const r = await runCli(['version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, new RegExp(`^spotguard ${pkg.version.replaceAll('.', '\\.')} \\(node v24\\.`));
});

test('--help of every command documents every flag with its default and environment variable', async () => {
  for (const command of ['agent', 'controller', 'probe', 'simulate']) {
    const r = await runCli([command, '--help']);
    assert.equal(r.code, 0, `${command} --help exit code`);
    const flagLines = r.stdout.split('\n').filter((l) => /^\s+--[a-z]/.test(l) && !l.includes('--help'));
    assert.ok(flagLines.length >= 3, `${command} has flags`);
    // Each flag's description (possibly wrapped) names its SPOTGUARD_* variable.
    const envs = [...r.stdout.replace(/\s+/g, ' ').matchAll(/env: (SPOTGUARD_[A-Z_]+)\)/g)].map((m) => m[1]);
    assert.equal(envs.length, flagLines.length, `${command}: every flag has an env var\n${r.stdout}`);
  }
  const agent = await runCli(['agent', '--help']);
  for (const fragment of ['default: evict', 'default: 5s', 'env: SPOTGUARD_NODE_NAME', 'default: /proc', 'default: 9808']) {
    assert.ok(agent.stdout.replace(/\s+/g, ' ').includes(fragment), `agent --help mentions ${fragment}`);
  }
});

const badValues: Array<{ name: string; args: string[]; env?: Record<string, string>; expect: RegExp }> = [
  { name: 'duration flag', args: ['agent', '--node-name', 'n1', '--deadline-margin', 'soon'], expect: /--deadline-margin.*'soon'.*expected a duration/ },
  { name: 'duration env var', args: ['agent', '--node-name', 'n1'], env: { SPOTGUARD_POLL_INTERVAL: '10' }, expect: /--poll-interval.*'10'.*SPOTGUARD_POLL_INTERVAL.*expected a duration/ },
  { name: 'choice', args: ['agent', '--node-name', 'n1', '--mode', 'nuke'], expect: /--mode.*'nuke'.*(evict|Allowed choices)/ },
  { name: 'metadata URL', args: ['probe', '--output', 'json', '--timeout', '1s', '--metadata-endpoint', 'ftp://x'], expect: /--metadata-endpoint.*'ftp:\/\/x'.*http/ },
  { name: 'node name', args: ['agent', '--node-name', 'Bad_Name'], expect: /--node-name.*'Bad_Name'.*Kubernetes name/ },
  { name: 'ops port env', args: ['controller'], env: { SPOTGUARD_OPS_PORT: '70000' }, expect: /--ops-port.*'70000'.*SPOTGUARD_OPS_PORT.*port number/ },
  { name: 'missing node name', args: ['agent'], expect: /--node-name.*required/ },
  { name: 'unknown flag', args: ['probe', '--colour'], expect: /unknown option '--colour'/ },
];

for (const c of badValues) {
  test(`a bad ${c.name} exits 2 with one line naming flag, value and what is allowed`, async () => {
    const r = await runCli(c.args, c.env);
    assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('(run with --help'));
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.match(lines[0] as string, c.expect);
    assert.equal(r.stdout, '');
  });
}
