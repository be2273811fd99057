/**
 * The Control API client over real sockets (the loopback fake): paths and bearer token, Ably's error bodies turned
 * into messages that never carry the token, a delete of a rule already gone, and a timeout that bounds every call.
 */
import { AblyControlClient, AblyControlError } from '../../../lambdas/adapters/ably/ably-control-client';
import { ablyRuleBody } from '../../../lambdas/providers/ably/rule-registration';
import { ablyError, startFakeAblyControl, type FakeAblyControl } from '../../fixtures/fake-ably-control';

const body = ablyRuleBody({ targetUrl: 'https://hooks.example.com/hooks/ably', signingKeyId: 'key123' });

let fake: FakeAblyControl;
beforeEach(async () => {
  fake = await startFakeAblyControl();
});
afterEach(() => fake.close());

async function failureOf(promise: Promise<unknown>): Promise<AblyControlError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AblyControlError);
    return error as AblyControlError;
  }
  throw new Error('expected the call to fail');
}

it('lists, creates and deletes under /v1/apps/{appId}/rules of the configured base, ignoring a path in the base', async () => {
  const client = new AblyControlClient({ token: fake.token, baseUrl: `${fake.url}/ignored/path` });
  const created = await client.createRule('app 1', body);
  expect(await client.listRules('app 1')).toEqual([expect.objectContaining({ id: created.id, target: body.target })]);
  await client.deleteRule('app 1', created.id);
  expect(await client.listRules('app 1')).toEqual([]);
  expect(fake.requests).toEqual([
    { method: 'POST', path: '/v1/apps/app%201/rules' },
    { method: 'GET', path: '/v1/apps/app%201/rules' },
    { method: 'DELETE', path: `/v1/apps/app%201/rules/${created.id}` },
    { method: 'GET', path: '/v1/apps/app%201/rules' },
  ]);
});

it('treats deleting a rule that is already gone as done', async () => {
  const client = new AblyControlClient({ token: fake.token, baseUrl: fake.url });
  await expect(client.deleteRule('app', 'nope')).resolves.toBeUndefined();
});

it('says 401 with Ably\'s message and a hint, and never includes the token', async () => {
  const token = 'account-token-that-must-not-leak';
  const error = await failureOf(new AblyControlClient({ token, baseUrl: fake.url }).listRules('app'));
  expect(error.status).toBe(401);
  expect(error.ablyCode).toBe(40100);
  expect(error.message).toBe('Ably Control API GET /apps/app/rules answered 401: Access denied: invalid token (Ably error 40100) (is the control token valid and not expired?)');
  expect(`${error.message} ${error.stack}`).not.toContain(token);
});

it("carries Ably's validation message on a refused create body", async () => {
  const client = new AblyControlClient({ token: fake.token, baseUrl: fake.url });
  const error = await failureOf(client.createRule('app', { ...body, name: 'extra' } as never));
  expect(error.status).toBe(400);
  expect(error.message).toContain('answered 400: name: additional property not allowed (Ably error 40000)');
});

it('quotes a body that is not JSON briefly, with any echo of the token masked', async () => {
  const client = new AblyControlClient({ token: fake.token, baseUrl: fake.url });
  fake.failNext(502, `<html>Bad gateway for Bearer ${fake.token}</html>${' padding'.repeat(100)}`);
  const error = await failureOf(client.listRules('app'));
  expect(error.status).toBe(502);
  expect(error.message).toContain('answered 502: <html>Bad gateway for Bearer ***</html>');
  expect(error.message).not.toContain(fake.token);
  expect(error.message.length).toBeLessThan(300);
});

it('reports a 500 with its message', async () => {
  fake.failNext(500, ablyError(500, 50000, 'Internal error'));
  const error = await failureOf(new AblyControlClient({ token: fake.token, baseUrl: fake.url }).listRules('app'));
  expect(error).toMatchObject({ status: 500, ablyCode: 50000 });
  expect(error.message).toContain('answered 500: Internal error');
});

it('refuses answers of the wrong shape', async () => {
  const client = new AblyControlClient({ token: fake.token, baseUrl: fake.url });
  fake.failNext(200, { not: 'a list' });
  await expect(client.listRules('app')).rejects.toThrow('the rule list is not an array');
  fake.failNext(201, { noId: true });
  await expect(client.createRule('app', body)).rejects.toThrow('the created rule has no id');
});

it('gives up after its timeout when Ably does not answer', async () => {
  fake.hang();
  const client = new AblyControlClient({ token: fake.token, baseUrl: fake.url, timeoutMs: 300 });
  const started = Date.now();
  const error = await failureOf(client.listRules('app'));
  expect(error.message).toBe('Ably Control API GET /apps/app/rules: no answer within 300 ms');
  expect(error.status).toBeUndefined();
  expect(Date.now() - started).toBeLessThan(3_000);
});

it('says which address it could not reach', async () => {
  const url = fake.url;
  await fake.close();
  const error = await failureOf(new AblyControlClient({ token: 'secret-token', baseUrl: url, timeoutMs: 2_000 }).listRules('app'));
  expect(error.message).toBe(`Ably Control API GET /apps/app/rules: cannot reach ${url}/v1 (ECONNREFUSED)`);
  expect(error.message).not.toContain('secret-token');
  fake = await startFakeAblyControl(); // for afterEach
});

it('defaults to https://control.ably.net/v1 and sends the token as a bearer', async () => {
  const calls: { url: string; init: RequestInit }[] = [];
  const realFetch = global.fetch;
  global.fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response('[]', { status: 200 });
  }) as typeof fetch;
  try {
    await new AblyControlClient({ token: 'tok' }).listRules('app');
  } finally {
    global.fetch = realFetch;
  }
  expect(calls[0]!.url).toBe('https://control.ably.net/v1/apps/app/rules');
  expect(calls[0]!.init.headers).toMatchObject({ authorization: 'Bearer tok' });
});
