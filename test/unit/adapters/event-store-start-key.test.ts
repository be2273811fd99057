/**
 * The event store's last line against a forged cursor: should DynamoDB refuse an ExclusiveStartKey that
 * decodeCursor let through, the client gets a 400. dynalite cannot be made to refuse a key decodeCursor accepts
 * (that is the point of decodeCursor), so DynamoDB's answer is mocked here.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbEventStore } from '../../../lambdas/adapters/dynamodb/event-store';
import { encodeCursor } from '../../../lambdas/adapters/dynamodb/list-cursor';
import { BadRequestError } from '../../../lambdas/core/errors';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamodb = mockClient(documents);
afterEach(() => dynamodb.reset());

const events = new DynamoDbEventStore(documents, 'events', { retentionDays: 30, now: () => new Date('2026-11-23T12:00:00.000Z') });
const validationException = () =>
  new DynamoDBServiceException({ name: 'ValidationException', $fault: 'client', $metadata: {}, message: 'The provided starting key is invalid' });

describe('DynamoDbEventStore start keys', () => {
  it('answers a ValidationException about the start key from a cursor as a 400, keeping the cause', async () => {
    dynamodb.on(QueryCommand).rejects(validationException());
    const id = 'evt_0000000000000000000000000000000a';
    const cursor = encodeCursor({ query: 'byDay||', day: '2026-11-23', key: { id, day: '2026-11-23', receivedAtId: `2026-11-23T01:00:00.000Z#${id}` } });

    const refusal = await events.list({ limit: 5, cursor }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(BadRequestError);
    expect(refusal).toMatchObject({ statusCode: 400, code: 'bad_request', message: expect.stringContaining('cursor'), cause: { name: 'ValidationException' } });
  });

  it('leaves a ValidationException without a start key a 500: that is hookhub’s bug, not the client’s', async () => {
    dynamodb.on(QueryCommand).rejects(validationException());
    const failure = await events.list({ limit: 5 }).catch((error: unknown) => error);
    expect(failure).not.toBeInstanceOf(BadRequestError);
    expect(failure).toMatchObject({ name: 'ValidationException' });
  });
});
