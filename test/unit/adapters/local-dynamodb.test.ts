/**
 * LocalDynamoDb keeps serving at the endpoint the handlers were given at start: a dynalite thread that dies is
 * replaced by a new one on the same port and data. (Disk-full recovery inside the thread is in
 * test/integration/disk-full.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { LocalDynamoDb } from '../../../lib/local/local-dynamodb';
import { waitUntil } from '../../fixtures/local-clients';

const dataDir = mkdtempSync(join(tmpdir(), 'hookhub-local-dynamodb-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('starts a new dynalite thread on the same port and data when the thread dies', async () => {
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const store = new LocalDynamoDb(dataDir);
  const endpoint = await store.start();
  const documents = DynamoDBDocumentClient.from(store.client());
  await documents.send(
    new CreateTableCommand({
      TableName: 'items',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  await documents.send(new PutCommand({ TableName: 'items', Item: { id: 'before' } }));

  // Stands in for any uncaught exception inside dynalite, which ends its thread.
  await (store as unknown as { thread: Worker }).thread.terminate();

  await waitUntil(
    () => documents.send(new GetCommand({ TableName: 'items', Key: { id: 'before' } })).then((read) => read.Item !== undefined, () => false),
    20_000,
    'a new dynalite thread to serve the old data',
  );
  await documents.send(new PutCommand({ TableName: 'items', Item: { id: 'after' } }));
  expect(store.endpoint).toBe(endpoint);
  expect(console.error).toHaveBeenCalledWith(expect.stringContaining(`${dataDir}: the dynalite thread ended unexpectedly`));
  documents.destroy();
  await store.stop();
  jest.restoreAllMocks();
});
