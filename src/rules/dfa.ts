/**
 * Direct feedback alignment (Nøkland 2016, "Direct Feedback Alignment Provides Learning in
 * Deep Neural Networks", section 2): the output error e = δ_L reaches every hidden layer
 * through its own fixed random matrix, not through the layers above:
 *   δa_l = (B_l e) ⊙ f'(a_l),   δW_l = −δa_l h_{l−1}ᵀ
 * Here every conv/dense layer but the first sends the layers below it
 *   δ_x = reshape(δ_L · B_lᵀ)   (B_l: [size of the layer's input x, classes])
 * in place of F·δ (the paper's eq. 3). That δ passes the weight-free steps below exactly, as
 * under every rule: ReLU (φ' = Nøkland's f'(a_l)), BatchNorm's backward (local: it uses its
 * own batch statistics, App. D.3), pooling and the residual sums. So the layer below learns
 * from its own random projection of δ_L (eq. 4), and an identity shortcut carries the
 * projections that enter the blocks above it, as autograd does in BioTorch's DFA.
 * B_l is drawn like FA's B of a dense layer from x straight to the logits: He-normal,
 * fan-in = size of x; the head's B is then FA's (W's shape), so the head is FA's. The first
 * layer's input is the image: nothing below it learns, so it gets no B.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type FeedbackLayer, heNormal, ownedVariable } from '../models/layers/types.js';
import { UserError } from '../util/errors.js';
import { seedFrom } from '../util/rng.js';
import { RuleBase } from './base.js';
import type { RuleContext } from './types.js';

/** Above this many floats of B in all (1 GiB), refuse: B_l grows with layer input size × classes. */
const MAX_FEEDBACK_FLOATS = 2 ** 28;

export class DirectFeedbackAlignment extends RuleBase {
  readonly name = 'dfa' as const;
  private readonly head: FeedbackLayer;

  constructor(ctx: RuleContext) {
    super();
    const layers = ctx.layers.slice(1);
    this.head = ctx.layers[ctx.layers.length - 1];
    const classes = this.head.fanOut;
    const size = (l: FeedbackLayer) => (l.inputShape as number[]).reduce((a, b) => a * b, 1);
    const total = layers.reduce((s, l) => s + size(l) * classes, 0);
    if (total > MAX_FEEDBACK_FLOATS) {
      const largest = layers.reduce((a, b) => (size(b) > size(a) ? b : a));
      throw new UserError(
        `rule dfa: the feedback matrices would hold ${total.toExponential(2)} floats (${(total / 2 ** 28).toFixed(1)} GiB; ` +
          `${largest.name} alone [${size(largest)}, ${classes}]), above the limit of 1 GiB: each maps the ` +
          `${classes} outputs onto a layer's whole input. Use smaller images, a narrower model or fewer classes.`,
      );
    }
    for (const layer of layers) {
      const shape = [size(layer), classes];
      const init = heNormal(shape, shape[0], seedFrom(ctx.seed, ctx.cfg.feedback_seed, layer.name, 'B'));
      layer.B = { name: `${layer.name}/B`, value: ownedVariable(init), isWeight: true };
    }
  }

  /** Only the head has a kernel of W's shape (FA's); the matrix angle elsewhere is undefined. */
  feedback(layer: FeedbackLayer): tf.Tensor | null {
    return layer === this.head ? (layer.B?.value ?? null) : null;
  }

  override directDelta(layer: FeedbackLayer, deltaL: tf.Tensor): tf.Tensor | null {
    if (layer === this.head || !layer.B) return null;
    const flat = tf.matMul(deltaL as tf.Tensor2D, layer.B.value as tf.Tensor2D, false, true);
    return tf.reshape(flat, [-1, ...(layer.inputShape as number[])]);
  }
}
