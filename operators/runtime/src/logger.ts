/** Structured JSON logs (winston), one line per event, carrying the resource's namespace/name. */
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(component: string, level = process.env.STRATUS_LOG_LEVEL ?? 'info'): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { component },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
