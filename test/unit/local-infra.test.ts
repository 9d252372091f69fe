import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeUpArgs, dependencies } from '../../local/infra';
import { resolveConfig } from '../../shared/config';

const composeFile = path.resolve(import.meta.dirname, '../../docker-compose.localstack.yml');

/** The services of the compose file and their settings, read line by line (two-space YAML). */
function composeServices(): Map<string, string[]> {
  const services = new Map<string, string[]>();
  let current: string | undefined;
  let inServices = false;
  for (const line of readFileSync(composeFile, 'utf8').split('\n')) {
    if (/^services:/.test(line)) inServices = true;
    else if (/^\S/.test(line)) inServices = false;
    else if (inServices && /^ {2}[a-z]+:/.test(line)) services.set((current = line.trim().slice(0, -1)), []);
    else if (inServices && current && /^ {4}\S/.test(line)) services.get(current)!.push(line.trim());
  }
  return services;
}

describe('local infrastructure through docker compose', () => {
  it('starts PostgreSQL, RabbitMQ and Redis by name, never the whole file', async () => {
    const deps = dependencies(await resolveConfig({}));
    expect(deps.map((d) => d.composeService)).toEqual(['postgres', 'rabbitmq', 'redis']);
    const args = composeUpArgs(composeFile, ['rabbitmq']);
    expect(args.slice(0, 6)).toEqual(['compose', '-f', composeFile, 'up', '-d', '--wait']);
    expect(args.slice(6)).toEqual(['rabbitmq']);
    for (const service of deps.map((d) => d.composeService)) expect(composeServices().has(service), service).toBe(true);
  });

  it('keeps LocalStack behind a profile, so a plain `docker compose up` never starts it', () => {
    const services = composeServices();
    expect(services.get('localstack')).toContain('profiles: ["localstack"]');
    for (const [name, settings] of services) if (name !== 'localstack') expect(settings.some((s) => s.startsWith('profiles:')), name).toBe(false);
  });
});
