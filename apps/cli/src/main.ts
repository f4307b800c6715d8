#!/usr/bin/env node
// The `minibatch` command.
import { run } from './index.js';

process.exitCode = await run(process.argv.slice(2), { out: process.stdout, err: process.stderr });
