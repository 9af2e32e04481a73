/** Argument and option checking, and service names. Pure unit tests. */
import test from 'ava';
import fs from 'node:fs';
import {
  checkOptions,
  checkSeconds,
  optionalSeconds,
  secondsToMs,
  checkBoolean,
  checkInteger,
  checkFunction,
  optionalFunction,
  checkKeyword,
  checkBuffer,
  checkRange,
  checkByteLimit,
  checkPort,
  checkString,
  invalid,
  keys,
} from '../packages/core/src/options/validate.js';
import { resolveService } from '../packages/core/src/options/service.js';
import { InvalidArgumentError } from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';

checkNoLeaksAfterAll(test);

/** Asserts `fn` throws ERR_COMMIO_INVALID_ARGUMENT naming `argument`; returns the message. */
function refuses(t: import('ava').ExecutionContext, fn: () => unknown, argument: string): string {
  const error = t.throws(fn, { instanceOf: InvalidArgumentError, code: 'ERR_COMMIO_INVALID_ARGUMENT' }) as InvalidArgumentError | undefined;
  t.is(error?.argument, argument);
  return error?.message ?? '';
}

test('checkOptions: absent is empty; not a plain object or an unknown key is refused, naming the path', (t) => {
  const allowed = keys('initTimeout', 'backlog');
  t.deepEqual(checkOptions(undefined, allowed), {});
  const given = { initTimeout: 1 };
  t.is(checkOptions(given, allowed), given);
  t.deepEqual(checkOptions({}, allowed), {});
  refuses(t, () => checkOptions(null, allowed), 'options');
  refuses(t, () => checkOptions([], allowed), 'options');
  refuses(t, () => checkOptions('x', allowed), 'options');
  refuses(t, () => checkOptions(5, allowed), 'options');
  const message = refuses(t, () => checkOptions({ initTimout: 1 }, allowed), 'options.initTimout');
  t.regex(message, /not a known option/);
  t.regex(message, /initTimeout, backlog/);
  refuses(t, () => checkOptions({ x: 1 }, allowed, 'opts.tls'), 'opts.tls.x');
});

test('checkSeconds: non-negative finite seconds (fractions allowed) or null', (t) => {
  t.is(checkSeconds(null, 'timeout'), null);
  t.is(checkSeconds(0, 'timeout'), 0);
  t.is(checkSeconds(0.25, 'timeout'), 0.25);
  t.is(checkSeconds(2_147_483, 'timeout'), 2_147_483);
  for (const bad of [-1, -0.001, Number.NaN, Infinity, '1', undefined, true, {}, 2_147_484]) {
    refuses(t, () => checkSeconds(bad, 'options.timeout'), 'options.timeout');
  }
  t.regex(refuses(t, () => checkSeconds(-1, 'x'), 'x'), /got the number -1/);
  t.is(optionalSeconds(undefined, 'x'), undefined);
  t.is(optionalSeconds(null, 'x'), null);
  t.is(optionalSeconds(3, 'x'), 3);
  refuses(t, () => optionalSeconds(-3, 'x'), 'x');
});

test('secondsToMs: whole milliseconds, at least 1 for any positive duration', (t) => {
  t.is(secondsToMs(0), 0);
  t.is(secondsToMs(0.000001), 1);
  t.is(secondsToMs(0.25), 250);
  t.is(secondsToMs(1.0004), 1000);
  t.is(secondsToMs(2.5), 2500);
});

test('checkBoolean: booleans only; undefined gives the fallback', (t) => {
  t.true(checkBoolean(true, 'b', false));
  t.false(checkBoolean(false, 'b', true));
  t.true(checkBoolean(undefined, 'b', true));
  for (const bad of [null, 0, 1, 'true', {}]) refuses(t, () => checkBoolean(bad, 'b', false), 'b');
});

test('checkInteger: integers within bounds; undefined gives the fallback', (t) => {
  t.is(checkInteger(5, 'n', 0, 10), 5);
  t.is(checkInteger(0, 'n', 0, 10), 0);
  t.is(checkInteger(10, 'n', 0, 10), 10);
  t.is(checkInteger(undefined, 'n', 0, 10), undefined);
  t.is(checkInteger(undefined, 'n', 0, 10, 7), 7);
  for (const bad of [-1, 11, 1.5, Number.NaN, '5', null]) refuses(t, () => checkInteger(bad, 'n', 0, 10), 'n');
  t.regex(refuses(t, () => checkInteger(11, 'n', 0, 10), 'n'), /from 0 to 10/);
});

test('checkFunction and optionalFunction', (t) => {
  const f = (): void => {};
  t.is(checkFunction(f, 'f'), f);
  refuses(t, () => checkFunction(undefined, 'f'), 'f');
  refuses(t, () => checkFunction('f', 'f'), 'f');
  t.is(optionalFunction(undefined, 'f'), null);
  t.is(optionalFunction(null, 'f'), null);
  t.is(optionalFunction(f, 'f'), f);
  refuses(t, () => optionalFunction(1, 'f'), 'f');
});

test('checkKeyword: one of the listed keywords exactly', (t) => {
  const allowed = ['input', 'output', 'io'] as const;
  t.is(checkKeyword('io', 'direction', allowed), 'io');
  t.is(checkKeyword(undefined, 'direction', allowed, 'input'), 'input');
  t.is(checkKeyword(undefined, 'direction', allowed), undefined);
  t.is(checkKeyword(true, 'ipv6', ['any', true, false]), true);
  for (const bad of ['both', 'IO', ':io', null, 1]) refuses(t, () => checkKeyword(bad, 'direction', allowed), 'direction');
  t.regex(refuses(t, () => checkKeyword('both', 'direction', allowed), 'direction'), /"input", "output", "io"/);
});

test('checkBuffer: Uint8Array (Buffer) and Int8Array', (t) => {
  const b = Buffer.alloc(1);
  t.is(checkBuffer(b, 'buffer'), b);
  const u = new Uint8Array(1);
  t.is(checkBuffer(u, 'buffer'), u);
  const i = new Int8Array(1);
  t.is(checkBuffer(i, 'buffer'), i);
  for (const bad of ['text', [1], new Uint16Array(1), new ArrayBuffer(1), new DataView(new ArrayBuffer(1)), null]) {
    refuses(t, () => checkBuffer(bad, 'buffer'), 'buffer');
  }
});

test('checkRange: defaults 0 and the length; bounds and order checked', (t) => {
  t.deepEqual(checkRange(undefined, undefined, 10), [0, 10]);
  t.deepEqual(checkRange(2, undefined, 10), [2, 10]);
  t.deepEqual(checkRange(undefined, 4, 10), [0, 4]);
  t.deepEqual(checkRange(10, 10, 10), [10, 10]);
  t.deepEqual(checkRange(0, 0, 0), [0, 0]);
  refuses(t, () => checkRange(-1, undefined, 10), 'options.start');
  refuses(t, () => checkRange(11, undefined, 10), 'options.start');
  refuses(t, () => checkRange(undefined, 11, 10), 'options.end');
  refuses(t, () => checkRange(6, 5, 10), 'options.end');
  refuses(t, () => checkRange(0.5, undefined, 10), 'options.start');
  refuses(t, () => checkRange(null, undefined, 10), 'options.start');
  refuses(t, () => checkRange(undefined, 3, 2, 'args'), 'args.end');
});

test('checkByteLimit, checkPort, checkString, invalid', (t) => {
  t.is(checkByteLimit(undefined, 'cap', 99), 99);
  t.is(checkByteLimit(1, 'cap', 99), 1);
  for (const bad of [0, -1, 1.5, '1', null]) refuses(t, () => checkByteLimit(bad, 'cap', 99), 'cap');
  t.is(checkPort(0, 'port'), 0);
  t.is(checkPort(65535, 'port'), 65535);
  for (const bad of [-1, 65536, 1.5, '80', undefined, null]) refuses(t, () => checkPort(bad, 'port'), 'port');
  t.is(checkString('x', 's'), 'x');
  for (const bad of ['', 1, null, undefined]) refuses(t, () => checkString(bad, 's'), 's');
  t.regex(refuses(t, () => invalid('thing', 'a thing', [1]), 'thing'), /^thing must be a thing, got an array$/);
  t.regex(refuses(t, () => invalid('thing', 'a thing', 'x'.repeat(100)), 'thing'), /…/);
});

test('keys builds the set of allowed keys', (t) => {
  const set = keys('a', 'b');
  t.true(set.has('a') && set.has('b'));
  t.is(set.size, 2);
});

test('resolveService: port numbers and decimal strings', (t) => {
  t.is(resolveService(0, 'service'), 0);
  t.is(resolveService(8080, 'service'), 8080);
  t.is(resolveService('8080', 'service'), 8080);
  t.is(resolveService('0', 'service'), 0);
  t.is(resolveService('65535', 'service'), 65535);
  for (const bad of [-1, 65536, 1.5, '65536', '-1', '', null, undefined, {}, '12ab']) {
    refuses(t, () => resolveService(bad, 'service'), 'service');
  }
});

const hasServices = fs.existsSync('/etc/services') && /^http\s+80\/tcp/m.test(fs.readFileSync('/etc/services', 'latin1'));

(hasServices ? test : test.skip)('resolveService: names from the system services database, aliases included', (t) => {
  t.is(resolveService('http', 'service'), 80);
  t.is(resolveService('www', 'service'), 80);
  t.is(resolveService('ssh', 'service'), 22);
  t.is(resolveService('https', 'service'), 443);
  t.regex(refuses(t, () => resolveService('no-such-service-xyz', 'options.localPort'), 'options.localPort'), /services database/);
});
