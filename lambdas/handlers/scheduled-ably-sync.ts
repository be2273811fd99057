// PLACEHOLDER (replaced by the history-sync work): the scheduled Ably history sync, invoked with {"source": "<id>"}.
export const handler = async (event: { source?: string }): Promise<void> => {
  void event;
  throw new Error('the Ably history sync is not built yet');
};
