// PLACEHOLDER (replaced by the rule-registration work): ensures an Ably source's integration rule at deploy time.
import type { CdkCustomResourceEvent, CdkCustomResourceResponse } from 'aws-lambda';

export const handler = async (event: CdkCustomResourceEvent): Promise<CdkCustomResourceResponse> => ({
  PhysicalResourceId: event.RequestType === 'Create' ? `ably-rule-${String(event.ResourceProperties.SourceId)}` : event.PhysicalResourceId,
  Data: { status: 'skipped' },
});
