/** Validates read-API query parameters into an EventListQuery; a bad value is a 400 naming the parameter. */
import { BadRequestError } from '../errors';
import type { EventListQuery } from '../ports';
import { EVENT_STATUSES, type EventStatus } from './inbound-event';

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export function parseEventListQuery(parameters: Readonly<Record<string, string | undefined>>): EventListQuery {
  const query: EventListQuery = { limit: DEFAULT_PAGE_SIZE };
  if (parameters.limit !== undefined) {
    const limit = Number(parameters.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new BadRequestError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    }
    query.limit = limit;
  }
  if (parameters.status !== undefined) {
    if (!EVENT_STATUSES.includes(parameters.status as EventStatus)) {
      throw new BadRequestError(`status must be one of ${EVENT_STATUSES.join(', ')}`);
    }
    query.status = parameters.status as EventStatus;
  }
  if (parameters.source !== undefined) {
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(parameters.source)) throw new BadRequestError('source is not a valid source id');
    query.source = parameters.source;
  }
  if (parameters.cursor !== undefined && parameters.cursor !== '') query.cursor = parameters.cursor;
  return query;
}
