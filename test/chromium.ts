/**
 * How every test starts Debian's Chromium (never `playwright install`): its path, and the flags that keep it
 * from reaching for the network this machine does not have (see ../shared/toolchain.md).
 */
export const chromiumLaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
}
