/** Prisma's configuration for the test client: the schema only (no datasource URL; no migrations run). */
export default { schema: 'prisma/schema.prisma' }
