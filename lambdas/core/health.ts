/** Health of the pipeline: each check is independent, so one failing dependency is named rather than hiding the rest. */
export interface HealthProbe {
  name: string;
  check: () => Promise<Record<string, unknown>>;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, { ok: boolean } & Record<string, unknown>>;
}

export async function checkHealth(probes: readonly HealthProbe[]): Promise<HealthReport> {
  const results = await Promise.all(
    probes.map(async (probe) => {
      try {
        return [probe.name, { ok: true, ...(await probe.check()) }] as const;
      } catch (error) {
        return [probe.name, { ok: false, error: error instanceof Error ? error.name : 'Error' }] as const;
      }
    }),
  );
  const checks = Object.fromEntries(results);
  return { status: results.every(([, result]) => result.ok) ? 'ok' : 'degraded', checks };
}
