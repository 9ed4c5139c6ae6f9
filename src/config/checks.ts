/**
 * Checks across keys that the schema cannot express, reported like schema problems
 * (file:line:col key: message).
 */
import { formatLoc, type Problem } from './errors.js';
import type { Config } from './schema.js';
import type { KeyLocs } from './yaml-source.js';

/**
 * `schedule.decay_epochs` in increasing order (fractional epochs are fine), and, when
 * written somewhere rather than left at the paper's default (whose 32/62/82 do not
 * apply to shorter runs by design), none after `train.epochs`: such a decay never happens.
 */
export function scheduleProblems(config: Config, locs: Map<string, KeyLocs>, checkEnd = true): Problem[] {
  const decays = config.schedule.decay_epochs;
  const at = (i: number) =>
    locs.get(`schedule.decay_epochs.${i}`)?.value ??
    locs.get('schedule.decay_epochs')?.value ??
    locs.get('')?.value;
  const problems: Problem[] = [];
  for (let i = 1; i < decays.length; i++) {
    if (decays[i] > decays[i - 1]) continue;
    problems.push({
      loc: at(i),
      key: `schedule.decay_epochs.${i}`,
      message: `expected epochs in increasing order, got ${decays[i]} after ${decays[i - 1]}`,
    });
  }
  if (!checkEnd || !locs.has('schedule.decay_epochs')) return problems;
  const epochs = config.train.epochs;
  const from = locs.get('train.epochs')?.value;
  const set = from ? `, set at ${formatLoc(from)}` : '';
  decays.forEach((d, i) => {
    if (d <= epochs) return;
    problems.push({
      loc: at(i),
      key: `schedule.decay_epochs.${i}`,
      message:
        `expected an epoch <= train.epochs (${epochs}${set}), got ${d}: the decay would never happen ` +
        '(shorten schedule.decay_epochs with train.epochs)',
    });
  });
  return problems;
}
