export { loadConfig, ConfigError, type Config, type InfluxConfig } from './load-config.js';
export { ENV_VARS, SECRET_ENV_VARS, type EnvVarName } from './env-schema.js';
