import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  freezeConfig,
  parseBaseUrl,
  parseBoolean,
  parseChoice,
  parseDuration,
  parseHost,
  parseKubeName,
  parsePort,
  ValueError,
} from '../../../core/config/parse-values.ts';

test('durations: accepted forms', () => {
  const cases: Array<[string, number]> = [
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['1h', 3_600_000],
    [' 3s ', 3000],
  ];
  for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, input);
});

test('durations: rejected forms say what is allowed', () => {
  for (const input of ['', '5', 'abc', '-1s', '1d', '1 s', '1e3ms']) {
    assert.throws(() => parseDuration(input), { name: 'ValueError', message: /expected a duration such as 500ms/ }, input);
  }
  assert.throws(() => parseDuration('50ms', { minMs: 100 }), { message: 'expected at least 100ms' });
  assert.throws(() => parseDuration('2m', { maxMs: 60_000 }), { message: 'expected at most 1m' });
});

test('ports, booleans, choices, hosts and Kubernetes names', () => {
  assert.equal(parsePort('8080'), 8080);
  assert.equal(parsePort('0', { allowZero: true }), 0);
  for (const bad of ['0', '65536', 'http', '80.5', '-1']) assert.throws(() => parsePort(bad), ValueError, bad);
  assert.equal(parseBoolean('true'), true);
  assert.equal(parseBoolean('No'), false);
  assert.throws(() => parseBoolean('maybe'), { message: 'expected true or false' });
  assert.equal(parseChoice('gcp', ['aws', 'gcp'] as const), 'gcp');
  assert.throws(() => parseChoice('ibm', ['aws', 'gcp'] as const), { message: 'expected one of aws, gcp' });
  assert.equal(parseHost('127.0.0.1'), '127.0.0.1');
  assert.throws(() => parseHost('a b'), ValueError);
  assert.equal(parseKubeName('ip-10-0-0-1.ec2.internal'), 'ip-10-0-0-1.ec2.internal');
  for (const bad of ['Node1', '-a', 'a_b', '']) assert.throws(() => parseKubeName(bad), ValueError, bad);
});

test('metadata endpoints must be http(s) base URLs', () => {
  assert.equal(parseBaseUrl('http://127.0.0.1:1338/'), 'http://127.0.0.1:1338');
  assert.equal(parseBaseUrl('https://proxy.local/imds'), 'https://proxy.local/imds');
  for (const bad of ['127.0.0.1:1338', 'ftp://x', 'http://x/?a=1', 'not a url']) assert.throws(() => parseBaseUrl(bad), ValueError, bad);
});

test('a frozen configuration cannot be changed, at any depth', () => {
  const config = freezeConfig({ opsPort: 9808, nested: { margin: 5 } });
  assert.throws(() => {
    (config as { opsPort: number }).opsPort = 1;
  }, TypeError);
  assert.throws(() => {
    (config.nested as { margin: number }).margin = 1;
  }, TypeError);
});
