/**
 * The local issuer's users, one of each role (two customers, to show one cannot see the other's
 * orders). Subjects are fixed UUIDs because a customer's subject is its customerId.
 * Local development only: these passwords open nothing but this machine's runtime.
 */
import type { Role } from '../../shared/auth/principal';

export interface LocalUser {
  sub: string;
  email: string;
  name: string;
  password: string;
  role: Role;
}

export const LOCAL_USERS: readonly LocalUser[] = [
  { sub: '0905e000-0000-4000-8000-000000000001', email: 'ops@eventflow.test', name: 'Olga Operator', password: 'ops-password', role: 'operator' },
  { sub: 'a11ce000-0000-4000-8000-000000000002', email: 'alice@eventflow.test', name: 'Alice Customer', password: 'alice-password', role: 'customer' },
  { sub: 'b0b00000-0000-4000-8000-000000000003', email: 'bob@eventflow.test', name: 'Bob Customer', password: 'bob-password', role: 'customer' },
];

export const userBySub = (sub: string) => LOCAL_USERS.find((u) => u.sub === sub);
export const userByEmail = (email: string) => LOCAL_USERS.find((u) => u.email.toLowerCase() === email.trim().toLowerCase());
