import { WebSocket } from 'ws';
import { waitFor } from './wait';

/** The HTTP status a WebSocket handshake is answered with, or 101 when it opens. */
export function handshakeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
  });
}

/**
 * A client of the WebSocket API, open: it keeps every event it receives (frames are JSON arrays of
 * envelopes), every reply (JSON objects) and every frame as sent, and makes one request at a time.
 */
export async function openWsClient<Reply extends object = Record<string, any>, Event = any>(url: string) {
  const ws = new WebSocket(url);
  const events: Event[] = [];
  const replies: Reply[] = [];
  const raw: string[] = [];
  ws.on('message', (data) => {
    raw.push(data.toString());
    const message = JSON.parse(data.toString()) as Event[] | Reply;
    if (Array.isArray(message)) events.push(...message);
    else replies.push(message);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    events,
    raw,
    /** Sends a message and waits for the reply to it. */
    async request(message: object): Promise<Reply> {
      const before = replies.length;
      ws.send(JSON.stringify(message));
      return waitFor(async () => replies[before], `a reply to ${JSON.stringify(message)}`);
    },
  };
}
