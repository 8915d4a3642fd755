/**
 * Type codecs: result decoders by type OID for both formats, and the parameter encoder.
 * Where things happen: text.ts / binary.ts (scalars), numeric.ts, datetime.ts, interval.ts, array.ts,
 * registry.ts (which decoder for which OID), encode.ts (parameters), oids.generated.ts (OID table).
 */
export { encodeParam } from './encode.ts'
export type { Interval } from './interval.ts'
export { arrayElementOid, Oid } from './oids.generated.ts'
export { createTypeRegistry, type Decoder, type TypeOptions, type TypeRegistry } from './registry.ts'
