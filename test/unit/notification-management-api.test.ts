import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** SHA-256 and HMAC from node:crypto, apart from the SDK's hash the module signs with. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: Bytes) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Bytes) {
    this.hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {}
}
type Bytes = string | ArrayBuffer | ArrayBufferView;
const bytes = (x: Bytes) => (typeof x === 'string' ? x : ArrayBuffer.isView(x) ? Buffer.from(x.buffer, x.byteOffset, x.byteLength) : Buffer.from(new Uint8Array(x)));

/** What the Management API stand-in received, and what it answers next. */
interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const received: Received[] = [];
let answer: { status: number; type?: string; message?: string } = { status: 200 };
let server: http.Server;
let api: typeof import('../../functions/notification/management-api');

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const { status, type, message } = answer;
      res.writeHead(status, type ? { 'content-type': 'application/json', 'x-amzn-errortype': type } : {}).end(message ? JSON.stringify({ message }) : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // A stage path, as the callback URL has on AWS.
  vi.stubEnv('WEBSOCKET_CALLBACK_URL', `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
  vi.stubEnv('AWS_SESSION_TOKEN', 'session');
  vi.resetModules();
  api = await import('../../functions/notification/management-api');
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await new Promise((r) => server.close(r));
});

describe('PostToConnection as a signed request', () => {
  it("posts the frame to the stage's @connections path with the id encoded, signed for execute-api with the environment's credentials", async () => {
    answer = { status: 200 };
    received.length = 0;
    await api.postToConnection('L0SM9cOFvHcCIhw=', '[{"id":"e1"}]');
    const [req] = received;
    expect(req).toMatchObject({ method: 'POST', path: '/prod/@connections/L0SM9cOFvHcCIhw%3D', body: '[{"id":"e1"}]' });
    expect(req!.headers['x-amz-security-token']).toBe('session');
    const authorization = String(req!.headers.authorization);
    expect(authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/);

    // The signature covers what went over the wire: signing the received request again, at its own
    // x-amz-date, with an independent SHA-256, gives the same signature.
    const amzDate = String(req!.headers['x-amz-date']);
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
    const at = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const verifier = new SignatureV4({ service: 'execute-api', region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' }, sha256: NodeSha256 });
    const again = await verifier.sign(
      {
        method: req!.method,
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: req!.path,
        query: {},
        headers: Object.fromEntries(signedHeaders.filter((h) => h !== 'x-amz-date' && h !== 'x-amz-security-token').map((h) => [h, String(req!.headers[h])])),
        body: req!.body,
      },
      { signingDate: at },
    );
    expect(again.headers.authorization).toBe(authorization);
  });

  it('throws a GoneException that isGone recognises for 410, and a ManagementApiError with the status otherwise', async () => {
    answer = { status: 410, type: 'GoneException', message: 'Connection is gone' };
    const gone = await api.postToConnection('c1', '[]').catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(api.GoneException);
    expect(api.isGone(gone)).toBe(true);

    answer = { status: 429, type: 'LimitExceededException', message: 'Client buffer is full' };
    const limited = await api.postToConnection('c1', '[]').catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(api.ManagementApiError);
    expect(limited).toMatchObject({ status: 429, errorType: 'LimitExceededException', message: expect.stringContaining('Client buffer is full') });
    expect(api.isGone(limited)).toBe(false);
  });
});
