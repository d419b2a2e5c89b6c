export * from './app.js';
export * from './kinds.js';
export * from './kubectlYaml.js';
export * from './session.js';
export * from './live.js';
