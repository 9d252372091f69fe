import { defineConfig } from 'vitest/config';

// The dashboard's own unit tests (pure modules of lib/); its pages are tested in a real browser
// from the repository root (test/browser).
export default defineConfig({ test: { include: ['lib/**/*.test.ts'] } });
