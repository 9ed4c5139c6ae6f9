/** Every preset in configs/ loads and validates, plain and --smoke, with the paper's hyperparameters. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { RULE_NAMES, RULES } from '../../src/rules/registry.js';
import { peakLearningRate } from '../../src/train/schedule.js';

const DIR = path.resolve(import.meta.dirname, '../../configs');
const presets = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
/** The paper's ImageNet presets exist for the rules the paper trains. */
const PAPER_RULES = RULES.filter((r) => r.paper).map((r) => r.name);

describe('presets', () => {
  it('include every required family', () => {
    for (const { name: r, paper } of RULES) {
      const families = ['cifar10-resnet20', 'imagewoof-resnet18', 'mnist-resnet20'];
      if (paper) families.push('resnet18', 'resnet50');
      for (const family of families) {
        assert.ok(presets.includes(`${family}-${r}.yaml`), `${family}-${r}.yaml`);
      }
    }
    assert.ok(presets.includes('quickstart.yaml'));
  });

  for (const f of presets) {
    it(`${f} validates, and its smoke variant runs offline on the shipped sample`, () => {
      const plain = loadConfig(path.join(DIR, f)).config;
      const smoke = loadConfig(path.join(DIR, f), { smoke: true }).config;
      const rule = RULE_NAMES.find((r) => f.endsWith(`-${r}.yaml`));
      if (rule) assert.equal(plain.rule.name, rule);
      assert.equal(smoke.data.source, 'mnist');
      assert.ok(
        smoke.data.path && existsSync(path.join(smoke.data.path, 't10k-images-idx3-ubyte.gz')),
        String(smoke.data.path),
      );
      assert.ok(smoke.train.max_steps !== null && smoke.train.max_steps <= 10);
      assert.equal(smoke.model.arch, plain.model.arch);
      assert.equal(smoke.rule.name, plain.rule.name);
    });
  }

  it("resnet18/50 presets carry the paper's hyperparameters (App. D.1-D.2)", () => {
    for (const arch of ['resnet18', 'resnet50']) {
      for (const r of PAPER_RULES) {
        const c = loadConfig(path.join(DIR, `${arch}-${r}.yaml`)).config;
        assert.equal(c.model.arch, arch);
        assert.equal(c.optimizer.momentum, 0.9);
        assert.equal(c.optimizer.nesterov, true);
        assert.equal(c.optimizer.weight_decay, 1e-4);
        assert.equal(c.train.batch_size, 2048);
        assert.equal(c.train.epochs, 90);
        assert.equal(c.schedule.warmup_epochs, 6);
        assert.deepEqual(c.schedule.decay_epochs, [32, 62, 82]);
        assert.equal(c.schedule.decay_factor, 0.1);
        assert.equal(c.rule.wm.eta_b, 0.1);
        assert.equal(c.rule.wm.lambda_wm, 0.5);
        assert.equal(c.rule.wm.mirror_epochs, 2);
        assert.equal(c.model.bn_position, 'after_relu');
        // 0.1 per 256 images (0.8 at 2048); sign-symmetry 0.5 at 2048; both linear in the batch size.
        assert.equal(peakLearningRate(c.optimizer, c.rule, 2048), r === 'ss' ? 0.5 : 0.8);
        assert.equal(peakLearningRate(c.optimizer, c.rule, 256), r === 'ss' ? 0.0625 : 0.1);
      }
    }
  });
});
