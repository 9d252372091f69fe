import type { NextConfig } from 'next';

// A static export: one build serves every environment, which it finds in /config.json at run time.
const config: NextConfig = {
  output: 'export',
  trailingSlash: true,
  images: { unoptimized: true },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
