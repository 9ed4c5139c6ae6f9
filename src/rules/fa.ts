/**
 * Feedback alignment (Lillicrap et al., eq. 3): δ_l = φ'(y_l) B_{l+1} δ_{l+1} with B
 * random (He-normal like W, independent seed) and fixed for the whole run.
 */
import { FeedbackWeightsRule } from './base.js';

export class FeedbackAlignment extends FeedbackWeightsRule {
  readonly name = 'fa' as const;
}
