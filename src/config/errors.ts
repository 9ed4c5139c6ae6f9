import { UserError } from '../util/errors.js';

/** Where a config value came from: a position in a YAML file, or a `--set` argument. */
export interface SourceLoc {
  file: string;
  line?: number;
  col?: number;
}

export function formatLoc(loc: SourceLoc | undefined): string {
  if (!loc) return '<config>';
  return loc.line === undefined ? loc.file : `${loc.file}:${loc.line}:${loc.col ?? 1}`;
}

/** One problem a user can fix: where it is, which key, what was expected. */
export interface Problem {
  loc?: SourceLoc;
  /** Dotted key path, e.g. `model.width` (empty for whole-file problems). */
  key: string;
  message: string;
}

/** One or more config problems, printed one line each: `file:line:col key: message`. */
export class ConfigError extends UserError {
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: Problem): string {
  const where = formatLoc(p.loc);
  return p.key ? `${where} ${p.key}: ${p.message}` : `${where}: ${p.message}`;
}
