/**
 * Domain errors. Each carries the HTTP status it maps to and a stable machine-readable code, so handlers can
 * answer `{"error": code, "message": ...}` without knowing which use case failed.
 */
export class HookhubError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class UnknownSourceError extends HookhubError {
  constructor(sourceId: string) {
    super(`unknown source '${sourceId}'`, 404, 'unknown_source');
  }
}

export class MethodNotAllowedError extends HookhubError {
  constructor(
    method: string,
    readonly allowed: string[],
  ) {
    super(`method ${method} is not allowed here; use ${allowed.join(', ')}`, 405, 'method_not_allowed');
  }
}

/** Missing, malformed or wrong signature, or a timestamp outside the replay window. */
export class SignatureVerificationError extends HookhubError {
  constructor(
    message: string,
    code: 'missing_signature' | 'invalid_signature' | 'stale_timestamp' | 'missing_timestamp' = 'invalid_signature',
  ) {
    super(message, 401, code);
  }
}

export class PayloadTooLargeError extends HookhubError {
  constructor(actualBytes: number, limitBytes: number) {
    super(`payload is ${actualBytes} bytes; the limit is ${limitBytes} bytes`, 413, 'payload_too_large');
  }
}

export class MalformedPayloadError extends HookhubError {
  constructor(message: string) {
    super(message, 400, 'malformed_payload');
  }
}

/** A JSON body nested deeper than the limit: it would parse, then overflow the stack wherever it is serialized again. */
export class NestingTooDeepError extends HookhubError {
  constructor(limit: number) {
    super(`JSON body nests deeper than ${limit} levels of objects and arrays; the limit is ${limit}`, 400, 'nesting_too_deep');
  }
}

export class BadRequestError extends HookhubError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 400, 'bad_request', options);
  }
}

/** A subscription past the per-connection cap; the message names the cap so a client can tell what to change. */
export class ChannelLimitError extends HookhubError {
  constructor(message: string) {
    super(message, 400, 'channel_limit');
  }
}

export class UnauthorizedError extends HookhubError {
  constructor(message = 'a valid admin key is required (Authorization: Bearer <key>)') {
    super(message, 401, 'unauthorized');
  }
}

export class NotFoundError extends HookhubError {
  constructor(message: string) {
    super(message, 404, 'not_found');
  }
}

/** The request conflicts with one in progress (an idempotency key whose first request has not finished). */
export class ConflictError extends HookhubError {
  constructor(message: string) {
    super(message, 409, 'conflict');
  }
}

/** Thrown at startup for an invalid configuration: never reaches a client. */
export class ConfigurationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}
