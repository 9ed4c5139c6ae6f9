#!/usr/bin/env python3
"""PyTorch side of scripts/bench-gpu: median training-step time of the same nets.

The ResNets mirror wtrain's src/models exactly: convs without bias, each followed by
`ReLU -> BatchNorm` (bn_position after_relu, the paper's default) or `BatchNorm -> ReLU`,
the last unit of a residual branch without ReLU, ReLU after the sum, 1x1 conv + BN
projection shortcuts, CIFAR stem (3x3, 16/32/64) for resnet20/32/56 and ImageNet stem
(7x7/2 + 3x3/2 max pool, 64..512) for resnet18/34, global average pool, dense head with
bias. SGD with Nesterov momentum 0.9 and weight decay 1e-4 on every parameter.

Rules: bp (autograd) and kp (Kolen-Pollack: the backward input gradient uses feedback
weights B, and B receives W's gradient, its own momentum and the same weight decay).

Each step copies a uint8 NHWC batch from pinned host memory and normalises it on the
GPU (wtrain uploads a normalised batch every step too), then forward, backward, SGD.
Precision `tf32` is PyTorch's default (cuDNN convolutions in TF32 on Ampere/Hopper);
`fp32` turns TF32 off everywhere (what WebGPU computes).

Usage: bench-gpu-torch.py --json OUT --nets '[{"label":..,"arch":..,"width":..,"batch":..,"size":..}]'
       [--rules bp,kp] [--steps 10] [--warmup 3] [--bn-position after_relu]
"""
import argparse
import json
import os
import statistics
import sys
import time

ARCHS = {
    'resnet18': ('imagenet', [2, 2, 2, 2], [64, 128, 256, 512]),
    'resnet34': ('imagenet', [3, 4, 6, 3], [64, 128, 256, 512]),
    'resnet20': ('cifar', [3, 3, 3], [16, 32, 64]),
    'resnet32': ('cifar', [5, 5, 5], [16, 32, 64]),
    'resnet56': ('cifar', [9, 9, 9], [16, 32, 64]),
}
MEAN = [0.4914, 0.4822, 0.4465]
STD = [0.247, 0.2435, 0.2616]


def build(torch, arch, width, num_classes, kp, bn_after_relu):
    nn = torch.nn
    F = torch.nn.functional

    class KPConvFn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b, stride, pad):
            ctx.save_for_backward(x, w, b)
            ctx.stride, ctx.pad = stride, pad
            return F.conv2d(x, w, None, stride, pad)

        @staticmethod
        def backward(ctx, dy):
            x, w, b = ctx.saved_tensors
            # One cuDNN call: grad_input through B (passed as the weight), grad_weight from x and dy.
            dx, dw, _ = torch.ops.aten.convolution_backward(
                dy, x, b, None, [ctx.stride] * 2, [ctx.pad] * 2, [1, 1], False, [0, 0], 1,
                [ctx.needs_input_grad[0], True, False])
            return dx, dw, dw.clone(), None, None

    class KPLinearFn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b, bias):
            ctx.save_for_backward(x, b)
            return F.linear(x, w, bias)

        @staticmethod
        def backward(ctx, dy):
            x, b = ctx.saved_tensors
            dw = dy.t() @ x
            return dy @ b, dw, dw.clone(), dy.sum(0)

    class Conv(nn.Module):
        def __init__(self, cin, cout, k, stride):
            super().__init__()
            self.stride, self.pad = stride, (k - 1) // 2
            self.weight = nn.Parameter(torch.empty(cout, cin, k, k))
            nn.init.kaiming_normal_(self.weight, mode='fan_in', nonlinearity='relu')
            self.B = None
            if kp:
                self.B = nn.Parameter(torch.empty(cout, cin, k, k))
                nn.init.kaiming_normal_(self.B, mode='fan_in', nonlinearity='relu')

        def forward(self, x):
            if self.B is None:
                return F.conv2d(x, self.weight, None, self.stride, self.pad)
            return KPConvFn.apply(x, self.weight, self.B, self.stride, self.pad)

    class Dense(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(cout, cin))
            nn.init.kaiming_normal_(self.weight, mode='fan_in', nonlinearity='relu')
            self.bias = nn.Parameter(torch.zeros(cout))
            self.B = nn.Parameter(self.weight.detach().clone().normal_(0, (2 / cin) ** 0.5)) if kp else None

        def forward(self, x):
            if self.B is None:
                return F.linear(x, self.weight, self.bias)
            return KPLinearFn.apply(x, self.weight, self.B, self.bias)

    def unit(cin, cout, k, stride, relu):
        layers = [Conv(cin, cout, k, stride)]
        bn = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)
        if not relu:
            layers.append(bn)
        elif bn_after_relu:
            layers += [nn.ReLU(inplace=True), bn]
        else:
            layers += [bn, nn.ReLU(inplace=True)]
        return layers

    class Basic(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.branch = nn.Sequential(*unit(cin, cout, 3, stride, True), *unit(cout, cout, 3, 1, False))
            self.shortcut = None
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(*unit(cin, cout, 1, stride, False))

        def forward(self, x):
            s = x if self.shortcut is None else self.shortcut(x)
            return F.relu(self.branch(x) + s)

    stem, blocks, widths = ARCHS[arch]
    ch = [max(1, int(c * width + 0.5)) for c in widths]
    mods = []
    if stem == 'imagenet':
        c = max(1, int(64 * width + 0.5))
        mods += unit(3, c, 7, 2, True) + [nn.MaxPool2d(3, 2, 1)]
    else:
        c = ch[0]
        mods += unit(3, c, 3, 1, True)
    for stage, count in enumerate(blocks):
        for b in range(count):
            stride = 2 if b == 0 and stage > 0 else 1
            mods.append(Basic(c, ch[stage], stride))
            c = ch[stage]
    mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), Dense(c, num_classes)]
    return nn.Sequential(*mods)


def bench(torch, net, rule, precision, steps, warmup, bn_after_relu, device):
    tf32 = precision == 'tf32'
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    dev = torch.device(device)
    cuda = dev.type == 'cuda'
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    torch.manual_seed(0)
    model = build(torch, net['arch'], net['width'], 10, rule == 'kp', bn_after_relu).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
    n, s = net['batch'], net['size']
    x_host = torch.randint(0, 256, (n, s, s, 3), dtype=torch.uint8)
    if cuda:
        x_host = x_host.pin_memory()
    y = (torch.arange(n) * 7 % 10).to(dev)
    mean = torch.tensor(MEAN, device=dev).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=dev).view(1, 3, 1, 1)

    def step():
        x = x_host.to(dev, non_blocking=True).permute(0, 3, 1, 2).contiguous().float().div_(255).sub_(mean).div_(std)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        loss = step()
        sync()
        times.append((time.perf_counter() - t) * 1000)
    if not torch.isfinite(loss).item():
        raise RuntimeError(f'{net["label"]} {rule}: loss is not finite')
    ms = statistics.median(times)
    return {'net': net['label'], 'rule': rule, 'precision': precision, 'medianMs': ms, 'imgPerSec': n * 1000 / ms}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--json', required=True)
    ap.add_argument('--nets', required=True)
    ap.add_argument('--rules', default='bp,kp')
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--precisions', default='tf32,fp32')
    ap.add_argument('--device', default='cuda', help='cuda, or cpu to test this script without a GPU')
    ap.add_argument('--bn-position', default='after_relu', choices=['after_relu', 'before_relu'])
    a = ap.parse_args()
    out = {'ok': False, 'rows': []}

    def write():
        with open(a.json, 'w') as f:
            json.dump(out, f, indent=2)

    try:
        import torch
    except Exception as e:  # noqa: BLE001
        out['reason'] = f'torch is not importable: {e}'
        write()
        return 0
    if a.device == 'cuda' and not torch.cuda.is_available():
        out['reason'] = f'torch {torch.__version__} sees no CUDA device'
        write()
        return 0
    torch.backends.cudnn.benchmark = True
    if a.device == 'cpu' and os.environ.get('OMP_NUM_THREADS'):
        torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))
    name = torch.cuda.get_device_name(0) if a.device == 'cuda' else 'cpu'
    out.update(ok=True, device=name, torch=torch.__version__)
    for net in json.loads(a.nets):
        for rule in a.rules.split(','):
            for precision in a.precisions.split(','):
                row = bench(torch, net, rule, precision, a.steps, a.warmup, a.bn_position == 'after_relu', a.device)
                print(f"torch {row['net']} {rule} {precision}: {row['medianMs']:.1f} ms/step", file=sys.stderr)
                out['rows'].append(row)
                write()
                if a.device == 'cuda':
                    torch.cuda.empty_cache()
    write()
    return 0


if __name__ == '__main__':
    sys.exit(main())
