export * from './types';
export * from './envelope';
