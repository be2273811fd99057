/** Each provider preset's processing step, built with its adapters (the worker and the history sync run these). */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventProcessor } from '../../core/ports';
import type { ProviderPresetName } from '../../providers/preset-options';
import { createAblyProcessor } from '../../providers/ably/ably-processing';
import { DynamoDbAblyMessageLog } from '../../adapters/dynamodb/ably-message-log';

export function presetProcessors(
  settings: { ablyMessagesTable: string; ablyStateTable: string; retentionDays: number },
  documentClient: DynamoDBDocumentClient,
): Partial<Record<ProviderPresetName, EventProcessor>> {
  const log = new DynamoDbAblyMessageLog(documentClient, { messages: settings.ablyMessagesTable, state: settings.ablyStateTable });
  return { ably: createAblyProcessor({ log, retentionDays: settings.retentionDays, now: () => new Date() }) };
}
