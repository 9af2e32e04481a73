/**
 * Services (ports): a number, a decimal string, or a name from the system
 * services database (`/etc/services`), as LispWorks accepts.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import { checkPort } from './validate.js';

let servicesByName: Map<string, number> | null = null;

function loadServices(): Map<string, number> {
  const table = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync('/etc/services', 'latin1');
  } catch {
    // No services database on this system: only numbers work.
  }
  for (const line of text.split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    const [name, portProto, ...aliases] = fields;
    if (name === undefined || portProto === undefined) continue;
    const match = /^(\d+)\/(tcp|udp)$/.exec(portProto);
    if (match === null) continue;
    const port = Number(match[1]);
    for (const n of [name, ...aliases]) if (!table.has(n)) table.set(n, port);
  }
  return table;
}

/** The port a service names; throws `ERR_COMMIO_INVALID_ARGUMENT` naming `name` when it names none. */
export function resolveService(service: unknown, name: string): number {
  if (typeof service === 'number') return checkPort(service, name);
  if (typeof service === 'string' && service.length > 0) {
    if (/^\d+$/.test(service)) return checkPort(Number(service), name);
    servicesByName ??= loadServices();
    const port = servicesByName.get(service);
    if (port !== undefined) return port;
    throw new InvalidArgumentError(name, `names no service known to the system services database, got ${JSON.stringify(service)}`);
  }
  throw new InvalidArgumentError(name, `must be a port number, a decimal string or a service name, got ${service === null ? 'null' : typeof service}`);
}
