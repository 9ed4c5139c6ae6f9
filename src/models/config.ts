import { z } from 'zod';

/** The `model:` section of a run config. */
export const modelConfigSchema = z
  .strictObject({
    /** resnet18/34/50: ImageNet stem (7x7/2 conv + maxpool). resnet20/32/56: CIFAR stem (3x3 conv, widths 16/32/64). */
    arch: z
      .enum(['resnet18', 'resnet34', 'resnet50', 'resnet20', 'resnet32', 'resnet56'])
      .default('resnet20'),
    /** Number of output classes; `auto` takes it from the data set. */
    num_classes: z.union([z.literal('auto'), z.number().int().positive()]).default('auto'),
    /** Paper's default (App. D.3): BatchNorm after the ReLU. `before_relu` is the standard ResNet order. */
    bn_position: z.enum(['after_relu', 'before_relu']).default('after_relu'),
    /** Width multiplier (1 = the published widths); for quick experiments on small machines. */
    width: z.number().positive().default(1),
    /** BatchNorm running-statistics momentum and epsilon. */
    bn_momentum: z.number().min(0).max(1).default(0.9),
    bn_epsilon: z.number().positive().default(1e-5),
  })
  .prefault({});
export type ModelConfig = z.infer<typeof modelConfigSchema>;
