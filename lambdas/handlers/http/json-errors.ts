/**
 * middy error middleware for HTTP handlers: a domain error becomes its status with `{"error", "message"}`;
 * anything else is logged and answered with a 500 that carries the request id but no internals.
 */
import type { MiddlewareObj } from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { HookhubError, MethodNotAllowedError } from '../../core/errors';
import { jsonResponse } from './json-response';

export function jsonErrors(logger: Logger): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2> {
  return {
    onError: async (request) => {
      const error = request.error;
      if (error instanceof HookhubError) {
        logger.info('request refused', { status: error.statusCode, code: error.code, reason: error.message });
        const headers: Record<string, string> = error instanceof MethodNotAllowedError ? { allow: error.allowed.join(', ') } : {};
        request.response = jsonResponse(error.statusCode, { error: error.code, message: error.message }, headers);
        return;
      }
      logger.error('request failed', { error: error as Error });
      request.response = jsonResponse(500, {
        error: 'internal_error',
        message: 'internal error; the request was not accepted',
        requestId: request.event.requestContext?.requestId,
      });
    },
  };
}
