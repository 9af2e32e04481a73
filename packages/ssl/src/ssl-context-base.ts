/**
 * What server and client contexts share: building the secure context from
 * the key material, reloading it (on request, or when the files change),
 * and handing core the settings of each new connection.
 *
 * Reload builds a complete new secure context and swaps it in one
 * assignment: new connections get it, live ones keep the one they started
 * with. A reload that fails (unreadable file, key and certificate not
 * matching) throws and leaves the context as it was.
 */
import type crypto from 'node:crypto';
import tls from 'node:tls';
import { InvalidArgumentError, MODERN_CIPHERS, SECURE_OPTIONS, SSL_CONTEXT, type SslAbstractContext, type SslConnectionSettings } from '@commio/core';
import { logger } from '@commio/core/internal';
import { watchFiles } from './file-watch.js';
import { loadCa, loadKeyPair } from './key-material.js';
import type { CommonSettings } from './context-options.js';

const log = logger('ssl');

/** Base of SslServerContext and SslClientContext. */
export abstract class SslContextBase implements SslAbstractContext {
  /** The brand core recognises. */
  readonly [SSL_CONTEXT] = true as const;
  /** The side the context is for. */
  abstract readonly side: 'server' | 'client';
  /** Shown in logs. */
  readonly name: string;
  /** @internal */
  protected readonly common: CommonSettings;
  #settings!: SslConnectionSettings;
  #certificate: crypto.X509Certificate | null = null;
  #stopWatching: (() => void) | null = null;
  #closed = false;

  protected constructor(common: CommonSettings) {
    this.common = common;
    this.name = common.name;
  }

  /** @internal Builds the first secure context and starts watching (subclass constructors call it last). */
  protected start(): void {
    this.#settings = this.build();
    if (this.common.watch) {
      const files = [this.common.keySource, this.common.certSource, ...this.common.caSources]
        .map((s) => s?.path ?? null)
        .filter((p): p is string => p !== null);
      if (files.length === 0) throw new InvalidArgumentError('options.watch', 'needs a key, certificate or CA file to watch');
      this.#stopWatching = watchFiles(files, () => this.#reloadFromWatch());
    }
  }

  toString(): string {
    return `#<ssl-${this.side}-context ${this.name}>`;
  }

  /** The secure context new connections get now. */
  get secureContext(): tls.SecureContext {
    return this.#settings.secureContext;
  }

  /** The leaf certificate new connections present (null without one). */
  get certificate(): crypto.X509Certificate | null {
    return this.#certificate;
  }

  /** True once closed (no more file watching). */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal Core asks this for every new connection: one cached object. */
  sslConnectionSettings(): SslConnectionSettings {
    return this.#settings;
  }

  /**
   * Re-reads the key, certificate and CA from their files and builds a new
   * secure context: new connections get it, live ones keep theirs. Throws
   * (`ERR_COMMIO_INVALID_ARGUMENT`, naming the file and the reason) and keeps
   * the old context when the files are unusable.
   */
  reload(): void {
    this.#settings = this.build();
    log('%s: reloaded (certificate %s)', this, this.#certificate?.serialNumber ?? 'none');
  }

  /** Stops watching the files (if `watch` was set). The context stays usable. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#stopWatching?.();
    this.#stopWatching = null;
    this.closeChildren();
  }

  #reloadFromWatch(): void {
    if (this.#closed) return;
    let failure: Error | null = null;
    try {
      this.reload();
    } catch (error) {
      failure = error as Error;
      log('%s: reload after a file change failed, keeping the old certificate: %s', this, failure.message);
    }
    try {
      this.common.onReload?.(failure);
    } catch (error) {
      log('%s: onReload threw: %s', this, (error as Error).message);
    }
  }

  /** @internal Closes contexts owned by this one. */
  protected closeChildren(): void {
    // Nothing by default.
  }

  /** @internal The connection settings of a context built from scratch. */
  protected abstract connectionSettings(secureContext: tls.SecureContext): SslConnectionSettings;

  /** @internal Reads the key material and builds the settings. */
  protected build(): SslConnectionSettings {
    const c = this.common;
    const options: tls.SecureContextOptions = {
      minVersion: c.minVersion,
      maxVersion: c.maxVersion,
      ciphers: c.ciphers ?? MODERN_CIPHERS,
      honorCipherOrder: this.side === 'server',
      secureOptions: SECURE_OPTIONS,
    };
    let certificate: crypto.X509Certificate | null = null;
    if (c.keySource !== null && c.certSource !== null) {
      const pair = loadKeyPair(c.keySource, c.certSource, c.passphrase);
      options.key = pair.key;
      options.cert = pair.cert;
      if (c.passphrase !== undefined) options.passphrase = c.passphrase;
      certificate = pair.certificate;
    }
    if (c.caSources.length > 0) options.ca = c.caSources.map(loadCa);
    let secureContext: tls.SecureContext;
    try {
      secureContext = tls.createSecureContext(options);
    } catch (error) {
      const option = /cipher/i.test((error as Error).message) ? 'options.ciphers' : 'options';
      throw new InvalidArgumentError(option, `could not be made into a TLS context: ${(error as Error).message}`, { cause: error });
    }
    const settings = Object.freeze(this.connectionSettings(secureContext));
    this.#certificate = certificate;
    return settings;
  }
}
