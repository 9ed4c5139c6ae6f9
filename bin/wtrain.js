#!/usr/bin/env node
// wtrain's command: the TypeScript sources through tsx in a checkout, else the compiled dist/.
import { existsSync } from 'node:fs';

const src = new URL('../src/cli/main.ts', import.meta.url);
let cli;
if (existsSync(src)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(src.href);
} else {
  cli = await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
// Exit explicitly: a backend may keep the event loop alive after the work is done.
process.exit(await cli.main(process.argv));
