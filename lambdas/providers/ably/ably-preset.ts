// PLACEHOLDER (replaced by the webhook ingest work): the `ably` preset.
import { BadRequestError } from '../../core/errors';
import type { ProviderPreset } from '../provider-preset';

export const ablyPreset: ProviderPreset = {
  name: 'ably',
  async ingest() {
    throw new BadRequestError('the ably preset is not built yet');
  },
};
