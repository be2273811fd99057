/**
 * The Ably rule registration core, driven through the real Control API client against the loopback fake (which
 * refuses unknown properties as Ably does): idempotent ensure, other rules left alone, removal, and the plan a
 * source's config gives.
 */
import { AblyControlClient } from '../../../lambdas/adapters/ably/ably-control-client';
import {
  ablyKeyIdentity,
  ablyKeyName,
  ablyRuleBody,
  ensureAblyRule,
  manualRuleInstructions,
  registrationPlan,
  removeAblyRule,
  resolveRuleSettings,
} from '../../../lambdas/providers/ably/rule-registration';
import { parseHookhubConfig } from '../../../lambdas/core/sources/source-definition';
import { ConfigurationError } from '../../../lambdas/core/errors';
import { startFakeAblyControl, type FakeAblyControl } from '../../fixtures/fake-ably-control';

const APP_ID = 'appAbc';
const TARGET_URL = 'https://hooks.example.com/hooks/ably';
const settings = { targetUrl: TARGET_URL, channelFilter: '^smartadmin-.*', signingKeyId: 'key123' };

let fake: FakeAblyControl;
let api: AblyControlClient;
beforeEach(async () => {
  fake = await startFakeAblyControl();
  api = new AblyControlClient({ token: fake.token, baseUrl: fake.url, timeoutMs: 5_000 });
});
afterEach(() => fake.close());

/** What the fake stored beyond the create body (Ably adds the same kind of fields). */
function bodyOf(rule: object): object {
  const { id: _id, appId: _appId, version: _version, created: _created, modified: _modified, _links, ...body } = rule as Record<string, unknown>;
  return body;
}

describe('ensureAblyRule', () => {
  it('creates the rule once: a second run finds it and leaves one rule', async () => {
    const first = await ensureAblyRule({ api, appId: APP_ID, ...settings });
    const second = await ensureAblyRule({ api, appId: APP_ID, ...settings });

    expect(first).toEqual({ action: 'created', ruleId: expect.any(String), differences: [] });
    expect(second).toEqual({ action: 'exists', ruleId: first.ruleId, differences: [] });
    expect(fake.rules(APP_ID)).toHaveLength(1);
    expect(fake.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  it('sends exactly the create body of the Control API, headers included when given', async () => {
    const headers = [{ name: 'x-hookhub-token', value: 'token-value' }];
    await ensureAblyRule({ api, appId: APP_ID, ...settings, headers });

    const [stored] = fake.rules(APP_ID);
    expect(bodyOf(stored!)).toEqual({
      ruleType: 'http',
      requestMode: 'batch',
      status: 'enabled',
      source: { channelFilter: '^smartadmin-.*', type: 'channel.message' },
      target: { url: TARGET_URL, format: 'json', enveloped: true, signingKeyId: 'key123', headers },
    });
  });

  it('leaves rules of other URLs and other source types alone', async () => {
    const otherUrl = fake.addRule(APP_ID, { ruleType: 'http', requestMode: 'batch', source: { type: 'channel.message', channelFilter: '' }, target: { url: 'https://elsewhere.example/hook' } });
    const presence = fake.addRule(APP_ID, { ruleType: 'http', requestMode: 'batch', source: { type: 'channel.presence', channelFilter: '' }, target: { url: TARGET_URL } });
    const queue = fake.addRule(APP_ID, { ruleType: 'amqp', requestMode: 'single', source: { type: 'channel.message', channelFilter: '' } });

    const result = await ensureAblyRule({ api, appId: APP_ID, ...settings });

    expect(result.action).toBe('created');
    expect(fake.rules(APP_ID)).toEqual([otherUrl, presence, queue, expect.objectContaining({ id: result.ruleId })]);
    // Other apps are other apps.
    expect(fake.rules('otherApp')).toEqual([]);
  });

  it('reports how an existing rule differs without changing it, and never names header values', async () => {
    const existing = fake.addRule(APP_ID, {
      ruleType: 'http',
      requestMode: 'single',
      status: 'enabled',
      source: { type: 'channel.message', channelFilter: '^old-' },
      target: { url: TARGET_URL, format: 'json', enveloped: true, signingKeyId: 'key123', headers: [{ name: 'X-Other', value: 'other-secret' }] },
    });

    const result = await ensureAblyRule({ api, appId: APP_ID, ...settings, headers: [{ name: 'x-hookhub-token', value: 'token-secret' }] });

    expect(result.action).toBe('exists');
    expect(result.ruleId).toBe(existing.id);
    expect(result.differences).toEqual([
      'requestMode is "single" (configured: "batch")',
      'channelFilter is "^old-" (configured: "^smartadmin-.*")',
      'headers are [x-other] (configured: [x-hookhub-token])',
    ]);
    expect(JSON.stringify(result)).not.toMatch(/secret/);
    expect(fake.rules(APP_ID)).toEqual([existing]);
  });

  it('fails with the Control API error when the token is refused, and creates nothing', async () => {
    const refused = new AblyControlClient({ token: 'wrong-token', baseUrl: fake.url });
    await expect(ensureAblyRule({ api: refused, appId: APP_ID, ...settings })).rejects.toThrow(/answered 401: Access denied/);
    expect(fake.rules(APP_ID)).toEqual([]);
  });
});

describe('removeAblyRule', () => {
  it('deletes the rule by id, then finds it absent', async () => {
    const other = fake.addRule(APP_ID, { ruleType: 'http', source: { type: 'channel.message' }, target: { url: 'https://elsewhere.example/hook' } });
    const { ruleId } = await ensureAblyRule({ api, appId: APP_ID, ...settings });

    expect(await removeAblyRule({ api, appId: APP_ID, ruleId })).toEqual({ action: 'deleted', ruleIds: [ruleId] });
    expect(await removeAblyRule({ api, appId: APP_ID, ruleId })).toEqual({ action: 'absent', ruleIds: [] });
    expect(fake.rules(APP_ID)).toEqual([other]);
  });

  it('by target URL deletes only our rules at that URL', async () => {
    const presence = fake.addRule(APP_ID, { ruleType: 'http', source: { type: 'channel.presence' }, target: { url: TARGET_URL } });
    const other = fake.addRule(APP_ID, { ruleType: 'http', source: { type: 'channel.message' }, target: { url: 'https://elsewhere.example/hook' } });
    const { ruleId } = await ensureAblyRule({ api, appId: APP_ID, ...settings });

    expect(await removeAblyRule({ api, appId: APP_ID, targetUrl: TARGET_URL })).toEqual({ action: 'deleted', ruleIds: [ruleId] });
    expect(fake.rules(APP_ID)).toEqual([presence, other]);
    expect(await removeAblyRule({ api, appId: APP_ID, targetUrl: TARGET_URL })).toEqual({ action: 'absent', ruleIds: [] });
  });
});

describe('ablyRuleBody', () => {
  it('sends an empty filter (every channel) when none is configured, and no empty header list', () => {
    expect(ablyRuleBody({ targetUrl: TARGET_URL, signingKeyId: 'k', headers: [] })).toEqual({
      ruleType: 'http',
      requestMode: 'batch',
      status: 'enabled',
      source: { channelFilter: '', type: 'channel.message' },
      target: { url: TARGET_URL, format: 'json', enveloped: true, signingKeyId: 'k' },
    });
  });

  it('keeps only name and value of each header', () => {
    const header = { name: 'x-hookhub-token', value: 'v', extra: 'dropped' };
    expect(ablyRuleBody({ ...settings, headers: [header] }).target.headers).toEqual([{ name: 'x-hookhub-token', value: 'v' }]);
  });
});

describe('registration plan', () => {
  const sourceWith = (options: unknown, extra: object = {}) =>
    parseHookhubConfig({ sources: [{ id: 'ably', preset: 'ably', secret: { env: 'ABLY_API_KEY' }, options, ...extra }] }).sources[0]!;

  it('points at /hooks/{source} under the public base URL and takes the registration filter first', () => {
    const source = sourceWith({
      channelFilter: '^all-',
      registration: { controlToken: { env: 'ABLY_CONTROL_TOKEN' }, channelFilter: '^smartadmin-' },
      singleModeToken: { secret: { env: 'ABLY_HOOK_TOKEN' } },
    });
    expect(registrationPlan(source, 'https://abc.execute-api.eu-west-1.amazonaws.com/')).toEqual({
      sourceId: 'ably',
      targetUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/hooks/ably',
      channelFilter: '^smartadmin-',
      apiKey: { env: 'ABLY_API_KEY' },
      controlToken: { env: 'ABLY_CONTROL_TOKEN' },
      tokenHeader: { name: 'x-hookhub-token', secret: { env: 'ABLY_HOOK_TOKEN' } },
    });
  });

  it("falls back to the source's channel filter, keeps a base path, and has no token without registration", () => {
    const plan = registrationPlan(sourceWith({ channelFilter: '^all-' }), 'https://tunnel.example/prefix//');
    expect(plan).toEqual({ sourceId: 'ably', targetUrl: 'https://tunnel.example/prefix/hooks/ably', channelFilter: '^all-', apiKey: { env: 'ABLY_API_KEY' } });
  });

  it('refuses a source without the ably preset and a base that is not an http URL', () => {
    const demo = parseHookhubConfig({ sources: [{ id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'S' } }] }).sources[0]!;
    expect(() => registrationPlan(demo, 'https://x.example')).toThrow(ConfigurationError);
    expect(() => registrationPlan(sourceWith({}), 'ftp://x.example')).toThrow(/must be http or https/);
    expect(() => registrationPlan(sourceWith({}), 'not a url')).toThrow(/is not a URL/);
  });

  it('derives the app id and the signing key id from the API key', () => {
    expect(ablyKeyIdentity('appAbc.key123:s3cr3t-value')).toEqual({ appId: 'appAbc', keyId: 'key123' });
    expect(ablyKeyName('appAbc.key123:s3cr3t-value')).toBe('appAbc.key123');
    expect(
      resolveRuleSettings({ targetUrl: TARGET_URL, channelFilter: '^a', apiKey: 'appAbc.key123:s3cr3t', tokenHeader: { name: 'x-hookhub-token', value: 't' } }),
    ).toEqual({ appId: 'appAbc', settings: { targetUrl: TARGET_URL, channelFilter: '^a', signingKeyId: 'key123', headers: [{ name: 'x-hookhub-token', value: 't' }] } });
  });

  it('refuses a malformed API key without quoting it', () => {
    for (const bad of ['just-a-secret-value', 'appAbc:no-key-id', 'appAbc.key123:']) {
      let message = '';
      try {
        ablyKeyIdentity(bad);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/appId\.keyId:keySecret/);
      expect(message).not.toContain(bad);
      expect(ablyKeyName(bad)).toBeUndefined();
    }
  });

  it('tells how to create the rule by hand', () => {
    const text = manualRuleInstructions({ targetUrl: TARGET_URL, channelFilter: '^smartadmin-.*', keyName: 'appAbc.key123', tokenHeaderName: 'x-hookhub-token' }).join('\n');
    for (const part of ['Integrations', 'Webhook', TARGET_URL, 'Batch', 'JSON', 'Enveloped: on', '^smartadmin-.*', 'appAbc.key123', 'x-hookhub-token']) {
      expect(text).toContain(part);
    }
    expect(manualRuleInstructions({ targetUrl: TARGET_URL }).join('\n')).toContain('every channel');
  });
});
