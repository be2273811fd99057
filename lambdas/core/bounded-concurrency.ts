/**
 * Runs `work` on every item, at most `limit` at once. After a failure no further item starts; the calls already in
 * flight are waited for, then the first failure is thrown, so nothing is still working once the caller hears.
 * Used where one call fans out into many (a batch's SendMessageBatch calls, a history page's stores).
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure !== undefined) throw failure.error;
}
