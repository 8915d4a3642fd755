/**
 * The packages as a user gets them: `npm pack` tarballs installed with their peers in a fresh project outside
 * the repository, every export imported by plain Node from `dist/`, and one query through each integration
 * against the test PostgreSQL (scripts/pack-check.ts does the work).
 */
import { expect, inject, it } from 'vitest'
import { packageFolders, packCheck } from '../../scripts/pack-check.ts'

it('packs every package into a tarball that installs, imports and queries in a fresh project', () => {
  const pg = inject('pg')
  const { user, password } = pg.roles.scram
  process.env.DATABASE_URL = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${pg.host}:${pg.port}/${pg.database}`
  try {
    const lines = packCheck()
    const integrations = packageFolders().filter((folder) => folder.startsWith('integrations/'))
    expect(integrations.length).toBeGreaterThan(0)
    expect(lines.filter((line) => line.startsWith('packed '))).toHaveLength(integrations.length + 2)
    for (const line of lines.filter((line) => line.startsWith('ran @edgepg/') && !line.includes('shared'))) {
      expect(line).toMatch(/: n = 42$/)
    }
    expect(lines.filter((line) => line.startsWith('ran '))).toHaveLength(integrations.length + 2)
  } finally {
    delete process.env.DATABASE_URL
  }
}, 240_000)
