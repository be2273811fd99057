/**
 * The @connections messenger as the handlers build it, against a loopback HTTP server standing in for the
 * management API: it must give up on an endpoint that never answers instead of holding the worker.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiGatewayConnectionMessenger } from '../../../lambdas/adapters/apigw-management/apigw-connection-messenger';
import { createManagementApiClient } from '../../../lambdas/adapters/apigw-management/management-api-client';

process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';

let server: Server;
let endpoint: string;
let answer: (request: IncomingMessage, response: ServerResponse) => void;
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => answer(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Settles with the push's outcome, or 'still waiting' if it has not settled after `boundMs`. */
function settleWithin<T>(promise: Promise<T>, boundMs: number): Promise<{ value: T } | { error: Error } | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'still waiting'>((resolve) => (timer = setTimeout(() => resolve('still waiting'), boundMs)));
  const outcome = promise.then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  return Promise.race([outcome, bound]).finally(() => clearTimeout(timer));
}

describe('ApiGatewayConnectionMessenger over createManagementApiClient', () => {
  it('sends, and reports 410 as gone', async () => {
    const messenger = new ApiGatewayConnectionMessenger(createManagementApiClient(endpoint));
    answer = (request, response) => {
      const gone = request.url!.includes('vanished');
      response.writeHead(gone ? 410 : 200, { 'content-type': 'application/json', ...(gone ? { 'x-amzn-errortype': 'GoneException' } : {}) });
      response.end(gone ? '{"message":"Gone"}' : '');
    };
    expect(await messenger.push('live', '{}')).toBe('sent');
    expect(await messenger.push('vanished', '{}')).toBe('gone');
  });

  it('gives up on a management API that never answers, so a push cannot hold the worker', async () => {
    const messenger = new ApiGatewayConnectionMessenger(createManagementApiClient(endpoint));
    answer = (_request, response) => held.push(response);
    const outcome = await settleWithin(messenger.push('stuck', '{}'), 30_000);
    expect(outcome).toEqual({ error: expect.objectContaining({ name: 'TimeoutError' }) });
  }, 45_000);
});
