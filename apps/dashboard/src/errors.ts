import { STATUS_CODES } from 'node:http';
import type { ApiError } from './api-types.ts';
import { BadRequestError } from './params.ts';

/** Redis or PostgreSQL could not answer: 503, so clients and load balancers retry elsewhere or later. */
export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError';
  readonly statusCode = 503;
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
  readonly statusCode = 404;
}

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** The parameter an ajv error is about, and a sentence naming it. */
export function describeValidation(
  errors: readonly AjvError[],
  context: string | undefined,
): { parameter?: string; message: string } {
  const e = errors[0];
  if (e === undefined) return { message: `invalid ${context ?? 'request'}` };
  const params = e.params ?? {};
  const parameter =
    (params.missingProperty as string | undefined) ??
    (params.additionalProperty as string | undefined) ??
    (e.instancePath ? e.instancePath.replace(/^\//, '').split('/')[0] : undefined);
  const p = parameter ?? context ?? 'request';
  switch (e.keyword) {
    case 'required':
      return { parameter, message: `${p} is required` };
    case 'additionalProperties':
      return {
        parameter,
        message: `unknown ${context === 'params' ? 'path parameter' : 'query parameter'} ${p}`,
      };
    case 'enum':
      return {
        parameter,
        message: `${p} must be one of ${((params.allowedValues as unknown[] | undefined) ?? []).join(', ')}`,
      };
    case 'pattern':
      return {
        parameter,
        message: `${p} must be an upper-case symbol such as AAPL or BTCUSDT (1-32 characters of A-Z, 0-9 and . _ : - /)`,
      };
    case 'type':
      return {
        parameter,
        message: `${p} must be ${params.type === 'integer' ? 'an integer' : `of type ${String(params.type)}`}`,
      };
    default:
      return { parameter, message: `${p} ${e.message ?? 'is invalid'}` };
  }
}

/** Any thrown value as the API's error body. */
export function toApiError(err: unknown): ApiError {
  const e = err as {
    statusCode?: number;
    message?: string;
    validation?: AjvError[];
    validationContext?: string;
    parameter?: string;
  };
  if (Array.isArray(e.validation)) {
    const { parameter, message } = describeValidation(e.validation, e.validationContext);
    return { statusCode: 400, error: 'Bad Request', message, ...(parameter ? { parameter } : {}) };
  }
  if (err instanceof BadRequestError) {
    return { statusCode: 400, error: 'Bad Request', message: err.message, parameter: err.parameter };
  }
  const status =
    typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  const message = status === 500 ? 'internal error' : (e.message ?? STATUS_CODES[status] ?? 'error');
  return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message };
}

/** Runs a Redis or database call, turning connection and schema failures into a 503 that says which. */
export async function dependency<T>(what: 'Redis' | 'PostgreSQL', call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof BadRequestError || err instanceof NotFoundError) throw err;
    const e = err as { code?: string; message?: string };
    if (e.code === '42P01') {
      throw new ServiceUnavailableError(`${what}: the schema is not migrated yet (run tickflow migrate)`, {
        cause: err,
      });
    }
    throw new ServiceUnavailableError(`${what} unavailable: ${e.message ?? String(err)}`, { cause: err });
  }
}
