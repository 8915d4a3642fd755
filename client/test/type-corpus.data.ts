/**
 * The differential type corpus: SQL expressions of every type edgepg decodes (and some it only passes through
 * as text), edge values first. type-corpus.test.ts evaluates each one on every path and compares the value
 * with the server's own text of it. No volatile functions: every expression means the same in one session.
 */

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`
const typed = (type: string, values: readonly string[]) => values.map((v) => `${quote(v)}::${type}`)

const integers = [
  ...typed('int2', ['0', '1', '-1', '-32768', '32767']),
  ...typed('int4', ['0', '42', '-7', '-2147483648', '2147483647']),
  ...typed('int8', [
    '0',
    '1',
    '-9223372036854775808',
    '9223372036854775807',
    '9007199254740993',
    '-9007199254740993',
    '4294967296',
  ]),
  ...typed('oid', ['0', '2147483648', '4294967295']),
]

const floats = [
  ...typed('float4', [
    '0',
    '-0',
    'NaN',
    'Infinity',
    '-Infinity',
    '1.1',
    '0.1',
    '-2.5',
    '3.4028235e38',
    '1e-45',
    '1.1754944e-38',
    '16777217',
    '123456.79',
    '1e10',
  ]),
  ...typed('float8', [
    '0',
    '-0',
    'NaN',
    'Infinity',
    '-Infinity',
    '0.1',
    '0.30000000000000004',
    '-1.5',
    '4.35',
    '900.7199254740993',
    '9007199254740993',
    '9007199254740991',
    '-9007199254740993e-3',
    '1.7976931348623157e308',
    '5e-324',
    '2.2250738585072014e-308',
    '1e15',
    '1e16',
    '1e21',
    '1e22',
    '1e23',
    '1e-7',
    '0.000001',
    '123456789012345680000',
    '3.141592653589793',
  ]),
]

const numerics = typed('numeric', [
  '0',
  '-0',
  '0.0000',
  'NaN',
  'Infinity',
  '-Infinity',
  '1.50',
  '-0.001',
  '12345678901234567890.000000000123456789',
  '1e100',
  '-1e-30',
  '9999999999999999999999999999.9999',
  '0.1',
  '-123.4500',
  `${'9'.repeat(300)}.${'1'.repeat(100)}`,
])

const strings = [
  ...typed('text', [
    '',
    'hello',
    '\uFEFF',
    '\uFEFFbom first',
    'a\uFEFFb',
    'naïve café',
    'e\u0301', // combining accent
    '日本語のテキスト',
    'مرحبا',
    '😀',
    '👩‍👩‍👧‍👦 family',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 astral',
    'NULL',
    'tab\there, newline\nthere',
    'quote \' and "double" and \\backslash',
    'x'.repeat(5000),
    `${'é'.repeat(40)}`,
    ' leading and trailing ',
  ]),
  ...typed('varchar', ['', 'varying', '😀x']),
  ...typed('char(5)', ['ab', '']),
  ...typed('bpchar', ['ab ']),
  ...typed('name', ['', 'a', 'x'.repeat(70), 'naïve']),
  ...typed('"char"', ['a', '', 'È', 'é', '\\', ' ', '"', '~', '0']),
  `chr(127)::"char"`,
  `'x'::unknown::text`,
  `'<a b="1">t</a>'::xml`,
]

const bytea = typed('bytea', [
  '\\x',
  '\\x00ff',
  '\\xdeadbeef',
  'abc',
  '\\000\\001',
  '\\\\',
  '\\x' + '0f'.repeat(300),
])

const json = [
  ...typed('json', [
    '{}',
    '[]',
    'null',
    '1',
    '-1.5e3',
    '"s"',
    '{"a":[1,2,{"b":null}]}',
    ' {"spaced" : [ 1 , 2 ] } ',
    '{"a":1,"a":2}',
    '"\\ud83d\\ude00 and \\u00e9"',
    '12345678901234567890',
    '{"\uFEFFkey":"\uFEFF"}',
  ]),
  ...typed('jsonb', [
    '{}',
    '[]',
    'null',
    'true',
    '0.1',
    '"s"',
    '{"b":1,"a":[1.5,"x",null]}',
    '{"a":1,"a":2}',
    '"\\u00e9😀"',
    '1e-5',
    '{"nested":{"deeper":{"deepest":[[[]]]}}}',
  ]),
]

const uuids = typed('uuid', [
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
])

const dates = typed('date', [
  '2024-02-29',
  '2000-01-01',
  '1999-12-31',
  '1970-01-01',
  '0001-01-01',
  '0001-12-31 BC',
  '0044-03-15 BC',
  '4714-11-24 BC',
  '5874897-12-31',
  '10000-01-01',
  '1582-10-10',
  'infinity',
  '-infinity',
])

const timestamps = typed('timestamp', [
  '2024-02-29 13:04:05.123456',
  '2024-02-29 13:04:05.5',
  '1970-01-01 00:00:00',
  '1969-12-31 23:59:59.999999',
  '1969-12-31 23:59:59.0005',
  '2000-01-01 00:00:00.000001',
  '0001-01-01 00:00:00',
  '0099-12-31 23:59:59',
  '0044-03-15 12:00:00.5 BC',
  '4714-11-24 00:00:00 BC',
  '1000-06-15 12:30:00',
  '9999-12-31 23:59:59.999',
  '10000-01-01 00:00:00',
  '275760-09-12 23:59:59.999999',
  '275760-09-13 00:00:00',
  'infinity',
  '-infinity',
])

const timestamptzs = typed('timestamptz', [
  '2024-02-29 13:04:05.123456+00',
  '2024-06-01 12:00:00+05:45',
  '2024-03-10 10:00:00Z',
  '2024-03-10 09:59:59.999Z',
  '2024-11-03 09:30:00Z',
  '2024-09-29 13:45:00Z',
  '2024-04-06 13:59:59Z',
  '1900-01-01 00:00:00+00',
  '1847-12-01 00:00:00+00',
  '1970-01-01 00:00:00+00',
  '1969-12-31 23:59:59.999+00',
  '2038-01-19 03:14:08+00',
  '2100-07-01 00:00:00+00',
  '0044-03-15 12:00:00+00 BC',
  '4714-11-24 00:00:00+00 BC',
  '0001-01-01 00:00:00+00',
  '275760-09-12 23:59:59.999+00',
  '275760-09-13 00:00:00+00',
  '275760-09-12 10:00:00.5-13:59',
  'infinity',
  '-infinity',
])

const times = [
  ...typed('time', ['00:00:00', '24:00:00', '12:34:56.789']),
  ...typed('timetz', ['12:34:56.789+05:30', '00:00:00-12']),
]

/** Intervals of every sign mix, built with make_interval so their input is read the same under every style. */
const intervalMixes: string[] = []
for (const months of [0, 14, -14, 1, -1]) {
  for (const days of [0, 3, -3]) {
    for (const seconds of ['0', '14706.789', '-14706.789', '0.000001', '-0.5']) {
      intervalMixes.push(`make_interval(0, ${months}, 0, ${days}, 0, 0, ${seconds})`)
    }
  }
}

const intervals = [
  ...intervalMixes,
  `'infinity'::interval`,
  `'-infinity'::interval`,
  `'0'::interval`,
  `make_interval(178956970, 7)`,
  `make_interval(-178956970, -8)`,
  `make_interval(days => 2147483647)`,
  `make_interval(days => -2147483648)`,
  `make_interval(hours => 2501999)`,
  `make_interval(hours => -2501999, secs => -0.000001)`,
  `make_interval(mins => 1, secs => 1)`,
  `make_interval(hours => 100)`,
  `make_interval(secs => 59.999999)`,
  `make_interval(weeks => 1)`,
  `make_interval(months => 12)`,
  `make_interval(secs => 1)`,
  `make_interval(days => 1, secs => -1)`,
  `make_interval(months => -1, days => 1)`,
]

const arrays = [
  `'{}'::int4[]`,
  `array[]::text[]`,
  `'{1,NULL,3}'::int4[]`,
  `'{NULL}'::int4[]`,
  `'{{1,2},{3,4}}'::int4[]`,
  `'{{{1}},{{2}}}'::int4[]`,
  `'[0:1]={7,8}'::int4[]`,
  `'[-2:-1][1:2]={{1,2},{3,4}}'::int2[]`,
  `'{-9223372036854775808,9223372036854775807,NULL}'::int8[]`,
  `'{0,4294967295}'::oid[]`,
  `'{t,f,NULL}'::bool[]`,
  `'{NaN,Infinity,-Infinity,-0,0.1,900.7199254740993}'::float8[]`,
  `'{1.1,NaN,-0}'::float4[]`,
  `'{1.10,-2,NaN,Infinity}'::numeric[]`,
  `array['a b', '', 'NULL', null, '\\', '"q"', '{x}', ' s ', 'a,b', 'x;y', E'\\uFEFFbom', '😀', e'tab\\t']::text[]`,
  `array['ab', 'c']::char(3)[]`,
  `array['x', null, 'y,z']::varchar[]`,
  `array['a', 'b']::name[]`,
  `array['a', '', 'È', '\\', '"']::"char"[]`,
  `array['\\x00ff'::bytea, null, '\\x'::bytea]`,
  `'{"2024-02-29","0044-03-15 BC",infinity,-infinity,NULL}'::date[]`,
  `'{"2024-02-29 13:04:05.123456","0044-03-15 12:00:00.5 BC",infinity}'::timestamp[]`,
  `'{"2024-02-29 13:04:05.123456+00","1900-01-01 00:00:00+00","2024-03-10 10:00:00Z",-infinity}'::timestamptz[]`,
  `array[make_interval(1, 2, 0, -3, 4, 5, 6.789), '0'::interval, make_interval(days => -1), 'infinity'::interval]`,
  `'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'::uuid[]`,
  `array['{"a":1}'::jsonb, '[1,"x"]'::jsonb, 'null'::jsonb, null]`,
  `array['{"a" : 1}'::json, '"s"'::json]`,
  `'{(0,0),(1,1);(2,2),(3,3)}'::box[]`,
  `'{"(1,2)","(3.5,-4)"}'::point[]`,
  `'{192.168.0.1/24,::1}'::inet[]`,
  `'{1.50,-2}'::money[]`,
  `'{"[1,5)",empty}'::int4range[]`,
]

const others = [
  `'192.168.0.1'::inet`,
  `'192.168.0.0/24'::cidr`,
  `'::ffff:1.2.3.4/128'::inet`,
  `'2001:db8::/32'::cidr`,
  `'08:00:2b:01:02:03'::macaddr`,
  `'12.34'::money`,
  `'-0.01'::money`,
  `B'10110'`,
  `B'1'::bit(8)`,
  `''::varbit`,
  `'[1,10)'::int4range`,
  `'empty'::int4range`,
  `'(,)'::numrange`,
  `'[2024-01-01,infinity)'::daterange`,
  `'[2024-01-01 00:00+00,2024-01-02 00:00+00)'::tstzrange`,
  `'{[1,2),[5,6)}'::int4multirange`,
  `point(1.5, 2)`,
  `'((0,0),(1,1))'::box`,
  `'a fat cat'::tsvector`,
  `'fat & cat'::tsquery`,
  `'pg_catalog.pg_class'::regclass`,
  `'int4'::regtype`,
  `'(1,2)'::tid`,
  `'0/16B3748'::pg_lsn`,
  `row(1, 'a b', null)`,
]

/** Every expression of the corpus; each must decode without error on every path. */
export const corpus: readonly string[] = [
  `true`,
  `false`,
  ...integers,
  ...floats,
  ...numerics,
  ...strings,
  ...bytea,
  ...json,
  ...uuids,
  ...dates,
  ...timestamps,
  ...timestamptzs,
  ...times,
  ...intervals,
  ...arrays,
  ...others,
]

/**
 * Values a JavaScript value cannot represent exactly: the expected value is written here (intervals whose
 * microseconds pass 2^53 come back as the nearest double), and checked on every path.
 */
export const lossy: readonly { sql: string; value: unknown }[] = [
  {
    sql: `'2562047788 hours 54.775807 sec'::interval`,
    value: { months: 0, days: 0, microseconds: 2 ** 63 },
  },
  {
    sql: `'-2562047788 hours -54.775808 sec'::interval`,
    value: { months: 0, days: 0, microseconds: -(2 ** 63) },
  },
  {
    sql: `'2562047787 hours 59 mins'::interval`,
    value: { months: 0, days: 0, microseconds: Number(2562047787n * 3_600_000_000n + 59n * 60_000_000n) },
  },
]

/** Values no JavaScript value holds: the same encode error on every path (read them with dates: 'string'). */
export const undecodable: readonly { sql: string; error: RegExp }[] = [
  { sql: `'294276-12-31 23:59:59.999999'::timestamp`, error: /found 294276-12-31 23:59:59 UTC/ },
  { sql: `'294276-12-31 23:59:59+00'::timestamptz`, error: /found 294276-12-31 23:59:59 UTC/ },
  { sql: `'275760-09-13 00:00:00.001'::timestamp`, error: /found 275760-09-13 00:00:00 UTC/ },
  { sql: `'275760-09-13 00:00:01+00'::timestamptz`, error: /found 275760-09-13 00:00:01 UTC/ },
  {
    sql: `array['100000-01-01'::timestamp, '294276-01-01'::timestamp]`,
    error: /found 294276-01-01 00:00:00 UTC/,
  },
]
