#!/usr/bin/env python3
"""PyTorch side of scripts/bench-gpu: training-step time and peak memory of the same nets.

The ResNets mirror wtrain's src/models exactly: convs without bias, each followed by
`ReLU -> BatchNorm` (bn_position after_relu, the paper's default) or `BatchNorm -> ReLU`,
the last unit of a residual branch without ReLU, ReLU after the sum, 1x1 conv + BN
projection shortcuts, CIFAR stem (3x3, 16/32/64) for resnet20/32/56 and ImageNet stem
(7x7/2 + 3x3/2 max pool, 64..512) for resnet18/34/50 (50: bottleneck blocks 1x1 -> 3x3
(strided) -> 1x1 with 4x expansion), global average pool, dense head with bias. SGD with
Nesterov momentum 0.9 and weight decay 1e-4 on every parameter.

Rules (the feedback weights B of every conv and dense layer, as in src/rules):
  bp  autograd;
  fa  the backward input gradient goes through a fixed random B;
  ss  through B = sign(W) * sqrt(2 / (k*k*C_out)) (1/sqrt(fan_in) for the dense layer),
      recomputed after every step;
  kp  through B, and B receives W's gradient, its own momentum and the same weight decay;
  wm  through B, and after every step one mirror step (one draw of noise per distinct
      layer input shape, `mirror_batch` examples; y = ReLU(x*W) centred by its batch
      mean; B <- (1 - lambda) B + eta * x^T y / pairs) as src/rules/wm.ts does.

Each step copies a uint8 NHWC batch from pinned host memory and normalises it on the
GPU (wtrain uploads the batch every step too), then forward, backward, SGD.
Precisions: `fp32` turns TF32 off everywhere (what WebGPU computes); `tf32` is PyTorch's
default (cuDNN convolutions in TF32 on Ampere/Hopper); `amp` is autocast to float16 with
a GradScaler (bfloat16 without one on the cpu). Layout NCHW (PyTorch's default).

Per row: `medianMs`, the median of steps each waited for (synchronize); `pipelinedMs`,
the mean of back-to-back steps with one synchronize at the end (as training runs);
`peakAllocatedMb` / `peakReservedMb`: torch.cuda.max_memory_allocated / _reserved over
the row (model, optimizer state and steps), in MiB.

Usage: bench-gpu-torch.py --json OUT --nets '[{"label":..,"arch":..,"width":..,"batch":..,"size":..,
       "classes"?: 10, "mirrorBatch"?: 32}]' [--rules bp,kp] [--precisions tf32,fp32]
       [--steps 10] [--warmup 3] [--bn-position after_relu] [--device cuda|cpu]
A row that fails (out of memory, ...) is recorded with its error and the next one runs.
"""
import argparse
import json
import os
import statistics
import sys
import time

ARCHS = {
    'resnet18': ('imagenet', 'basic', [2, 2, 2, 2], [64, 128, 256, 512]),
    'resnet34': ('imagenet', 'basic', [3, 4, 6, 3], [64, 128, 256, 512]),
    'resnet50': ('imagenet', 'bottleneck', [3, 4, 6, 3], [64, 128, 256, 512]),
    'resnet20': ('cifar', 'basic', [3, 3, 3], [16, 32, 64]),
    'resnet32': ('cifar', 'basic', [5, 5, 5], [16, 32, 64]),
    'resnet56': ('cifar', 'basic', [9, 9, 9], [16, 32, 64]),
}
MEAN = [0.4914, 0.4822, 0.4465]
STD = [0.247, 0.2435, 0.2616]
# WM's mirror step (src/rules/registry.ts defaults, the paper's App. D.2 values).
WM_ETA, WM_LAMBDA, WM_NOISE_STD = 0.1, 0.5, 1.0


def build(torch, arch, width, num_classes, rule, bn_after_relu, amp_dtype):
    nn = torch.nn
    F = torch.nn.functional
    feedback = rule != 'bp'

    def cast(*ts):
        return [t.to(amp_dtype) for t in ts] if amp_dtype is not None else list(ts)

    class FeedbackConvFn(torch.autograd.Function):
        """conv2d whose input gradient goes through B; B's gradient is W's (KP) when B asks for one."""

        @staticmethod
        def forward(ctx, x, w, b, stride, pad):
            xd, wd, bd = cast(x, w, b)
            ctx.save_for_backward(xd, wd, bd)
            ctx.stride, ctx.pad, ctx.dtypes = stride, pad, (x.dtype, w.dtype)
            return F.conv2d(xd, wd, None, stride, pad)

        @staticmethod
        def backward(ctx, dy):
            x, w, b = ctx.saved_tensors
            dx, dw, _ = torch.ops.aten.convolution_backward(
                dy.to(x.dtype), x, b, None, [ctx.stride] * 2, [ctx.pad] * 2, [1, 1], False, [0, 0], 1,
                [ctx.needs_input_grad[0], True, False])
            dx = dx.to(ctx.dtypes[0]) if dx is not None else None
            dw = dw.to(ctx.dtypes[1])
            return dx, dw, dw.clone() if ctx.needs_input_grad[2] else None, None, None

    class FeedbackLinearFn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b, bias):
            xd, wd, bd, biasd = cast(x, w, b, bias)
            ctx.save_for_backward(xd, bd)
            ctx.dtypes = (x.dtype, w.dtype)
            return F.linear(xd, wd, biasd)

        @staticmethod
        def backward(ctx, dy):
            x, b = ctx.saved_tensors
            dy = dy.to(x.dtype)
            dw = (dy.t() @ x).to(ctx.dtypes[1])
            return ((dy @ b).to(ctx.dtypes[0]), dw, dw.clone() if ctx.needs_input_grad[2] else None,
                    dy.sum(0).to(ctx.dtypes[1]))

    def attach_b(module, fan_in):
        """B: a parameter for KP (it is trained), a buffer otherwise (SS's is set by refresh_ss); none for BP."""
        module.in_shape = None
        if not feedback:
            module.B = None
            return
        b = module.weight.detach().clone().normal_(0, (2 / fan_in) ** 0.5)
        if rule == 'kp':
            module.B = nn.Parameter(b)
        else:
            module.register_buffer('B', b)

    class Conv(nn.Module):
        def __init__(self, cin, cout, k, stride):
            super().__init__()
            self.stride, self.pad, self.k, self.cout = stride, (k - 1) // 2, k, cout
            self.weight = nn.Parameter(torch.empty(cout, cin, k, k))
            nn.init.kaiming_normal_(self.weight, mode='fan_in', nonlinearity='relu')
            attach_b(self, cin * k * k)

        def forward(self, x):
            self.in_shape = tuple(x.shape[1:])
            if self.B is None:
                return F.conv2d(x, self.weight, None, self.stride, self.pad)
            return FeedbackConvFn.apply(x, self.weight, self.B, self.stride, self.pad)

        def ss_scale(self):
            return (2 / (self.k * self.k * self.cout)) ** 0.5

    class Dense(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(cout, cin))
            nn.init.kaiming_normal_(self.weight, mode='fan_in', nonlinearity='relu')
            self.bias = nn.Parameter(torch.zeros(cout))
            attach_b(self, cin)
            self.fan_in = cin

        def forward(self, x):
            self.in_shape = tuple(x.shape[1:])
            if self.B is None:
                return F.linear(x, self.weight, self.bias)
            return FeedbackLinearFn.apply(x, self.weight, self.B, self.bias)

        def ss_scale(self):
            return 1 / self.fan_in ** 0.5

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

    class Block(nn.Module):
        def __init__(self, kind, cin, width, stride):
            super().__init__()
            if kind == 'basic':
                cout = width
                branch = unit(cin, cout, 3, stride, True) + unit(cout, cout, 3, 1, False)
            else:
                cout = width * 4
                branch = (unit(cin, width, 1, 1, True) + unit(width, width, 3, stride, True)
                          + unit(width, cout, 1, 1, False))
            self.branch = nn.Sequential(*branch)
            self.shortcut = None
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(*unit(cin, cout, 1, stride, False))
            self.cout = cout

        def forward(self, x):
            s = x if self.shortcut is None else self.shortcut(x)
            return F.relu(self.branch(x) + s)

    stem, kind, blocks, widths = ARCHS[arch]
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
            block = Block(kind, c, ch[stage], 2 if b == 0 and stage > 0 else 1)
            mods.append(block)
            c = block.cout
    mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), Dense(c, num_classes)]
    return nn.Sequential(*mods)


def feedback_layers(model):
    return [m for m in model.modules() if hasattr(m, 'in_shape') and m.B is not None]


def refresh_ss(torch, model):
    with torch.no_grad():
        for m in feedback_layers(model):
            m.B.copy_(torch.sign(m.weight) * m.ss_scale())


def mirror_step(torch, model, mirror_batch, autocast):
    """One WM mirror step (src/rules/wm.ts, one_at_a_time): noise shared by layers with one input shape."""
    F = torch.nn.functional
    draws = {}
    with torch.no_grad(), autocast():
        for m in feedback_layers(model):
            shape = (mirror_batch, *m.in_shape)
            x = draws.get(shape)
            if x is None:
                x = draws[shape] = torch.randn(shape, device=m.weight.device) * WM_NOISE_STD
            if m.weight.dim() == 4:
                z = F.conv2d(x, m.weight, None, m.stride, m.pad)
                y = F.relu(z)
                yc = y - y.mean(0, keepdim=True)
                g = torch.ops.aten.convolution_backward(
                    yc, x.to(yc.dtype), m.weight.to(yc.dtype), None, [m.stride] * 2, [m.pad] * 2, [1, 1],
                    False, [0, 0], 1, [False, True, False])[1]
                pairs = mirror_batch * z.shape[2] * z.shape[3]
            else:
                y = F.relu(F.linear(x, m.weight))
                yc = y - y.mean(0, keepdim=True)
                g = yc.t() @ x.to(yc.dtype)
                pairs = mirror_batch
            m.B.mul_(1 - WM_LAMBDA).add_(g.to(m.B.dtype), alpha=WM_ETA / pairs)


def bench(torch, net, rule, precision, steps, warmup, bn_after_relu, device):
    import contextlib
    tf32 = precision == 'tf32'
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    dev = torch.device(device)
    cuda = dev.type == 'cuda'
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    amp_dtype = None
    if precision == 'amp':
        amp_dtype = torch.float16 if cuda else torch.bfloat16

    def autocast():
        if amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=dev.type, dtype=amp_dtype)

    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    torch.manual_seed(0)
    classes = net.get('classes', 10)
    model = build(torch, net['arch'], net['width'], classes, rule, bn_after_relu, amp_dtype).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
    scaler = None
    if amp_dtype == torch.float16:
        scaler = torch.amp.GradScaler('cuda') if hasattr(torch.amp, 'GradScaler') else torch.cuda.amp.GradScaler()
    mirror_batch = net.get('mirrorBatch') or net['batch']
    n, s = net['batch'], net['size']
    x_host = torch.randint(0, 256, (n, s, s, 3), dtype=torch.uint8)
    if cuda:
        x_host = x_host.pin_memory()
    y = (torch.arange(n) * 7 % classes).to(dev)
    mean = torch.tensor(MEAN, device=dev).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=dev).view(1, 3, 1, 1)
    if rule == 'ss':
        refresh_ss(torch, model)

    def step():
        x = x_host.to(dev, non_blocking=True).permute(0, 3, 1, 2).contiguous().float().div_(255).sub_(mean).div_(std)
        with autocast():
            loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        if rule == 'ss':
            refresh_ss(torch, model)
        elif rule == 'wm':
            mirror_step(torch, model, mirror_batch, autocast)
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
    t = time.perf_counter()
    for _ in range(steps):
        loss = step()
    sync()
    pipelined = (time.perf_counter() - t) * 1000 / steps
    if not torch.isfinite(loss).item():
        raise RuntimeError(f'{net["label"]} {rule} {precision}: loss is not finite')
    ms = statistics.median(times)
    row = {'net': net['label'], 'rule': rule, 'precision': precision, 'medianMs': ms,
           'pipelinedMs': pipelined, 'imgPerSec': n * 1000 / min(ms, pipelined)}
    if cuda:
        row['peakAllocatedMb'] = torch.cuda.max_memory_allocated() / 2 ** 20
        row['peakReservedMb'] = torch.cuda.max_memory_reserved() / 2 ** 20
    if rule == 'wm':
        row['mirrorBatch'] = mirror_batch
    return row


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
    out = {'ok': False, 'rows': [], 'errors': []}

    def write():
        tmp = a.json + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(out, f, indent=2)
        os.replace(tmp, a.json)

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
    write()
    for net in json.loads(a.nets):
        for rule in a.rules.split(','):
            for precision in a.precisions.split(','):
                try:
                    row = bench(torch, net, rule, precision, a.steps, a.warmup, a.bn_position == 'after_relu',
                                a.device)
                    print(f"torch {row['net']} {rule} {precision}: {row['medianMs']:.1f} ms/step "
                          f"(pipelined {row['pipelinedMs']:.1f})", file=sys.stderr)
                    out['rows'].append(row)
                except Exception as e:  # noqa: BLE001 (out of memory, an op missing on this device)
                    msg = f"{net['label']} {rule} {precision}: {type(e).__name__}: {str(e).splitlines()[0][:300]}"
                    print(f'torch {msg}', file=sys.stderr)
                    out['errors'].append(msg)
                write()
                if a.device == 'cuda':
                    torch.cuda.empty_cache()
    write()
    return 0


if __name__ == '__main__':
    sys.exit(main())
