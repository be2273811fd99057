/**
 * An endpoint's health as GET /api/endpoints/{id}/stats shows it: delivery counts over the last 24 hours and 7 days,
 * read from hourly counters (a week is 168 small items, not every attempt), with the endpoint's own failure run and
 * p50/p95 delivery durations over the week.
 */
import { mergeBuckets, percentileFromBuckets } from './duration-histogram';
import type { Endpoint } from './outbound-model';
import type { EndpointHourStats } from './outbound-ports';

const HOUR_MS = 60 * 60 * 1000;
const DAY_HOURS = 24;
const WEEK_HOURS = 7 * 24;
const HOUR_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}$/;

export interface DeliveryCounts {
  total: number;
  succeeded: number;
  failed: number;
  /** succeeded / total, from 0 to 1; null when nothing was tried. */
  successRate: number | null;
}

export interface EndpointStatsSummary {
  last24h: DeliveryCounts;
  last7d: DeliveryCounts;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  consecutiveFailures: number;
  failingSince: string | null;
  disabled: boolean;
  disabledReason: string | null;
  /** Over the 7 days, in whole ms (each the upper bound of its histogram bucket); null without deliveries. */
  durationMs: { p50: number | null; p95: number | null };
}

/** The UTC hour of a time, `YYYY-MM-DDTHH`: the key of an hour's counters (these strings sort by time). */
export function hourKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13);
}

/** The first hour summarizeEndpointStats reads: what to ask DeliveryLog.hourStats for. */
export function statsSinceHour(nowMs: number): string {
  return hourKey(nowMs - (WEEK_HOURS - 1) * HOUR_MS);
}

/**
 * The last 24 hours are the current hour and the 23 before it; the last 7 days the current hour and the 167 before.
 * Hours after the current one are counted too: they can only come from a worker whose clock runs ahead, and their
 * deliveries are recent. Several entries for one hour add up.
 */
export function summarizeEndpointStats(endpoint: Endpoint, hours: readonly EndpointHourStats[], nowMs: number): EndpointStatsSummary {
  const dayStart = hourKey(nowMs - (DAY_HOURS - 1) * HOUR_MS);
  const weekStart = statsSinceHour(nowMs);
  const day = emptyTally();
  const week = emptyTally();
  let weekDurations: Record<number, number> = {};
  for (const entry of hours) {
    if (!HOUR_KEY.test(entry.hour) || entry.hour < weekStart) continue;
    addTo(week, entry);
    weekDurations = mergeBuckets(weekDurations, entry.durationBuckets);
    if (entry.hour >= dayStart) addTo(day, entry);
  }
  return {
    last24h: countsOf(day),
    last7d: countsOf(week),
    lastSuccessAt: endpoint.lastSuccessAt ?? null,
    lastFailureAt: endpoint.lastFailureAt ?? null,
    consecutiveFailures: endpoint.consecutiveFailures,
    failingSince: endpoint.failingSince ?? null,
    disabled: endpoint.disabled,
    disabledReason: endpoint.disabledReason ?? null,
    durationMs: { p50: wholeMs(percentileFromBuckets(weekDurations, 50)), p95: wholeMs(percentileFromBuckets(weekDurations, 95)) },
  };
}

interface Tally {
  succeeded: number;
  failed: number;
}

function emptyTally(): Tally {
  return { succeeded: 0, failed: 0 };
}

function addTo(tally: Tally, entry: EndpointHourStats): void {
  tally.succeeded += entry.succeeded;
  tally.failed += entry.failed;
}

function countsOf(tally: Tally): DeliveryCounts {
  const total = tally.succeeded + tally.failed;
  return { total, succeeded: tally.succeeded, failed: tally.failed, successRate: total === 0 ? null : tally.succeeded / total };
}

/** Durations are measured in whole ms; rounding the bucket's bound up keeps it an upper bound. */
function wholeMs(boundMs: number | undefined): number | null {
  return boundMs === undefined ? null : Math.ceil(boundMs);
}
