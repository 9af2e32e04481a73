/**
 * The LispWorks reader and accessor names of a state's properties, as free
 * functions (`asyncIoStateReadStatus(s)` is `s.readStatus`).
 */
import { checkState, type AsyncIoState, type SocketAddress, type SslSide } from './async-io-state.js';
import type { IoStatus } from './status.js';
import type { WaitStateCollection } from '../collection/wait-state-collection.js';
import type { TLSSocket } from 'node:tls';

/** `state.collection` */
export function asyncIoStateCollection(state: AsyncIoState): WaitStateCollection {
  return checkState(state).collection;
}
/** `state.object` */
export function asyncIoStateObject(state: AsyncIoState): unknown {
  return checkState(state).object;
}
/** `state.name` */
export function asyncIoStateName(state: AsyncIoState): unknown {
  return checkState(state).name;
}
/** `state.userInfo` */
export function asyncIoStateUserInfo(state: AsyncIoState): unknown {
  return checkState(state).userInfo;
}
/** `state.readTimeout` (seconds or null) */
export function asyncIoStateReadTimeout(state: AsyncIoState): number | null {
  return checkState(state).readTimeout;
}
/** `state.writeTimeout` (seconds or null) */
export function asyncIoStateWriteTimeout(state: AsyncIoState): number | null {
  return checkState(state).writeTimeout;
}
/** `state.maxRead` */
export function asyncIoStateMaxRead(state: AsyncIoState): number {
  return checkState(state).maxRead;
}
/** `state.oldLength` */
export function asyncIoStateOldLength(state: AsyncIoState): number {
  return checkState(state).oldLength;
}
/** `state.readStatus` */
export function asyncIoStateReadStatus(state: AsyncIoState): IoStatus {
  return checkState(state).readStatus;
}
/** `state.writeStatus` */
export function asyncIoStateWriteStatus(state: AsyncIoState): IoStatus {
  return checkState(state).writeStatus;
}
/** `state.address` */
export function asyncIoStateAddress(state: AsyncIoState): SocketAddress | null {
  return checkState(state).address;
}
/** `state.peerAddress` */
export function asyncIoStatePeerAddress(state: AsyncIoState): SocketAddress | null {
  return checkState(state).peerAddress;
}
/** `state.sslSide` */
export function asyncIoStateSslSide(state: AsyncIoState): SslSide | null {
  return checkState(state).sslSide;
}
/** `state.ctx` */
export function asyncIoStateCtx(state: AsyncIoState): unknown {
  return checkState(state).ctx;
}
/** `state.ssl` */
export function asyncIoStateSsl(state: AsyncIoState): TLSSocket | null {
  return checkState(state).ssl;
}
