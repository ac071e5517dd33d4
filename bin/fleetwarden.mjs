#!/usr/bin/env node
// Launcher for the fleetwarden operator CLI: runs the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
