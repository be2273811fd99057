import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { ConfigurationError } from '../../lambdas/core/errors';
import { loadIngestConfig, loadAdminKeyLocation } from '../../lambdas/config';
import { digestAdminKey, isAdminKey, requireBearerAdminKey } from '../../lambdas/core/auth/admin-key';
import { parseSecretValue } from '../../lambdas/adapters/secrets/secrets-manager-provider';
import { parseEventListQuery } from '../../lambdas/core/events/list-events';
import { readFileSync } from 'node:fs';

describe('sources config', () => {
  it('accepts the shipped hookhub.config.json', () => {
    const config = parseHookhubConfig(JSON.parse(readFileSync('hookhub.config.json', 'utf8')));
    expect(config.sources.map((source) => source.id)).toContain('demo');
  });

  it('accepts examples/providers.config.json, whose preset sources parse to the same config again (as the stack hands it to the Lambdas)', () => {
    const config = parseHookhubConfig(JSON.parse(readFileSync('examples/providers.config.json', 'utf8')));
    const ably = config.sources.find((source) => source.id === 'ably')!;
    expect(ably).toMatchObject({ preset: 'ably', verification: { scheme: 'provider' }, secret: { env: 'ABLY_API_KEY' } });
    expect(ably.options).toMatchObject({ channelFilter: '^smartadmin-.*', history: { intervalMinutes: 5, lookBackHours: 24, overlapSeconds: 30 } });
    expect(parseHookhubConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it("checks a preset's options with the preset's schema, naming each problem's path", () => {
    const attempt = () =>
      parseHookhubConfig({
        sources: [{ id: 'ably', preset: 'ably', secret: { env: 'K' }, options: { channelFilter: '(', history: { intervalMinutes: -1 }, presence: 'keep' } }],
      });
    expect(attempt).toThrow(/sources\.0\.options\.channelFilter: must be a valid regular expression/);
    expect(attempt).toThrow(/sources\.0\.options\.history\.intervalMinutes/);
    expect(attempt).toThrow(/sources\.0\.options\.presence/);
  });

  it('refuses a verification on a preset source, options without a preset, and scheme provider without a preset', () => {
    expect(() => parseHookhubConfig({ sources: [{ id: 'a', preset: 'ably', secret: { env: 'K' }, verification: { scheme: 'none' } }] })).toThrow(/brings its own verification/);
    expect(() => parseHookhubConfig({ sources: [{ id: 'a', verification: { scheme: 'token', header: 'x-t' }, secret: { env: 'K' }, options: {} }] })).toThrow(/"options" belong to a preset/);
    expect(() => parseHookhubConfig({ sources: [{ id: 'a', verification: { scheme: 'provider' }, secret: { env: 'K' } }] })).toThrow(/scheme 'provider' needs a "preset"/);
    expect(() => parseHookhubConfig({ sources: [{ id: 'a', preset: 'ably' }] })).toThrow(/needs a "secret"/);
  });

  it('refuses an unsigned source unless it is marked insecure', () => {
    expect(() => parseHookhubConfig({ sources: [{ id: 'open', verification: { scheme: 'none' } }] })).toThrow(/set "insecure": true/);
    expect(parseHookhubConfig({ sources: [{ id: 'open', verification: { scheme: 'none' }, insecure: true }] }).sources[0]!.insecure).toBe(true);
  });

  it('lists every problem with its path', () => {
    const attempt = () =>
      parseHookhubConfig({
        sources: [
          { id: 'Bad Id', verification: { scheme: 'hmac', header: 'x-sig' }, secret: { env: 'S' } },
          { id: 'dup', verification: { scheme: 'token', header: 'x-t' } },
          { id: 'dup', verification: { scheme: 'token', header: 'x-t' }, secret: { env: 'S' } },
        ],
      });
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(/sources\.0\.id/);
    expect(attempt).toThrow(/needs a "secret"/);
    expect(attempt).toThrow(/duplicate source id 'dup'/);
  });

  it('fills defaults: hmac sha256 hex, 300 s tolerance, JSON bodies', () => {
    const [hmac] = parseHookhubConfig({ sources: [{ id: 'gh', verification: { scheme: 'hmac', header: 'X-Hub-Signature-256', prefix: 'sha256=' }, secret: { env: 'S' } }] }).sources;
    expect(hmac!.verification).toEqual({ scheme: 'hmac', header: 'x-hub-signature-256', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=', toleranceSeconds: 300 });
    expect(hmac!.contentType).toBe('json');
  });
});

describe('environment', () => {
  it('names the missing variable', () => {
    expect(() => loadIngestConfig({ HOOKHUB_SOURCES: '{"sources":[{"id":"a","verification":{"scheme":"none"},"insecure":true}]}' })).toThrow(
      'environment variable HOOKHUB_INBOUND_QUEUE_URL is required',
    );
    expect(() => loadIngestConfig({ HOOKHUB_SOURCES: '{oops' })).toThrow('HOOKHUB_SOURCES is not valid JSON');
    expect(() => loadAdminKeyLocation({})).toThrow(/HOOKHUB_ADMIN_KEY/);
  });
});

describe('admin key', () => {
  const digest = digestAdminKey('correct horse battery staple');
  it('accepts only the exact key as a Bearer token', () => {
    expect(isAdminKey('correct horse battery staple', digest)).toBe(true);
    expect(isAdminKey('correct horse battery stapl', digest)).toBe(false);
    expect(isAdminKey(undefined, digest)).toBe(false);
    expect(() => requireBearerAdminKey('Bearer correct horse battery staple', digest)).not.toThrow();
    expect(() => requireBearerAdminKey('Basic correct horse battery staple', digest)).toThrow('admin key');
  });
});

describe('secret values', () => {
  it('reads a plain secret, a JSON list and {"secrets": [...]}', () => {
    expect(parseSecretValue('whsec_abc')).toEqual(['whsec_abc']);
    expect(parseSecretValue('["a","b"]')).toEqual(['a', 'b']);
    expect(parseSecretValue('{"secrets":["new","old"]}')).toEqual(['new', 'old']);
    expect(parseSecretValue('a, b')).toEqual(['a', 'b']);
  });
});

describe('event list query', () => {
  it('validates each parameter with a message naming it', () => {
    expect(parseEventListQuery({})).toEqual({ limit: 25 });
    expect(parseEventListQuery({ limit: '5', status: 'failed', source: 'demo', cursor: 'abc' })).toEqual({ limit: 5, status: 'failed', source: 'demo', cursor: 'abc' });
    expect(() => parseEventListQuery({ limit: '0' })).toThrow('limit');
    expect(() => parseEventListQuery({ limit: '1.5' })).toThrow('limit');
    expect(() => parseEventListQuery({ status: 'lost' })).toThrow('status');
    expect(() => parseEventListQuery({ source: '../etc' })).toThrow('source');
  });
});
