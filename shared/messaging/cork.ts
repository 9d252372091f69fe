/**
 * One socket write per flush of an AMQP connection. amqplib queues every frame (a publish, an ack)
 * on its channel's buffer and its Mux moves them to the socket on the next turn of the event loop,
 * one `socket.write` per message: a unit of work's seven publishes were seven system calls, each
 * waking the broker. Corking the socket around the Mux's flush hands Node all of them at once, and
 * it sends them in one `writev`. The bytes, their order and the confirms are the same; only the
 * number of system calls changes.
 *
 * amqplib has no option for it, so this reaches into its Connection (`muxer`, `stream`), as
 * installed at the version in package-lock.json. If those internals are not there the connection
 * is refused at once (every test then fails), rather than running uncorked without anyone noticing.
 */
import type { ChannelModel } from 'amqplib';
import type { Writable } from 'node:stream';

interface MuxInternals {
  _readIncoming: () => void;
  out: Writable;
}

const CORKED = Symbol('eventflow.corked');

export function corkFlushes(model: ChannelModel): void {
  const internal = (model as unknown as { connection?: { muxer?: Partial<MuxInternals> & { [CORKED]?: true } } }).connection;
  const mux = internal?.muxer;
  if (!mux || typeof mux._readIncoming !== 'function' || !mux.out || typeof mux.out.cork !== 'function') {
    throw new Error('amqplib internals changed (Connection.muxer._readIncoming / out): shared/messaging/cork.ts needs updating');
  }
  if (mux[CORKED]) return;
  const flush = mux._readIncoming.bind(mux);
  const out = mux.out;
  mux._readIncoming = () => {
    out.cork();
    try {
      flush();
    } finally {
      // Synchronous: the writes buffered above leave in one writev (or wait, together, behind one in flight).
      out.uncork();
    }
  };
  mux[CORKED] = true;
}
