// PLACEHOLDER (replaced by the webhook ingest work): decodes an Ably record's payload before it is stored.
import type { PrepareEvent } from '../provider-preset';

export const prepareAblyEvent: PrepareEvent = async (event) => event;
