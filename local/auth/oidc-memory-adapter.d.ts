// oidc-provider's own in-memory adapter (what it uses when given none); @types/oidc-provider does
// not declare the module it lives in.
declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  import type { AdapterConstructor } from 'oidc-provider';

  const MemoryAdapter: AdapterConstructor;
  export default MemoryAdapter;
}
