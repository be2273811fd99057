/**
 * The Ably rule custom resource against the loopback Control API (HOOKHUB_ABLY_CONTROL_URL), with Secrets Manager
 * mocked: create, update (a moved hub), delete, and that nothing it meets (no token, Ably failing, a bad key,
 * Secrets Manager failing) fails the deploy or reaches the logs as a secret.
 */
import '../../fixtures/handler-environment';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AblyControlClient } from '../../../lambdas/adapters/ably/ably-control-client';
import { createSecretProvider } from '../../../lambdas/adapters/secrets/create-secret-provider';
import {
  buildHandler,
  handler,
  type AblyRuleResourceEvent,
  type AblyRuleResourceProperties,
} from '../../../lambdas/handlers/custom-resource-ably-rule';
import { ablyError, startFakeAblyControl, type FakeAblyControl } from '../../fixtures/fake-ably-control';

const API_KEY = 'appAbc.key123:keySecretValue-must-not-leak';
const HOOK_TOKEN = 'hook-token-value-must-not-leak';
const TARGET_URL = 'https://abc.execute-api.eu-west-1.amazonaws.com/hooks/ably';
const NEW_TARGET_URL = 'https://hooks.example.com/hooks/ably';

const secretsManager = mockClient(SecretsManagerClient);
let fake: FakeAblyControl;

function secrets(values: Record<string, string>): void {
  secretsManager.reset();
  secretsManager.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: 'no such secret', $metadata: {} }));
  for (const [name, value] of Object.entries(values)) secretsManager.on(GetSecretValueCommand, { SecretId: name }).resolves({ SecretString: value });
}

beforeEach(async () => {
  fake = await startFakeAblyControl();
  process.env.HOOKHUB_ABLY_CONTROL_URL = fake.url;
  secrets({ 'hookhub/ably/api-key': API_KEY, 'hookhub/ably/control-token': fake.token, 'hookhub/ably/hook-token': HOOK_TOKEN });
});
afterEach(async () => {
  delete process.env.HOOKHUB_ABLY_CONTROL_URL;
  await fake.close();
});

const properties: AblyRuleResourceProperties = {
  SourceId: 'ably',
  TargetUrl: TARGET_URL,
  ApiKeySecretName: 'hookhub/ably/api-key',
  ControlTokenSecretName: 'hookhub/ably/control-token',
  ChannelFilter: '^smartadmin-.*',
  TokenHeaderName: 'x-hookhub-token',
  TokenSecretName: 'hookhub/ably/hook-token',
};

const create = (props: AblyRuleResourceProperties = properties): AblyRuleResourceEvent => ({ RequestType: 'Create', ResourceProperties: { ServiceToken: 'arn:provider', ...props } });
const update = (physicalId: string, props: AblyRuleResourceProperties, old: AblyRuleResourceProperties = properties): AblyRuleResourceEvent => ({
  RequestType: 'Update',
  PhysicalResourceId: physicalId,
  ResourceProperties: { ServiceToken: 'arn:provider', ...props },
  OldResourceProperties: { ServiceToken: 'arn:provider', ...old },
});
const remove = (physicalId: string, props: AblyRuleResourceProperties = properties): AblyRuleResourceEvent => ({ RequestType: 'Delete', PhysicalResourceId: physicalId, ResourceProperties: { ServiceToken: 'arn:provider', ...props } });

describe('Create', () => {
  it('creates the rule and names it in the physical id; a repeated Create finds it', async () => {
    const first = await handler(create());
    const [rule] = fake.rules('appAbc');

    expect(first).toEqual({ PhysicalResourceId: `ably-rule:appAbc:${rule!.id}`, Data: { Status: 'created', Message: expect.stringContaining(`rule ${rule!.id} in app appAbc created`) } });
    expect(rule).toMatchObject({
      ruleType: 'http',
      requestMode: 'batch',
      status: 'enabled',
      source: { channelFilter: '^smartadmin-.*', type: 'channel.message' },
      target: { url: TARGET_URL, format: 'json', enveloped: true, signingKeyId: 'key123', headers: [{ name: 'x-hookhub-token', value: HOOK_TOKEN }] },
    });

    const second = await handler(create());
    expect(second).toEqual({ PhysicalResourceId: first.PhysicalResourceId, Data: { Status: 'exists', Message: expect.stringContaining('already exists') } });
    expect(fake.rules('appAbc')).toHaveLength(1);
  });

  it('without a control token skips with the manual steps, calls no Ably API and succeeds', async () => {
    const { ControlTokenSecretName: _none, ...withoutToken } = properties;
    const response = await handler(create(withoutToken));

    expect(response.PhysicalResourceId).toBe('ably-rule:skipped');
    expect(response.Data.Status).toBe('skipped');
    for (const part of ['no Ably control token is configured', TARGET_URL, 'Batch', 'JSON', 'Enveloped: on', '^smartadmin-.*', 'appAbc.key123', 'x-hookhub-token']) {
      expect(response.Data.Message).toContain(part);
    }
    expect(response.Data.Message).not.toContain('keySecretValue');
    expect(fake.requests).toEqual([]);
  });

  it('skips when the token secret is empty', async () => {
    secrets({ 'hookhub/ably/api-key': API_KEY, 'hookhub/ably/control-token': '' });
    const response = await handler(create());
    expect(response).toMatchObject({ PhysicalResourceId: 'ably-rule:skipped', Data: { Status: 'skipped', Message: expect.stringContaining('hookhub/ably/control-token is empty') } });
  });

  it('answers success with status failed when Ably answers 500', async () => {
    fake.failNext(500, ablyError(500, 50000, 'Internal error'), 10);
    const response = await handler(create());
    expect(response).toEqual({ PhysicalResourceId: 'ably-rule:skipped', Data: { Status: 'failed', Message: expect.stringContaining('answered 500: Internal error') } });
    expect(fake.rules('appAbc')).toEqual([]);
  });

  it('answers success with status failed when Secrets Manager fails or the key is malformed', async () => {
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException: not allowed'));
    expect(await handler(create())).toMatchObject({ PhysicalResourceId: 'ably-rule:skipped', Data: { Status: 'failed', Message: expect.stringContaining('not allowed') } });

    secrets({ 'hookhub/ably/api-key': 'not-an-ably-key-secret', 'hookhub/ably/control-token': fake.token, 'hookhub/ably/hook-token': HOOK_TOKEN });
    const badKey = await handler(create());
    expect(badKey).toMatchObject({ Data: { Status: 'failed', Message: expect.stringContaining('appId.keyId:keySecret') } });
    expect(badKey.Data.Message).not.toContain('not-an-ably-key-secret');
  });

  it('answers failed, without throwing, to an event without properties', async () => {
    const response = await handler({ RequestType: 'Create' } as AblyRuleResourceEvent);
    expect(response).toEqual({ PhysicalResourceId: 'ably-rule:skipped', Data: { Status: 'failed', Message: 'the resource is missing SourceId, TargetUrl, ApiKeySecretName (a stack definition error)' } });
  });
});

describe('Update', () => {
  it('with a moved target creates the new rule, removes the old one, and leaves other rules alone', async () => {
    const unrelated = fake.addRule('appAbc', { ruleType: 'http', source: { type: 'channel.message' }, target: { url: 'https://elsewhere.example/hook' } });
    const created = await handler(create());

    const moved = await handler(update(created.PhysicalResourceId, { ...properties, TargetUrl: NEW_TARGET_URL }));

    const rules = fake.rules('appAbc');
    expect(rules.map((rule) => rule.target?.url)).toEqual(['https://elsewhere.example/hook', NEW_TARGET_URL]);
    expect(rules[0]).toEqual(unrelated);
    expect(moved).toEqual({ PhysicalResourceId: `ably-rule:appAbc:${rules[1]!.id}`, Data: { Status: 'created', Message: expect.stringContaining(`old rule at ${TARGET_URL}: deleted`) } });

    // CloudFormation then deletes the old physical id: already gone, still a success.
    expect(await handler(remove(created.PhysicalResourceId))).toMatchObject({ Data: { Status: 'absent' } });
    expect(fake.rules('appAbc')).toHaveLength(2);
  });

  it('with the same target keeps the rule and its id, and reports a changed filter it does not apply', async () => {
    const created = await handler(create());
    const updated = await handler(update(created.PhysicalResourceId, { ...properties, ChannelFilter: '^other-' }));
    expect(updated.PhysicalResourceId).toBe(created.PhysicalResourceId);
    expect(updated.Data.Status).toBe('exists');
    expect(updated.Data.Message).toContain('channelFilter is "^smartadmin-.*" (configured: "^other-")');
    expect(fake.rules('appAbc')).toHaveLength(1);
  });

  it('keeps the previous physical id when it fails, so CloudFormation does not delete the rule that works', async () => {
    const created = await handler(create());
    fake.failNext(503, ablyError(503, 50300, 'Service unavailable'), 10);
    const response = await handler(update(created.PhysicalResourceId, { ...properties, TargetUrl: NEW_TARGET_URL }));
    expect(response).toEqual({ PhysicalResourceId: created.PhysicalResourceId, Data: { Status: 'failed', Message: expect.stringContaining('answered 503') } });
    expect(fake.rules('appAbc').map((rule) => rule.target?.url)).toEqual([TARGET_URL]);
  });
});

describe('Delete', () => {
  it('removes the rule this resource created, then finds it absent', async () => {
    const unrelated = fake.addRule('appAbc', { ruleType: 'http', source: { type: 'channel.message' }, target: { url: 'https://elsewhere.example/hook' } });
    const created = await handler(create());

    expect(await handler(remove(created.PhysicalResourceId))).toEqual({ PhysicalResourceId: created.PhysicalResourceId, Data: { Status: 'deleted', Message: expect.any(String) } });
    expect(fake.rules('appAbc')).toEqual([unrelated]);
    expect(await handler(remove(created.PhysicalResourceId))).toMatchObject({ Data: { Status: 'absent' } });
  });

  it('of a skipped resource calls nothing', async () => {
    expect(await handler(remove('ably-rule:skipped'))).toEqual({ PhysicalResourceId: 'ably-rule:skipped', Data: { Status: 'skipped', Message: expect.any(String) } });
    expect(fake.requests).toEqual([]);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('answers success with status failed when Ably is unreachable', async () => {
    const created = await handler(create());
    await fake.close();
    const response = await handler(remove(created.PhysicalResourceId));
    expect(response).toMatchObject({ PhysicalResourceId: created.PhysicalResourceId, Data: { Status: 'failed', Message: expect.stringContaining('cannot reach') } });
    fake = await startFakeAblyControl(); // for afterEach
  });
});

it('logs what it did as JSON-ready objects, and never a secret', async () => {
  const logged: unknown[] = [];
  const capture = (...entries: unknown[]) => void logged.push(entries);
  const loggingHandler = buildHandler({
    secretProvider: () => createSecretProvider('secrets-manager'),
    controlApi: (token) => new AblyControlClient({ token, baseUrl: fake.url }),
    logger: { info: capture, warn: capture, error: capture },
  });

  await loggingHandler(create());
  fake.failNext(500, ablyError(500, 50000, 'Internal error'));
  await loggingHandler(create({ ...properties, TargetUrl: NEW_TARGET_URL }));
  await loggingHandler(remove(`ably-rule:appAbc:${fake.rules('appAbc')[0]!.id}`));

  const text = JSON.stringify(logged);
  expect(logged).toHaveLength(3);
  expect(text).toContain('"status":"created"');
  expect(text).toContain('"status":"deleted"');
  expect(text).toContain('answered 500');
  for (const secret of [fake.token, 'keySecretValue', HOOK_TOKEN]) expect(text).not.toContain(secret);
});
