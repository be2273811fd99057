/**
 * The "try it" commands `npm start` prints. They must work when pasted into another terminal as printed, so every
 * setting the helpers would otherwise guess from their defaults (ports, data dir, admin key, config file) is put
 * in front of the command as an environment assignment, and only then: with default settings the commands stay
 * short.
 */
import { join, resolve } from 'node:path';
import type { HookhubConfig, SourceDefinition } from '../../lambdas/core/sources/source-definition';
import { DEFAULT_DATA_DIR, DEFAULT_HTTP_PORT, DEFAULT_WS_PORT } from './local-settings';

/** `npm run` always runs in the package root, so that is where the helpers resolve a relative path from. */
const PACKAGE_ROOT = join(__dirname, '..', '..');

export interface TryItInput {
  config: HookhubConfig;
  httpUrl: string;
  wsUrl: string;
  dataDir: string;
  adminKey: string;
  /** True when the key came from HOOKHUB_ADMIN_KEY: then it is not in the data dir, and listen needs it given. */
  adminKeyFromEnvironment: boolean;
  /** HOOKHUB_CONFIG as the runtime got it, if set: send reads the source's scheme from the same file. */
  configPath?: string;
}

export interface TryItCommand {
  command: string;
  comment: string;
}

export function tryItCommands(input: TryItInput): TryItCommand[] {
  const source = input.config.sources.find((candidate) => candidate.id === 'demo') ?? input.config.sources[0]!;

  const listenEnvironment: Array<[string, string]> = [];
  if (input.wsUrl !== `ws://127.0.0.1:${DEFAULT_WS_PORT}`) listenEnvironment.push(['HOOKHUB_WS_URL', input.wsUrl]);
  if (input.adminKeyFromEnvironment) listenEnvironment.push(['HOOKHUB_ADMIN_KEY', input.adminKey]);
  else if (resolve(input.dataDir) !== join(PACKAGE_ROOT, DEFAULT_DATA_DIR)) listenEnvironment.push(['HOOKHUB_DATA_DIR', resolve(input.dataDir)]);

  const sendEnvironment: Array<[string, string]> = [];
  if (input.httpUrl !== `http://127.0.0.1:${DEFAULT_HTTP_PORT}`) sendEnvironment.push(['HOOKHUB_URL', input.httpUrl]);
  if (input.configPath) sendEnvironment.push(['HOOKHUB_CONFIG', resolve(input.configPath)]);

  return [
    { command: `${assignments(listenEnvironment)}npm run listen -- ${shellQuote(channelOf(source))}`, comment: 'watch events arrive over WebSocket' },
    { command: `${assignments(sendEnvironment)}npm run send -- ${shellQuote(source.id)} '{"hello":"world"}'`, comment: `send a signed ${source.id} event` },
    { command: `curl -H ${shellQuote(`Authorization: Bearer ${input.adminKey}`)} ${shellQuote(`${input.httpUrl}/api/events`)}`, comment: 'list stored events' },
    {
      command: `curl -H ${shellQuote(`Authorization: Bearer ${input.adminKey}`)} ${shellQuote(`${input.httpUrl}/api/event-types`)}`,
      comment: 'outbound event types an endpoint can subscribe to (README: Outbound webhooks)',
    },
  ];
}

/** The channel the source's events arrive on; `*` when it comes from a payload field and cannot be known here. */
function channelOf(source: SourceDefinition): string {
  if (source.channel?.name) return source.channel.name;
  return source.channel?.field ? '*' : source.id;
}

function assignments(environment: Array<[string, string]>): string {
  return environment.map(([name, value]) => `${name}=${shellQuote(value)} `).join('');
}

/** POSIX shell quoting: plain words stay as they are, anything else goes in single quotes. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
