/**
 * BatchGetItem and BatchWriteItem at their request limits (100 keys, 25 writes), asking again for what DynamoDB
 * left unprocessed (throttling, or a BatchGet response past 16 MB) with a short backoff, a bounded number of times.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchGetCommandOutput,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

const MAX_GET_KEYS = 100;
const MAX_WRITE_REQUESTS = 25;
/** Requests per chunk before giving up on what is still unprocessed: backoff 40 ms doubling, about 2.5 s in all. */
const MAX_ROUNDS = 7;

type Key = Record<string, unknown>;
type WriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Key } };

const pause = (round: number) => new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));

/** The items of those keys that exist, in no particular order. Keys must be distinct. */
export async function batchGetItems(documents: DynamoDBDocumentClient, tableName: string, keys: readonly Key[]): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for (let start = 0; start < keys.length; start += MAX_GET_KEYS) {
    let pending: Key[] | undefined = keys.slice(start, start + MAX_GET_KEYS);
    for (let round = 0; pending && pending.length > 0; round++) {
      if (round === MAX_ROUNDS) throw new Error(`DynamoDB left ${pending.length} keys of ${tableName} unprocessed after ${round} requests`);
      if (round > 0) await pause(round);
      const result: BatchGetCommandOutput = await documents.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending } } }));
      found.push(...(result.Responses?.[tableName] ?? []));
      pending = result.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return found;
}

/**
 * Writes in requests of 25 that may span tables (one request for a delivery and its attempt). Writes must be
 * distinct per key: DynamoDB refuses a request naming one key twice.
 */
export async function batchWriteItems(documents: DynamoDBDocumentClient, writes: readonly { tableName: string; request: WriteRequest }[]): Promise<void> {
  for (let start = 0; start < writes.length; start += MAX_WRITE_REQUESTS) {
    let pending: Record<string, WriteRequest[]> | undefined = groupByTable(writes.slice(start, start + MAX_WRITE_REQUESTS));
    for (let round = 0; pending && Object.keys(pending).length > 0; round++) {
      if (round === MAX_ROUNDS) {
        const left = Object.values(pending).reduce((sum, requests) => sum + requests.length, 0);
        throw new Error(`DynamoDB left ${left} writes unprocessed after ${round} requests`);
      }
      if (round > 0) await pause(round);
      const result: BatchWriteCommandOutput = await documents.send(new BatchWriteCommand({ RequestItems: pending as never }));
      pending = Object.fromEntries(Object.entries(result.UnprocessedItems ?? {}).filter(([, requests]) => requests.length > 0)) as Record<string, WriteRequest[]>;
    }
  }
}

function groupByTable(writes: readonly { tableName: string; request: WriteRequest }[]): Record<string, WriteRequest[]> {
  const grouped: Record<string, WriteRequest[]> = {};
  for (const { tableName, request } of writes) (grouped[tableName] ??= []).push(request);
  return grouped;
}
