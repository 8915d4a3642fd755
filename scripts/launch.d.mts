// Types of scripts/launch.mjs (plain JavaScript, so that Node 18 and 20 can parse it), for its tests.

/** The Node version bootstrapped when the running one is older than 22.12. */
export declare const NODE_VERSION: string
/** The oldest Node the repository runs on, as [major, minor]. */
export declare const MIN_NODE: [number, number]
/** Whether a `process.versions.node`-style version is at least 22.12. */
export declare function isRecentNode(version: string): boolean
/** The npm package (with version) holding a Node binary for a platform and architecture. */
export declare function nodePackage(platform?: string, arch?: string): string
/** The `npm` arguments that install Node 24 into `.tools/node24`. */
export declare function bootstrapArgs(pkg?: string): string[]
/** The message (after `edgepg: `) for a missing system piece that cannot be installed here. */
export declare function missingMessage(
  piece: 'chromium' | 'openssl',
  facts: { isRoot: boolean; hasApt: boolean; chromiumPath: string },
): string
/** Parses `[--needs=a,b] [--build] command args…`. */
export declare function parseLaunchArgs(argv: string[]): {
  needs: string[]
  build: boolean
  command: string | undefined
  args: string[]
}
/** Whether a vitest command line runs the projects that need Chromium. */
export declare function needsBrowser(args: string[]): boolean
/** Runs a launch command line; resolves with the command's exit code or the signal it died of. */
export declare function main(argv: string[]): Promise<{ code: number | null; signal?: NodeJS.Signals | null }>
