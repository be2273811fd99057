/**
 * The commands `npm start` prints must work as printed: settings that differ from the helpers' defaults are
 * given in front of the command, and with the defaults the commands stay plain.
 */
import { join } from 'node:path';
import { parseHookhubConfig } from '../../lambdas/core/sources/source-definition';
import { shellQuote, tryItCommands, type TryItInput } from '../../lib/local/try-it-commands';

const config = parseHookhubConfig({
  sources: [{ id: 'demo', verification: { scheme: 'standard-webhooks' }, secret: { env: 'HOOKHUB_DEMO_SECRET' } }],
});
const defaults: TryItInput = {
  config,
  httpUrl: 'http://127.0.0.1:3000',
  wsUrl: 'ws://127.0.0.1:3001',
  dataDir: join(__dirname, '..', '..', '.hookhub'),
  adminKey: 'hk_dev_key_0123456789',
  adminKeyFromEnvironment: false,
};
const commandsFor = (input: Partial<TryItInput>) => tryItCommands({ ...defaults, ...input }).map(({ command }) => command);

it('prints the plain commands when everything is at its default', () => {
  expect(commandsFor({})).toEqual([
    'npm run listen -- demo',
    `npm run send -- demo '{"hello":"world"}'`,
    `curl -H 'Authorization: Bearer hk_dev_key_0123456789' http://127.0.0.1:3000/api/events`,
    `curl -H 'Authorization: Bearer hk_dev_key_0123456789' http://127.0.0.1:3000/api/event-types`,
  ]);
});

it('puts the URLs and the data dir in front when they are not the defaults', () => {
  expect(commandsFor({ httpUrl: 'http://127.0.0.1:4000', wsUrl: 'ws://127.0.0.1:4001', dataDir: '/var/tmp/hook hub' }).slice(0, 2)).toEqual([
    `HOOKHUB_WS_URL=ws://127.0.0.1:4001 HOOKHUB_DATA_DIR='/var/tmp/hook hub' npm run listen -- demo`,
    `HOOKHUB_URL=http://127.0.0.1:4000 npm run send -- demo '{"hello":"world"}'`,
  ]);
});

it('passes an admin key that came from the environment to listen, and a config file to send', () => {
  expect(commandsFor({ adminKeyFromEnvironment: true, adminKey: "it's-a-key-0123456", configPath: '/etc/hookhub.json' }).slice(0, 2)).toEqual([
    `HOOKHUB_ADMIN_KEY='it'\\''s-a-key-0123456' npm run listen -- demo`,
    `HOOKHUB_CONFIG=/etc/hookhub.json npm run send -- demo '{"hello":"world"}'`,
  ]);
});

it('quotes for a POSIX shell only what needs it', () => {
  expect(shellQuote('ws://127.0.0.1:4001')).toBe('ws://127.0.0.1:4001');
  expect(shellQuote('a b')).toBe(`'a b'`);
  expect(shellQuote('*')).toBe(`'*'`);
});
