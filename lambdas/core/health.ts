/** Health of the pipeline: each check is independent, so one failing dependency is named rather than hiding the rest. */
export interface HealthProbe {
  name: string;
  /**
   * Details to report. A probe that reached its dependency but found it in a bad state returns `ok: false` and a
   * `reason`; a probe that could not reach it throws.
   */
  check: () => Promise<Record<string, unknown> & { ok?: boolean; reason?: string }>;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, { ok: boolean } & Record<string, unknown>>;
}

export async function checkHealth(probes: readonly HealthProbe[]): Promise<HealthReport> {
  const results = await Promise.all(
    probes.map(async (probe) => {
      try {
        const details = await probe.check();
        return [probe.name, { ...details, ok: details.ok ?? true }] as const;
      } catch (error) {
        return [probe.name, { ok: false, error: error instanceof Error ? error.name : 'Error' }] as const;
      }
    }),
  );
  const checks = Object.fromEntries(results);
  return { status: results.every(([, result]) => result.ok) ? 'ok' : 'degraded', checks };
}

/**
 * A dead-letter queue holding anything means events were accepted and then given up on: an operator has to look,
 * so the pipeline is degraded until they are redriven or deleted.
 */
export function deadLetterQueueHealth(depth: { visible: number; inFlight: number; delayed: number }) {
  const waiting = depth.visible + depth.inFlight + depth.delayed;
  return waiting === 0
    ? { ...depth, ok: true }
    : { ...depth, ok: false, reason: `${waiting} message(s) in the dead-letter queue: inspect GET /api/events?status=failed, then redrive or delete them` };
}
