/**
 * The error classes: one per code, each an Error and a CommioError with its
 * stable code and class name, keeping its cause.
 */
import test from 'ava';
import * as core from '@commio/core';
import { CommioError, InvalidArgumentError, OperationInProgressError, StateClosedError } from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';

checkNoLeaksAfterAll(test);

/** The codes the contract names, and the class each must have. */
const SPEC: Record<string, string> = {
  ERR_COMMIO_INVALID_ARGUMENT: 'InvalidArgumentError',
  ERR_COMMIO_OPERATION_IN_PROGRESS: 'OperationInProgressError',
  ERR_COMMIO_NOT_IN_CALLBACK: 'NotInCallbackError',
  ERR_COMMIO_STATE_CLOSED: 'StateClosedError',
  ERR_COMMIO_BIND_TIMEOUT: 'BindTimeoutError',
  ERR_COMMIO_BIND_FAILED: 'BindFailedError',
  ERR_COMMIO_HANDSHAKE_TIMEOUT: 'HandshakeTimeoutError',
  ERR_COMMIO_CONNECT_TIMEOUT: 'ConnectTimeoutError',
  ERR_COMMIO_BUFFER_OVERFLOW: 'BufferOverflowError',
  ERR_COMMIO_OUTPUT_OVERFLOW: 'OutputOverflowError',
  ERR_COMMIO_UNSUPPORTED: 'UnsupportedError',
  ERR_COMMIO_COLLECTION_CLOSED: 'CollectionClosedError',
  ERR_COMMIO_PROXY_PROTOCOL: 'ProxyProtocolError',
};

type ErrorClass = new (...args: never[]) => CommioError;

/** Every error class @commio/core exports. */
function exportedErrorClasses(): [string, ErrorClass][] {
  const found: [string, ErrorClass][] = [];
  for (const [name, value] of Object.entries(core) as [string, unknown][]) {
    if (typeof value === 'function' && value !== CommioError && (value as { prototype: unknown }).prototype instanceof CommioError) {
      found.push([name, value as ErrorClass]);
    }
  }
  return found;
}

/** Makes an instance whatever the constructor's shape. */
function make(name: string, Class: ErrorClass, cause: unknown): CommioError {
  const C = Class as unknown as new (...args: unknown[]) => CommioError;
  if (name === 'InvalidArgumentError') return new C('options.example', 'must be an example', { cause });
  return new C(`a ${name}`, { cause });
}

test('every code of the contract has an exported class of that name', (t) => {
  const classes = new Map(exportedErrorClasses());
  for (const [code, name] of Object.entries(SPEC)) {
    const Class = classes.get(name);
    t.truthy(Class, `${name} is exported`);
    if (Class !== undefined) t.is(code, make(name, Class, undefined).code);
  }
});

test('each error class: an Error and a CommioError, with its code, class name and message, keeping the cause', (t) => {
  const classes = exportedErrorClasses();
  t.true(classes.length >= Object.keys(SPEC).length);
  const codes = new Set<string>();
  for (const [name, Class] of classes) {
    const cause = Object.assign(new Error('the OS said no'), { code: 'EADDRINUSE' });
    const error = make(name, Class, cause);
    t.true(error instanceof Error, name);
    t.true(error instanceof CommioError, name);
    t.true(error instanceof Class, name);
    t.is(error.name, name);
    t.regex(error.code, /^ERR_COMMIO_[A-Z_]+$/);
    t.false(codes.has(error.code), `${error.code} is used once`);
    codes.add(error.code);
    t.is(error.cause, cause, `${name} keeps its cause`);
    t.is((error.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
    t.true(typeof error.stack === 'string' && error.stack.includes(name));
    t.regex(String(error), new RegExp(`^${name}: `));
  }
});

test('InvalidArgumentError names the argument path in its message and in .argument', (t) => {
  const error = new InvalidArgumentError('options.initTimeout', 'must be a non-negative number of seconds or null, got the number -1');
  t.is(error.argument, 'options.initTimeout');
  t.true(error.message.startsWith('options.initTimeout '));
  t.is(error.cause, undefined);
});

test('instanceof CommioError holds for errors made by another copy of the package, and only for them', (t) => {
  // What a second loaded copy of @commio/core would make: same marker, other classes.
  class ForeignBase extends Error {
    get [Symbol.for('commio.error')](): true {
      return true;
    }
  }
  const foreign = new ForeignBase('from another copy');
  t.true(foreign instanceof CommioError);
  t.false(foreign instanceof InvalidArgumentError, 'subclasses still check their own prototype chain');
  t.false(new Error('plain') instanceof CommioError);
  t.false(({ code: 'ERR_COMMIO_STATE_CLOSED' } as unknown) instanceof CommioError);
  t.false((null as unknown) instanceof CommioError);
  t.true(new StateClosedError('closed') instanceof CommioError);
  t.false(new StateClosedError('closed') instanceof OperationInProgressError);
});
