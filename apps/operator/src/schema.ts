// Tiny builders for the CRD's OpenAPI v3 (structural) schema, plus a pure `applyDefaults` that does
// what the API server's defaulting does, so unit tests and the controller see the same spec.

export interface JsonSchema {
  type?: 'object' | 'string' | 'integer' | 'number' | 'boolean' | 'array';
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  enum?: Array<string | number>;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  maxProperties?: number;
  minItems?: number;
  pattern?: string;
  format?: string;
  nullable?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: Array<{ rule: string; message: string; messageExpression?: string }>;
}

type Opts = Omit<JsonSchema, 'type' | 'properties' | 'items'>;

export function obj(properties: Record<string, JsonSchema>, opts: Opts = {}): JsonSchema {
  return { type: 'object', ...opts, properties };
}

export function str(description: string, opts: Opts = {}): JsonSchema {
  return { type: 'string', description, ...opts };
}

export function int(description: string, min: number, max: number, opts: Opts = {}): JsonSchema {
  return { type: 'integer', description, minimum: min, maximum: max, format: 'int32', ...opts };
}

export function bool(description: string, def: boolean): JsonSchema {
  return { type: 'boolean', description, default: def };
}

export function oneOf(description: string, values: readonly string[], def?: string): JsonSchema {
  return { type: 'string', description, enum: [...values], ...(def === undefined ? {} : { default: def }) };
}

export function arr(description: string, items: JsonSchema, opts: Opts = {}): JsonSchema {
  return { type: 'array', description, items, ...opts };
}

export function rule(rule: string, message: string): { rule: string; message: string } {
  return { rule, message };
}

/**
 * Fills in schema defaults the way the API server does for a structural schema: a missing property
 * with a `default` gets it (then its own nested defaults); objects present get their properties
 * defaulted; arrays default their items. Pure; returns a new value.
 */
export function applyDefaults(schema: JsonSchema, value: unknown): unknown {
  if (value === undefined) {
    if (schema.default === undefined) return undefined;
    value = structuredClone(schema.default);
  }
  if (schema.type === 'object' && value && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      const v = applyDefaults(sub, out[key]);
      if (v !== undefined) out[key] = v;
    }
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      for (const key of Object.keys(out)) {
        if (!schema.properties?.[key])
          out[key] = applyDefaults(schema.additionalProperties as JsonSchema, out[key]);
      }
    }
    return out;
  }
  if (schema.type === 'array' && Array.isArray(value) && schema.items) {
    return value.map((v) => applyDefaults(schema.items as JsonSchema, v));
  }
  return value;
}

/**
 * Replaces every `default: {}` of an object by the object its nested defaults produce, so a default
 * is complete by itself: the API server validates defaults (CEL rules included) as they are written.
 */
export function materializeDefaults(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, materializeDefaults(v)]),
    );
  }
  if (schema.items) out.items = materializeDefaults(schema.items);
  if (out.type === 'object' && out.default !== undefined && typeof out.default === 'object') {
    const { default: def, ...rest } = out;
    out.default = applyDefaults(rest, def);
  }
  return out;
}
