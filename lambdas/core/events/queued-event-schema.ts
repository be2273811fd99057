/**
 * The worker handler's import of the queued-message decoder, which now lives with its encoder in
 * queued-event-codec.ts. Kept so the handler need not change with it; import decodeQueuedEvent in new code.
 */
export { decodeQueuedEvent as parseQueuedEvent } from './queued-event-codec';
