/**
 * Who may see what in the dashboard. The API decides what a caller may read and do (functions/catalog.ts
 * says per route); these rules only keep a page from offering what its reader could not use. Pure.
 */
import { GROUPS_CLAIM, parseGroups, roleOf, type Role } from '../../shared/auth/principal';

/** 'none': anyone, signed in or not (the 404 page, the sign-in callback). */
export type PageAccess = Role | 'none';

/** Every page, with who may open it; a customer's pages show that customer's orders only. */
export const PAGES = [
  { href: '/', label: 'Overview', access: 'operator' },
  { href: '/orders/', label: 'Orders', access: 'customer' },
  { href: '/orders/new/', label: 'New order', access: 'customer' },
  { href: '/events/', label: 'Events', access: 'customer' },
  { href: '/inventory/', label: 'Inventory', access: 'operator' },
  { href: '/payments/', label: 'Payments', access: 'operator' },
  { href: '/queues/', label: 'Queues', access: 'operator' },
  { href: '/audit/', label: 'Audit', access: 'operator' },
  { href: '/history/', label: 'History', access: 'operator' },
] as const satisfies readonly { href: string; label: string; access: PageAccess }[];

/** Who may open the page at this path (with a trailing slash, as the export serves it). */
export function pageAccess(path: string): PageAccess {
  const p = path.endsWith('/') ? path : `${path}/`;
  if (p === '/orders/view/') return 'customer';
  return PAGES.find((page) => page.href === p)?.access ?? 'none';
}

/** An operator may do everything a customer may. */
export function allows(role: Role | null, access: PageAccess): boolean {
  if (access === 'none') return true;
  if (role === 'operator') return true;
  return role === 'customer' && access === 'customer';
}

/** The pages a reader with this role is offered in the navigation. */
export function navFor(role: Role | null) {
  return role ? PAGES.filter((p) => allows(role, p.access)) : [];
}

/** Where a reader lands: operators on the overview, customers on their orders. */
export function homeOf(role: Role | null): string {
  return role === 'customer' ? '/orders/' : '/';
}

/** The claims of a JWT, unverified: for display only (the API verifies every token it is sent). */
export function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) return {};
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    const claims = JSON.parse(json) as unknown;
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The role an access token grants, from its groups (as Cognito and the local issuer put them). */
export function roleOfToken(accessToken: string): Role | null {
  return roleOf(parseGroups(jwtClaims(accessToken)[GROUPS_CLAIM]));
}
